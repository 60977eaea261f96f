// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {VerityConsumer} from "../consumer/VerityConsumer.sol";
import {IInferenceCoordinator} from "../interfaces/IInferenceCoordinator.sol";
import {Tensors} from "../libraries/Tensors.sol";
import {ResultCodes} from "../libraries/ResultCodes.sol";

/// @title RiskLimitVault
/// @notice Example consumer: a lending vault that sets each borrower's credit limit from a Verity risk model.
/// A borrower asks for an assessment with four int8 features (e.g. income band, debt ratio, history length,
/// delinquencies); the model answers one int32 tensor of three class scores (low, medium, high risk); the vault
/// maps the arg-max class to a limit and lets the borrower draw up to it.
/// @dev The vault pays the oracle fee from its prepaid balance at the coordinator (funded by its owner), never more
/// than the owner's `maxFeeWei` per assessment; anyone may cancel an assessment nobody served (its fee returns to
/// that balance), and the owner withdraws the balance and the lending liquidity, so no money is stuck in it. The
/// callback only stores the new limit: cheap, bounded and non-reverting, as VerityConsumer asks. EXAMPLE ONLY, not
/// for production: the features are self-reported by the borrower and loans are unsecured, so anyone can pick
/// features that score low risk and borrow without repaying. A real vault takes features from an attested source and
/// requires collateral; this contract shows the oracle integration (request, callback, decoding, stale-request
/// recovery, the oracle balance's way back out), not credit policy.
contract RiskLimitVault is VerityConsumer, Ownable {
    using SafeERC20 for IERC20;

    /// @notice Emitted when a borrower asks for an assessment.
    event AssessmentRequested(address indexed borrower, uint256 indexed requestId);
    /// @notice Emitted when an assessment settles and sets a borrower's limit.
    event LimitSet(address indexed borrower, uint256 indexed requestId, uint8 riskClass, uint256 limitWei);
    /// @notice Emitted when an assessment came back without a usable score.
    event AssessmentFailed(address indexed borrower, uint256 indexed requestId, uint8 resultCode);
    /// @notice Emitted on borrow.
    event Borrowed(address indexed borrower, uint256 amountWei);
    /// @notice Emitted on repay.
    event Repaid(address indexed borrower, uint256 amountWei);
    /// @notice Emitted when the owner takes lending liquidity out.
    event LiquidityWithdrawn(address indexed to, uint256 amountWei);

    /// @notice The borrower already has an assessment in flight.
    error RiskLimitVaultAssessmentPending(uint256 requestId);
    /// @notice The borrow would exceed the borrower's limit.
    error RiskLimitVaultLimitExceeded(uint256 have, uint256 want);
    /// @notice The request was not made by this vault.
    error RiskLimitVaultNotOurRequest(uint256 requestId);
    /// @notice More repaid than owed.
    error RiskLimitVaultRepayTooLarge(uint256 have, uint256 want);

    /// @notice Gas the callback needs (decode one int32 tensor of 3 elements and store two words).
    uint32 public constant CALLBACK_GAS_LIMIT = 120_000;
    /// @notice Seconds before an unanswered assessment can be cancelled.
    uint40 public constant ASSESSMENT_TIMEOUT_SECONDS = 1 hours;

    IERC20 private immutable i_asset;
    bytes32 private immutable i_modelId;
    uint96 private immutable i_maxFeeWei;
    uint256[3] private s_limitByClass;

    mapping(address borrower => uint256) private s_limitWei;
    mapping(address borrower => uint256) private s_debtWei;
    mapping(address borrower => uint256) private s_pendingRequest;
    mapping(uint256 requestId => address) private s_borrowerOf;

    /// @param coordinator_ The Verity coordinator.
    /// @param modelId The risk model.
    /// @param asset The token lent.
    /// @param limitByClass Credit limit for risk classes 0 (low), 1 (medium), 2 (high).
    /// @param maxFeeWei The most one assessment may cost the vault.
    /// @param owner_ Owner (funds the oracle balance and the vault's liquidity).
    constructor(
        IInferenceCoordinator coordinator_,
        bytes32 modelId,
        IERC20 asset,
        uint256[3] memory limitByClass,
        uint96 maxFeeWei,
        address owner_
    ) VerityConsumer(coordinator_) Ownable(owner_) {
        i_modelId = modelId;
        i_maxFeeWei = maxFeeWei;
        i_asset = asset;
        s_limitByClass = limitByClass;
    }

    /// @notice Asks the risk model for the caller's limit.
    /// @param features Four int8 features.
    /// @return requestId The oracle request.
    function requestAssessment(int8[4] calldata features) external returns (uint256 requestId) {
        uint256 pending = s_pendingRequest[msg.sender];
        // A pending request is cleared by its callback or its cancel; one whose callback failed ended without
        // either and no longer blocks a new assessment.
        if (pending != 0 && !coordinator().callbackFailed(pending)) {
            revert RiskLimitVaultAssessmentPending(pending);
        }
        int256[] memory data = new int256[](4);
        for (uint256 i = 0; i < 4; ++i) data[i] = features[i];
        uint32[] memory shape = new uint32[](2);
        shape[0] = 1;
        shape[1] = 4;
        bytes memory input = Tensors.encode(Tensors.single(Tensors.fromInt256(Tensors.DTYPE_INT8, shape, data)));
        requestId = _requestInference(i_modelId, input, CALLBACK_GAS_LIMIT, ASSESSMENT_TIMEOUT_SECONDS, i_maxFeeWei);
        s_pendingRequest[msg.sender] = requestId;
        s_borrowerOf[requestId] = msg.sender;
        emit AssessmentRequested(msg.sender, requestId);
    }

    /// @notice Cancels an assessment nobody served before its deadline and clears the borrower's pending state;
    /// the fee returns to the vault's prepaid balance. Anyone may call (the coordinator checks the deadline).
    /// @param request The request as emitted by the coordinator.
    function cancelAssessment(IInferenceCoordinator.Request calldata request) external {
        if (request.consumer != address(this)) revert RiskLimitVaultNotOurRequest(request.requestId);
        _cancelRequest(request);
        address borrower = s_borrowerOf[request.requestId];
        delete s_borrowerOf[request.requestId];
        delete s_pendingRequest[borrower];
    }

    /// @notice Borrows up to the caller's limit.
    /// @param amountWei Amount.
    function borrow(uint256 amountWei) external {
        uint256 debt = s_debtWei[msg.sender] + amountWei;
        uint256 limit = s_limitWei[msg.sender];
        if (debt > limit) revert RiskLimitVaultLimitExceeded(limit, debt);
        s_debtWei[msg.sender] = debt;
        i_asset.safeTransfer(msg.sender, amountWei);
        emit Borrowed(msg.sender, amountWei);
    }

    /// @notice Repays debt.
    /// @param amountWei Amount.
    function repay(uint256 amountWei) external {
        uint256 debt = s_debtWei[msg.sender];
        if (amountWei > debt) revert RiskLimitVaultRepayTooLarge(debt, amountWei);
        s_debtWei[msg.sender] = debt - amountWei;
        i_asset.safeTransferFrom(msg.sender, address(this), amountWei);
        emit Repaid(msg.sender, amountWei);
    }

    /// @notice Withdraws the vault's prepaid oracle balance (unspent deposits, fees of cancelled assessments, refunds
    /// of results a dispute proved wrong). Owner only.
    /// @param to Recipient.
    /// @param amountWei Amount.
    function withdrawOracleBalance(address to, uint256 amountWei) external onlyOwner {
        _withdrawBalance(to, amountWei);
    }

    /// @notice Takes lending liquidity (the asset the vault holds: the owner's funding and repayments) out. Owner only.
    /// @param to Recipient.
    /// @param amountWei Amount of the asset.
    function withdrawLiquidity(address to, uint256 amountWei) external onlyOwner {
        i_asset.safeTransfer(to, amountWei);
        emit LiquidityWithdrawn(to, amountWei);
    }

    /// @notice A borrower's credit limit.
    /// @param borrower The borrower.
    /// @return Limit in asset base units.
    function limitOf(address borrower) external view returns (uint256) {
        return s_limitWei[borrower];
    }

    /// @notice A borrower's debt.
    /// @param borrower The borrower.
    /// @return Debt in asset base units.
    function debtOf(address borrower) external view returns (uint256) {
        return s_debtWei[borrower];
    }

    /// @notice A borrower's assessment in flight (0 when none).
    /// @param borrower The borrower.
    /// @return The request id.
    function pendingRequestOf(address borrower) external view returns (uint256) {
        return s_pendingRequest[borrower];
    }

    /// @notice The risk class a model output encodes: the arg-max of the three scores in output tensor 0.
    /// @param output Canonical tensor-list encoding of the model's outputs.
    /// @return riskClass 0 (low), 1 (medium) or 2 (high).
    function riskClassOf(bytes calldata output) external pure returns (uint8 riskClass) {
        Tensors.validate(output);
        int256 best = Tensors.elementAt(output, 0, 0);
        for (uint256 i = 1; i < 3; ++i) {
            int256 score = Tensors.elementAt(output, 0, i);
            if (score > best) {
                best = score;
                riskClass = uint8(i);
            }
        }
    }

    /// @inheritdoc VerityConsumer
    function _onInferenceResult(uint256 requestId, uint8 resultCode, bytes calldata output) internal override {
        address borrower = s_borrowerOf[requestId];
        delete s_borrowerOf[requestId];
        delete s_pendingRequest[borrower];
        if (resultCode != ResultCodes.OK) {
            emit AssessmentFailed(borrower, requestId, resultCode);
            return;
        }
        // Decoding runs in an external self-call so that a malformed output (possible for an unverified float
        // model) ends in AssessmentFailed instead of a reverted callback that would leave the borrower pending.
        uint8 riskClass;
        try this.riskClassOf(output) returns (uint8 decoded) {
            riskClass = decoded;
        } catch {
            emit AssessmentFailed(borrower, requestId, resultCode);
            return;
        }
        uint256 limit = s_limitByClass[riskClass];
        s_limitWei[borrower] = limit;
        emit LimitSet(borrower, requestId, riskClass, limit);
    }
}
