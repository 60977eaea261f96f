// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IInferenceCoordinator} from "./interfaces/IInferenceCoordinator.sol";
import {IInferenceConsumer} from "./interfaces/IInferenceConsumer.sol";
import {IModelRegistry} from "./interfaces/IModelRegistry.sol";
import {IStaking} from "./interfaces/IStaking.sol";
import {ResultCodes} from "./libraries/ResultCodes.sol";
import {CoordinatorStorage} from "./coordinator/CoordinatorStorage.sol";
import {DisputeLogic} from "./coordinator/DisputeLogic.sol";

/// @title InferenceCoordinator
/// @notice Verity's request/result lifecycle: prepaid fees, assignment, submission (direct or by signed
/// attestation), challenge window, settlement with an exactly-metered consumer callback, cancellation, disputes
/// handed to per-mode resolvers, and equivocation slashing.
/// @dev SECURITY CONSIDERATIONS
/// - Who can call what. Anyone: deposit, request (the caller is the consumer), finalize, commit a challenge and
///   reveal it (challenge, with a bond), expire a stale dispute, prove equivocation, relay attested results. The
///   consumer: cancel after the deadline. Registered operators with free collateral: submit (only the assigned one
///   during the exclusive window). The resolver of a mode: resolveDispute for that mode. The owner: parameters
///   within hard-coded bounds, the treasury, and each mode's resolver once (resolvers are immutable, so the owner
///   cannot later swap in a resolver that slashes at will). Put the owner behind a timelock in production.
/// - What is trusted. The registry, staking contract and stake token given at deployment; resolvers for the modes
///   they are set for. The registry writes the coordinator's copy of each model's terms (`syncModelTerms`) with
///   every change it makes, so requests read one slot of this contract rather than call the registry. The
///   staking contract likewise writes each operator's free stake and each model's operator set
///   (`creditFreeStake`, `debitFreeStake`, `setRegistered`), so requests and submissions never call it. These
///   entry points are outside the reentrancy lock (the staking contract calls them from inside a slash the
///   coordinator started): only their writer may call them, and they call nothing. Nothing about consumers or
///   operators is trusted.
/// - Storage holds one hash per live request; callers re-supply the request and the hash check makes every field
///   authentic. Status is part of the hashed struct, so a stale struct can never act twice: finalize, cancel and
///   the dispute paths delete or replace the hash before any external call (double finalization, late
///   submission and replays all fail the hash or the status check).
/// - Callbacks get exactly `callbackGasLimit` gas (the 63/64 rule is checked before the call, as in Chainlink),
///   copy no return data, and are failure-isolated: a reverting or gas-burning consumer cannot block settlement;
///   the failure is stored and emitted. All state-changing entry points but the registry's and the staking
///   contract's share one transient reentrancy lock, so a consumer cannot re-enter the coordinator from its
///   callback (requesting again from a callback is refused too). Those that make no external call (request,
///   cancel, submissions, challenge commitments) only check that the lock is free (`nonReentrantView`): nothing
///   can re-enter them, and setting a lock nobody could meet costs gas on every request and result.
/// - Attestations are EIP-712 typed data bound to this chain id and contract and to a request id; ECDSA.recover
///   rejects malleable (high-s) signatures. Equivocation needs no re-execution; each (operator, model, input) is
///   punished once (per request for QUORUM float models, whose outputs may legitimately drift across runtimes).
///   A wrong off-chain attestation of a REEXECUTION model is a fraud proof: the REEXECUTION resolver re-executes
///   and the operator is slashed like an equivocation, sharing its once-per-(operator, model, input) record.
/// - Economics: a winning challenger gets its bond back plus at most half of the slash, so challenging yourself
///   always loses at least half the collateral; a losing challenger's bond goes mostly to the operator it delayed
///   the first time, wholly to the treasury after that. Bonds have a floor, so tiny disputes cannot grief, and are
///   at most the collateral. What decides a request's dispute is fixed when it is made: its bond is in the struct,
///   the reward splits are fixed at deployment, so the owner cannot shield a result by raising the bond.
/// - Challenges are commit-reveal. `challenge` must reveal the caller's own commitment, keccak256(abi.encode(
///   requestId, msg.sender, salt)), made in an earlier block, and uses it up: a challenge copied from the mempool
///   and sent from another address (a bot, or the operator caught lying) matches no commitment, so it cannot take
///   the honest challenger's reward. Commitments carry no bond: the target is hidden, so no bond could be priced for
///   it. Still open (docs/protocol.md, Known limitations): an operator can commit challenges of its own results as
///   it submits them, at no risk, and win the race to reveal; it still loses at least half its collateral.
/// - Bounded settlement: a conclusive rejection (REEXECUTION proves the result) closes the window at once; an
///   inconclusive one restarts it so other challengers still get a full window (a colluding loser cannot shield a
///   wrong result), at most MAX_DISPUTE_ROUNDS - 1 times, after which the request is voided: no result stays
///   unsettled past `settlementBound(request)`, known at request time.
/// - The dispute and proof paths live in the linked library DisputeLogic (DELEGATECALL, same storage and
///   events), so that this contract keeps headroom under EIP-170.
/// - Known trade-offs: the full request struct is calldata on every call (cheaper than storage); a cancelled
///   request gets no callback (only its consumer can cancel it); a dispute nobody resolves within
///   `disputeTimeoutSeconds` is voided with no slash (fail-safe against a stuck resolver).
/// - Collateral: a submission locks the model's collateral out of the operator's free stake, kept here in its
///   account slot next to its fee balance; settlement releases it and pays the fee in one write; a slash
///   releases it and has the staking contract take exactly that much out of free stake. Free stake plus locked
///   collateral is always the operator's active stake in the staking contract, which reads free stake here
///   (`freeStakeOf`), so it is one number everywhere.
/// - Assignment: the exclusive window's holder is fixed in the request when it is made (the consumer's choice,
///   else the rotation's pick if it can back the request then), so operator-set changes cannot move it.
contract InferenceCoordinator is IInferenceCoordinator, EIP712, Ownable2Step, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    bytes32 private constant ATTESTATION_TYPEHASH = keccak256(
        "Attestation(uint256 requestId,bytes32 modelId,bytes32 inputHash,uint8 resultCode,bytes32 outputHash,"
        "bytes32 traceCommitment)"
    );

    uint256 private constant BPS = CoordinatorStorage.BPS;

    /// @notice Hard bounds on what the owner may set.
    uint16 public constant MAX_PROTOCOL_FEE_BPS = CoordinatorStorage.MAX_PROTOCOL_FEE_BPS;
    uint16 public constant MAX_CHALLENGER_REWARD_BPS = CoordinatorStorage.MAX_CHALLENGER_REWARD_BPS;
    uint32 public constant MAX_CALLBACK_GAS_LIMIT = CoordinatorStorage.MAX_CALLBACK_GAS_LIMIT;
    uint32 public constant MAX_INPUT_BYTES = CoordinatorStorage.MAX_INPUT_BYTES;
    uint32 public constant MAX_DEADLINE_SECONDS = CoordinatorStorage.MAX_DEADLINE_SECONDS;
    /// @notice Disputes a result can survive before its request is voided instead of held longer (inconclusive
    /// verdicts only; a conclusive one settles the question at once).
    uint8 public constant MAX_DISPUTE_ROUNDS = 3;

    IERC20 private immutable i_token;
    IModelRegistry private immutable i_registry;
    IStaking private immutable i_staking;
    uint40 private immutable i_disputeTimeoutSeconds;
    /// @dev Copy of the fixed params.minChallengeBondWei, so that requests do not read the second Params slot.
    uint96 private immutable i_minChallengeBondWei;

    /// @dev All state, shared with the linked DisputeLogic library (CoordinatorStorage.Layout).
    CoordinatorStorage.Layout private s_state;

    /// @param registry_ The model registry.
    /// @param staking_ The staking contract; its token is also the fee and bond token.
    /// @param disputeTimeout How long a dispute may stay open.
    /// @param owner_ The owner (parameters, treasury, resolvers).
    /// @param treasury_ Receives protocol fees and the non-reward part of slashes and lost bonds.
    /// @param params Initial parameters.
    constructor(
        IModelRegistry registry_,
        IStaking staking_,
        uint40 disputeTimeout,
        address owner_,
        address treasury_,
        Params memory params
    ) EIP712("Verity", "1") Ownable(owner_) {
        if (disputeTimeout == 0) revert CoordinatorInvalidParam("disputeTimeoutSeconds");
        // Unbonding must outlast the longest challenge window plus the longest dispute, or an operator could
        // withdraw stake that a pending fault should cost it.
        if (
            uint256(staking_.unbondingDelaySeconds()) <=
            uint256(registry_.maxChallengeWindowSeconds()) + uint256(disputeTimeout)
        ) revert CoordinatorInvalidParam("unbondingDelaySeconds");
        // The coordinator keeps a model's window in 24 bits, next to its terms and operator count.
        if (registry_.maxChallengeWindowSeconds() > type(uint24).max) {
            revert CoordinatorInvalidParam("maxChallengeWindowSeconds");
        }
        // Staking writes free stake and sets into its registry's coordinator: both must share one registry.
        if (staking_.registry() != address(registry_)) revert CoordinatorInvalidParam("staking");
        i_registry = registry_;
        i_staking = staking_;
        i_token = IERC20(staking_.stakeToken());
        i_disputeTimeoutSeconds = disputeTimeout;
        i_minChallengeBondWei = params.minChallengeBondWei;
        _setTreasury(treasury_);
        DisputeLogic.setParams(s_state, params, true);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Balances
    // ---------------------------------------------------------------------------------------------------------

    /// @inheritdoc IInferenceCoordinator
    function deposit(address account, uint256 amountWei) external nonReentrant {
        if (account == address(0) || amountWei == 0) revert CoordinatorZeroValue();
        CoordinatorStorage.credit(s_state, account, amountWei);
        i_token.safeTransferFrom(msg.sender, address(this), amountWei);
        emit Deposited(account, msg.sender, amountWei);
    }

    /// @inheritdoc IInferenceCoordinator
    function withdraw(address to, uint256 amountWei) external nonReentrant {
        if (to == address(0) || amountWei == 0) revert CoordinatorZeroValue();
        CoordinatorStorage.Account storage account = s_state.accounts[msg.sender];
        uint256 balance = account.balanceWei;
        if (balance < amountWei) revert CoordinatorInsufficientBalance(balance, amountWei);
        // Cannot underflow (checked above) and fits uint120 because balance does.
        account.balanceWei = uint120(balance - amountWei);
        i_token.safeTransfer(to, amountWei);
        emit Withdrawn(msg.sender, to, amountWei);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Request
    // ---------------------------------------------------------------------------------------------------------

    /// @inheritdoc IInferenceCoordinator
    function requestInference(
        bytes32 modelId,
        bytes calldata input,
        RequestOptions calldata options
    ) external nonReentrantView returns (uint256 requestId) {
        CoordinatorStorage.ModelSlot memory terms = _modelTerms(modelId);
        if (!terms.active) revert CoordinatorModelInactive(modelId);
        // No check of the mode's resolver: the registry registers a model only once its mode's resolver accepted
        // it, and resolvers are immutable once set, so every model a request can name is disputable.

        // Every field a request reads, in one slot: one cold read.
        CoordinatorStorage.RequestParams memory params = s_state.params;
        if (options.callbackGasLimit > params.maxCallbackGasLimit) {
            revert CoordinatorCallbackGasTooHigh(options.callbackGasLimit, params.maxCallbackGasLimit);
        }
        if (input.length == 0 || input.length > params.maxInputBytes) {
            revert CoordinatorInvalidInputLength(input.length, params.maxInputBytes);
        }
        uint40 now_ = uint40(block.timestamp);
        {
            uint40 minDeadline = now_ + params.minDeadlineSeconds;
            uint40 maxDeadline = now_ + params.maxDeadlineSeconds;
            if (options.deadline < minDeadline || options.deadline > maxDeadline) {
                revert CoordinatorInvalidDeadline(options.deadline, minDeadline, maxDeadline);
            }
        }
        uint256 fee = _fee(terms.feeWei, options.callbackGasLimit, params.callbackGasFeeWei);
        if (fee > options.maxFeeWei) revert CoordinatorFeeAboveMax(fee, options.maxFeeWei);

        CoordinatorStorage.Account memory account = s_state.accounts[msg.sender];
        if (account.balanceWei < fee) revert CoordinatorInsufficientBalance(account.balanceWei, fee);
        // Cannot underflow (checked above); a uint40 nonce (10^12 requests) cannot realistically overflow.
        s_state.accounts[msg.sender] = CoordinatorStorage.Account({
            balanceWei: account.balanceWei - uint120(fee),
            requestNonce: account.requestNonce + 1,
            freeStakeWei: account.freeStakeWei
        });
        requestId = uint256(keccak256(abi.encode(msg.sender, account.requestNonce)));

        Request memory request = Request({
            requestId: requestId,
            modelId: modelId,
            inputHash: keccak256(input),
            consumer: msg.sender,
            feeWei: uint96(fee),
            assignedOperator: options.preferredOperator,
            collateralWei: terms.collateralWei,
            // Fits: fee <= maxFeeWei (a uint96) and protocolFeeBps < BPS, so both casts are in range.
            protocolFeeWei: uint96((fee * params.protocolFeeBps) / BPS),
            deadline: options.deadline,
            exclusiveUntil: now_ + params.exclusiveWindowSeconds,
            callbackGasLimit: options.callbackGasLimit,
            challengeWindowSeconds: terms.challengeWindowSeconds,
            bondWei: _bond(terms.collateralWei, params.challengeBondBps),
            mode: terms.mode,
            status: RequestStatus.Requested,
            disputeRounds: 0,
            operator: address(0),
            resultCode: 0,
            challengeEndsAt: 0,
            outputHash: bytes32(0),
            traceCommitment: bytes32(0)
        });
        // The exclusive window's holder is fixed now, over the operator set as it is now: registering or
        // unregistering identities later cannot move it. A pick that could not lock the collateral now gets no
        // window (the request is open to all at once) rather than idling through one.
        if (request.assignedOperator != address(0)) {
            _requireRegistered(modelId, request.assignedOperator);
        } else {
            // The rule `operatorAt` reports, written out here: a call would cost every request 55 gas.
            uint256 count = terms.operatorCount;
            address pick = count == 0 ? address(0) : s_state.operators[modelId][requestId % count];
            if (pick != address(0) && s_state.accounts[pick].freeStakeWei >= terms.collateralWei) {
                request.assignedOperator = pick;
            } else {
                request.exclusiveUntil = now_;
            }
        }
        CoordinatorStorage.place(s_state, msg.sender, requestId, CoordinatorStorage.hashMemory(request));
        emit InferenceRequested(requestId, modelId, msg.sender, _terms(request), input);
    }

    /// @inheritdoc IInferenceCoordinator
    function cancelRequest(Request calldata request) external nonReentrantView {
        bool home = CoordinatorStorage.requireCommitment(s_state, request, RequestStatus.Requested);
        if (msg.sender != request.consumer) revert CoordinatorNotConsumer(msg.sender, request.consumer);
        if (block.timestamp <= request.deadline) {
            revert CoordinatorDeadlineNotPassed(uint40(block.timestamp), request.deadline);
        }
        CoordinatorStorage.clear(s_state, request.consumer, request.requestId, home);
        CoordinatorStorage.credit(s_state, request.consumer, request.feeWei);
        emit RequestCancelled(request.requestId, request.consumer, request.feeWei);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Submit
    // ---------------------------------------------------------------------------------------------------------

    /// @inheritdoc IInferenceCoordinator
    function submitResult(
        Request calldata request,
        uint8 resultCode,
        bytes calldata output,
        bytes32 traceCommitment
    ) external nonReentrantView {
        bool home = CoordinatorStorage.requireCommitment(s_state, request, RequestStatus.Requested);
        _submit(request, home, msg.sender, resultCode, keccak256(output), traceCommitment, output);
    }

    /// @inheritdoc IInferenceCoordinator
    function submitAttestedResults(AttestedResult[] calldata items) external nonReentrantView {
        if (items.length == 0) revert CoordinatorEmptyBatch();
        for (uint256 i = 0; i < items.length; ++i) {
            AttestedResult calldata item = items[i];
            Request calldata request = item.request;
            (bool found, bool home) = CoordinatorStorage.findCommitment(s_state, request);
            if (!found) {
                emit BatchItemSkipped(request.requestId);
                continue;
            }
            CoordinatorStorage.requireStatus(request, RequestStatus.Requested);
            bytes32 outputHash = keccak256(item.output);
            address operator = ECDSA.recover(
                _attestationDigest(
                    Attestation({
                        requestId: request.requestId,
                        modelId: request.modelId,
                        inputHash: request.inputHash,
                        resultCode: item.resultCode,
                        outputHash: outputHash,
                        traceCommitment: item.traceCommitment
                    })
                ),
                item.signature
            );
            _submit(request, home, operator, item.resultCode, outputHash, item.traceCommitment, item.output);
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Finalize
    // ---------------------------------------------------------------------------------------------------------

    /// @inheritdoc IInferenceCoordinator
    function finalize(Request calldata request, bytes calldata output) external nonReentrant {
        _finalize(request, CoordinatorStorage.requireCommitment(s_state, request, RequestStatus.Submitted), output);
    }

    /// @inheritdoc IInferenceCoordinator
    function finalizeBatch(Settlement[] calldata items) external nonReentrant {
        if (items.length == 0) revert CoordinatorEmptyBatch();
        for (uint256 i = 0; i < items.length; ++i) {
            Request calldata request = items[i].request;
            (bool found, bool home) = CoordinatorStorage.findCommitment(s_state, request);
            if (!found) {
                emit BatchItemSkipped(request.requestId);
                continue;
            }
            CoordinatorStorage.requireStatus(request, RequestStatus.Submitted);
            _finalize(request, home, items[i].output);
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Disputes and proofs (DisputeLogic)
    // ---------------------------------------------------------------------------------------------------------

    /// @inheritdoc IInferenceCoordinator
    function commitChallenge(bytes32 commitment) external nonReentrantView {
        DisputeLogic.commitChallenge(s_state, commitment);
    }

    /// @inheritdoc IInferenceCoordinator
    function challenge(Request calldata request, bytes calldata evidence, bytes32 salt) external nonReentrant {
        DisputeLogic.challenge(s_state, _env(), request, evidence, salt);
    }

    /// @inheritdoc IInferenceCoordinator
    function resolveDispute(Request calldata request, Verdict calldata verdict) external nonReentrant {
        DisputeLogic.resolveDispute(s_state, _env(), request, verdict);
    }

    /// @inheritdoc IInferenceCoordinator
    function expireDispute(Request calldata request) external nonReentrant {
        DisputeLogic.expireDispute(s_state, _env(), request);
    }

    /// @inheritdoc IInferenceCoordinator
    function proveEquivocation(
        Attestation calldata first,
        bytes calldata firstSignature,
        Attestation calldata second,
        bytes calldata secondSignature
    ) external nonReentrant {
        DisputeLogic.slashEquivocation(
            s_state,
            _env(),
            recoverAttester(first, firstSignature),
            recoverAttester(second, secondSignature),
            first,
            second
        );
    }

    /// @inheritdoc IInferenceCoordinator
    function proveFraud(
        Attestation calldata attestation,
        bytes calldata signature,
        bytes calldata input
    ) external nonReentrant {
        if (attestation.requestId != 0) revert CoordinatorNotOffchainAttestation(attestation.requestId);
        DisputeLogic.proveFraud(s_state, _env(), recoverAttester(attestation, signature), attestation, input);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Owner
    // ---------------------------------------------------------------------------------------------------------

    /// @inheritdoc IInferenceCoordinator
    function syncModelTerms(bytes32 modelId, IModelRegistry.ModelTerms calldata terms) external {
        if (msg.sender != address(i_registry)) revert CoordinatorNotRegistry(msg.sender);
        // The operator set's size is the staking contract's to keep.
        CoordinatorStorage.ModelSlot storage model = s_state.models[modelId];
        model.feeWei = terms.feeWei;
        model.collateralWei = terms.collateralWei;
        // Fits: the registry refuses windows above its maximum, which the constructor checked fits 24 bits.
        model.challengeWindowSeconds = uint24(terms.challengeWindowSeconds);
        model.mode = terms.mode;
        model.active = terms.active;
    }

    /// @inheritdoc IInferenceCoordinator
    function creditFreeStake(address operator, uint96 amountWei) external {
        _onlyStaking();
        s_state.accounts[operator].freeStakeWei += amountWei;
    }

    /// @inheritdoc IInferenceCoordinator
    function debitFreeStake(address operator, uint96 amountWei) external {
        _onlyStaking();
        s_state.accounts[operator].freeStakeWei -= amountWei;
    }

    /// @inheritdoc IInferenceCoordinator
    function setRegistered(bytes32 modelId, address operator, bool registered) external {
        _onlyStaking();
        DisputeLogic.setRegistered(s_state, modelId, operator, registered);
    }

    /// @inheritdoc IInferenceCoordinator
    function setResolver(IModelRegistry.VerificationMode mode, address resolver) external onlyOwner {
        if (resolver == address(0)) revert CoordinatorZeroValue();
        address current = s_state.resolvers[mode];
        if (current != address(0)) revert CoordinatorResolverAlreadySet(mode, current);
        s_state.resolvers[mode] = resolver;
        emit ResolverSet(mode, resolver);
    }

    /// @inheritdoc IInferenceCoordinator
    function setParams(Params calldata params) external onlyOwner {
        DisputeLogic.setParams(s_state, params, false);
    }

    /// @inheritdoc IInferenceCoordinator
    function setTreasury(address treasury_) external onlyOwner {
        _setTreasury(treasury_);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Views
    // ---------------------------------------------------------------------------------------------------------

    /// @inheritdoc IInferenceCoordinator
    function attestationDigest(Attestation calldata attestation) public view returns (bytes32) {
        return _attestationDigest(attestation);
    }

    /// @inheritdoc IInferenceCoordinator
    function recoverAttester(Attestation calldata attestation, bytes calldata signature) public view returns (address) {
        return ECDSA.recover(attestationDigest(attestation), signature);
    }

    /// @inheritdoc IInferenceCoordinator
    function isCommitted(Request calldata request) external view returns (bool committed) {
        (committed, ) = CoordinatorStorage.findCommitment(s_state, request);
    }

    /// @inheritdoc IInferenceCoordinator
    function hashRequest(Request calldata request) external pure returns (bytes32) {
        return keccak256(abi.encode(request));
    }

    /// @inheritdoc IInferenceCoordinator
    function challengeCommitment(uint256 requestId, address challenger, bytes32 salt) external pure returns (bytes32) {
        return CoordinatorStorage.challengeCommitment(requestId, challenger, salt);
    }

    /// @inheritdoc IInferenceCoordinator
    function getChallengeCommitment(bytes32 commitment) external view returns (uint64) {
        return s_state.challengeCommitments[commitment];
    }

    /// @inheritdoc IInferenceCoordinator
    function getDispute(uint256 requestId) external view returns (Dispute memory) {
        return s_state.disputes[requestId];
    }

    /// @inheritdoc IInferenceCoordinator
    function challengeBond(uint96 collateralWei) external view returns (uint96) {
        return _bond(collateralWei, s_state.params.challengeBondBps);
    }

    /// @inheritdoc IInferenceCoordinator
    function settlementBound(Request calldata request) external view returns (uint256) {
        uint256 window = request.challengeWindowSeconds;
        return
            uint256(request.deadline) +
            window +
            uint256(MAX_DISPUTE_ROUNDS) * i_disputeTimeoutSeconds +
            uint256(MAX_DISPUTE_ROUNDS - 1) * window;
    }

    /// @inheritdoc IInferenceCoordinator
    function callbackFailed(uint256 requestId) external view returns (bool) {
        return s_state.callbackFailed[requestId];
    }

    /// @inheritdoc IInferenceCoordinator
    function balanceOf(address account) external view returns (uint256) {
        return s_state.accounts[account].balanceWei;
    }

    /// @inheritdoc IInferenceCoordinator
    function freeStakeOf(address operator) external view returns (uint256) {
        return s_state.accounts[operator].freeStakeWei;
    }

    /// @inheritdoc IInferenceCoordinator
    function getOperators(bytes32 modelId) external view returns (address[] memory) {
        uint256 count = s_state.models[modelId].operatorCount;
        address[] memory set = new address[](count);
        for (uint256 i = 0; i < count; ++i) set[i] = s_state.operators[modelId][i];
        return set;
    }

    /// @inheritdoc IInferenceCoordinator
    function operatorAt(bytes32 modelId, uint256 seed) external view returns (address) {
        uint256 count = s_state.models[modelId].operatorCount;
        return count == 0 ? address(0) : s_state.operators[modelId][seed % count];
    }

    /// @inheritdoc IInferenceCoordinator
    function isRegistered(bytes32 modelId, address operator) external view returns (bool) {
        return s_state.operatorPositions[modelId][operator] != 0;
    }

    /// @inheritdoc IInferenceCoordinator
    function requestNonce(address account) external view returns (uint64) {
        return s_state.accounts[account].requestNonce;
    }

    /// @inheritdoc IInferenceCoordinator
    function quoteFee(bytes32 modelId, uint32 callbackGasLimit) external view returns (uint96) {
        uint256 fee = _fee(_modelTerms(modelId).feeWei, callbackGasLimit, s_state.params.callbackGasFeeWei);
        if (fee > type(uint96).max) revert CoordinatorInvalidParam("fee");
        return uint96(fee);
    }

    /// @inheritdoc IInferenceCoordinator
    function getParams() external view returns (Params memory) {
        CoordinatorStorage.RequestParams memory p = s_state.params;
        CoordinatorStorage.DisputeTerms memory d = s_state.disputeTerms;
        return
            Params({
                exclusiveWindowSeconds: p.exclusiveWindowSeconds,
                minDeadlineSeconds: p.minDeadlineSeconds,
                maxDeadlineSeconds: p.maxDeadlineSeconds,
                maxCallbackGasLimit: p.maxCallbackGasLimit,
                maxInputBytes: p.maxInputBytes,
                callbackGasFeeWei: p.callbackGasFeeWei,
                protocolFeeBps: p.protocolFeeBps,
                challengeBondBps: p.challengeBondBps,
                challengerRewardBps: d.challengerRewardBps,
                failedChallengeOperatorBps: d.failedChallengeOperatorBps,
                minChallengeBondWei: d.minChallengeBondWei
            });
    }

    /// @inheritdoc IInferenceCoordinator
    function getResolver(IModelRegistry.VerificationMode mode) external view returns (address) {
        return s_state.resolvers[mode];
    }

    /// @inheritdoc IInferenceCoordinator
    function treasury() external view returns (address) {
        return s_state.treasury;
    }

    /// @inheritdoc IInferenceCoordinator
    function disputeTimeoutSeconds() external view returns (uint40) {
        return i_disputeTimeoutSeconds;
    }

    /// @notice The stake token, also used for fees and bonds.
    /// @return The token.
    function token() external view returns (address) {
        return address(i_token);
    }

    /// @inheritdoc IInferenceCoordinator
    function registry() external view returns (address) {
        return address(i_registry);
    }

    /// @notice The staking contract.
    /// @return The staking contract.
    function staking() external view returns (address) {
        return address(i_staking);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Internals
    // ---------------------------------------------------------------------------------------------------------

    /// @dev A model's terms from the registry's copy here; a challenge window of zero means the registry never
    /// registered it (it refuses windows below its non-zero minimum).
    function _modelTerms(bytes32 modelId) private view returns (CoordinatorStorage.ModelSlot memory terms) {
        terms = s_state.models[modelId];
        if (terms.challengeWindowSeconds == 0) revert IModelRegistry.ModelRegistryUnknownModel(modelId);
    }

    /// @dev A new request's ten terms (its fields from `feeWei` to `mode`) packed into InferenceRequested's three
    /// words (layout on the event): a log pays per byte, and unpacked they would be ten.
    function _terms(Request memory request) private pure returns (uint256[3] memory terms) {
        terms[0] = uint256(request.feeWei) | (uint256(uint160(request.assignedOperator)) << 96);
        terms[1] =
            uint256(request.collateralWei) |
            (uint256(request.protocolFeeWei) << 96) |
            (uint256(request.deadline) << 192) |
            (uint256(request.mode) << 232);
        terms[2] =
            uint256(request.bondWei) |
            (uint256(request.exclusiveUntil) << 96) |
            (uint256(request.callbackGasLimit) << 136) |
            (uint256(request.challengeWindowSeconds) << 168);
    }

    /// @dev The immutables DisputeLogic needs.
    function _env() private view returns (DisputeLogic.Env memory) {
        return
            DisputeLogic.Env({
                token: i_token,
                staking: i_staking,
                registry: i_registry,
                disputeTimeoutSeconds: i_disputeTimeoutSeconds,
                maxDisputeRounds: MAX_DISPUTE_ROUNDS
            });
    }

    /// @dev The EIP-712 digest of an attestation; the struct's fields are all static, so its encoding is the
    /// type hash followed by the six words in declaration order.
    function _attestationDigest(Attestation memory attestation) private view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(ATTESTATION_TYPEHASH, attestation)));
    }

    /// @dev A request's fee: the model's fee plus the prepaid callback gas. Cannot overflow: a uint96 plus a
    /// uint32 * uint64 product is below 2^97.
    function _fee(
        uint96 modelFeeWei,
        uint32 callbackGasLimit,
        uint64 callbackGasFeeWei
    ) private pure returns (uint256) {
        return uint256(modelFeeWei) + uint256(callbackGasLimit) * callbackGasFeeWei;
    }

    /// @dev A challenge bond: a share of the collateral, at least the (fixed) floor, at most the collateral, so
    /// that no parameter can price a challenge above what the operator stands to lose.
    function _bond(uint96 collateralWei, uint16 challengeBondBps) private view returns (uint96) {
        // Fits uint96: challengeBondBps <= BPS, so the share is at most collateralWei.
        uint96 bond = uint96((uint256(collateralWei) * challengeBondBps) / BPS);
        if (bond < i_minChallengeBondWei) bond = i_minChallengeBondWei;
        return bond > collateralWei ? collateralWei : bond;
    }

    function _submit(
        Request calldata request,
        bool home,
        address operator,
        uint8 resultCode,
        bytes32 outputHash,
        bytes32 traceCommitment,
        bytes calldata output
    ) private {
        if (resultCode >= ResultCodes.RESERVED_FROM) {
            revert CoordinatorInvalidResultCode(resultCode, ResultCodes.RESERVED_FROM - 1);
        }
        if (block.timestamp > request.deadline) {
            revert CoordinatorDeadlinePassed(uint40(block.timestamp), request.deadline);
        }
        if (request.mode == IModelRegistry.VerificationMode.BISECTION && traceCommitment == bytes32(0)) {
            revert CoordinatorMissingTraceCommitment(request.requestId);
        }
        // The assignee's registration was checked when the request was made (a rotation pick is drawn from the set,
        // a preferred operator is checked): it may serve the request it was given even if it left the set since.
        // Anyone else must be registered now, and may serve only after the exclusive window.
        if (operator != request.assignedOperator) {
            if (block.timestamp < request.exclusiveUntil) {
                revert CoordinatorNotAssignedOperator(operator, request.assignedOperator);
            }
            _requireRegistered(request.modelId, operator);
        }
        _lock(operator, request.collateralWei);

        uint40 challengeEndsAt = uint40(block.timestamp) + request.challengeWindowSeconds;
        CoordinatorStorage.commitSubmitted(
            s_state,
            request,
            home,
            operator,
            resultCode,
            challengeEndsAt,
            outputHash,
            traceCommitment
        );
        emit ResultSubmitted(request.requestId, operator, resultCode, traceCommitment, challengeEndsAt, output);
    }

    function _onlyStaking() private view {
        if (msg.sender != address(i_staking)) revert CoordinatorNotStaking(msg.sender);
    }

    function _requireRegistered(bytes32 modelId, address operator) private view {
        if (s_state.operatorPositions[modelId][operator] == 0) revert IStaking.StakingNotRegistered(operator, modelId);
    }

    /// @dev Locks `collateralWei` of `operator`'s free stake.
    function _lock(address operator, uint96 collateralWei) private {
        CoordinatorStorage.Account storage account = s_state.accounts[operator];
        uint96 free = account.freeStakeWei;
        if (collateralWei > free) revert IStaking.StakingInsufficientFreeStake(free, collateralWei);
        account.freeStakeWei = free - collateralWei;
    }

    function _finalize(Request calldata request, bool home, bytes calldata output) private {
        if (block.timestamp < request.challengeEndsAt) {
            revert CoordinatorChallengeWindowOpen(uint40(block.timestamp), request.challengeEndsAt);
        }
        bytes32 outputHash = keccak256(output);
        if (outputHash != request.outputHash) revert CoordinatorOutputMismatch(outputHash, request.outputHash);

        // Settle every balance before the callback: the consumer sees a finished request.
        CoordinatorStorage.clear(s_state, request.consumer, request.requestId, home);
        // Cannot underflow: protocolFeeWei was computed as a share of feeWei at request time.
        uint96 protocolFeeWei = request.protocolFeeWei;
        uint96 operatorFeeWei = request.feeWei - protocolFeeWei;
        {
            // The collateral released and the fee credited in one write of the operator's account slot. Cannot
            // overflow: free stake plus the collateral this result locked is the operator's active stake, a uint96.
            CoordinatorStorage.Account memory account = s_state.accounts[request.operator];
            account.freeStakeWei += request.collateralWei;
            account.balanceWei = CoordinatorStorage.addBalance(account.balanceWei, operatorFeeWei);
            s_state.accounts[request.operator] = account;
        }
        if (protocolFeeWei != 0) CoordinatorStorage.credit(s_state, s_state.treasury, protocolFeeWei);

        (bool success, uint256 gasUsed) = CoordinatorStorage.deliver(
            s_state,
            request.consumer,
            request.requestId,
            request.callbackGasLimit,
            abi.encodeCall(IInferenceConsumer.onInferenceResult, (request.requestId, request.resultCode, output))
        );
        emit ResultFinalized(request.requestId, success, gasUsed);
    }

    function _setTreasury(address treasury_) private {
        if (treasury_ == address(0)) revert CoordinatorZeroValue();
        s_state.treasury = treasury_;
        emit TreasuryUpdated(treasury_);
    }
}
