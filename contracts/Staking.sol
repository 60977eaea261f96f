// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IStaking} from "./interfaces/IStaking.sol";
import {IModelRegistry} from "./interfaces/IModelRegistry.sol";
import {IInferenceCoordinator} from "./interfaces/IInferenceCoordinator.sol";

/// @title Staking
/// @notice Holds operator stake in one ERC-20: deposits, unbonding, slashing, and registration for models.
/// @dev SECURITY CONSIDERATIONS
/// - Only holders of SLASHER_ROLE may slash; it is meant for the InferenceCoordinator alone. The admin
///   (DEFAULT_ADMIN_ROLE) is trusted to grant it to nothing else; renounce it after set-up to make the wiring
///   immutable.
/// - What a request and a submission read lives in the coordinator (the registry's bound coordinator): each
///   operator's free stake (active stake minus the collateral locked by its results in flight), in the slot of
///   its fee balance, and each model's operator set. This contract is their only writer besides the coordinator's
///   own locks and releases: every change of active stake reports the same change of free stake
///   (`creditFreeStake`, `debitFreeStake`) in the same transaction, and registration, unregistration and
///   eviction edit the set (`setRegistered`). So free stake + locked == active stake always, and locked is read
///   here as active minus free. One staking contract serves one coordinator, the registry's; nothing about
///   stake can happen before the registry is bound to it (`StakingCoordinatorNotBound`).
/// - Escaping a slash by unbonding is impossible: locked collateral cannot be unbonded, and unbonding stake stays
///   slashable (by `slash`) until withdrawn after `unbondingDelaySeconds`, which the coordinator checks exceeds
///   the longest challenge window plus the longest dispute.
/// - Every unbonding request restarts the delay for the whole unbonding amount (simple, never shorter).
/// - Operator sets are arrays with index maps: register/unregister/evict/assignment are O(1). No loop over
///   operators is reachable by anyone. The coordinator fixes each request's assignee when the request is made
///   (the rule of `assignedOperator`), so set changes move no existing request's exclusive window; an operator
///   whose active stake falls below a model's collateral (unbonding, slashes) can be evicted from that model's set
///   by anyone.
/// - Amounts are 96-bit (79 billion tokens at 18 decimals); larger deposits revert instead of truncating.
/// - Fee-on-transfer or rebasing tokens are not supported as stake token.
contract Staking is IStaking, AccessControl {
    using SafeERC20 for IERC20;

    /// @notice Role allowed to slash.
    bytes32 public constant SLASHER_ROLE = keccak256("SLASHER_ROLE");

    IERC20 private immutable i_token;
    IModelRegistry private immutable i_registry;
    uint40 private immutable i_unbondingDelaySeconds;

    /// @dev An operator's stake as stored: active, unbonding and when unbonding is ready (free stake and the operator
    /// sets live in the coordinator).
    struct StoredStake {
        uint96 stakedWei;
        uint96 unbondingWei;
        uint40 unbondingReadyAt;
    }

    mapping(address operator => StoredStake) private s_stakes;

    /// @param token The stake token.
    /// @param registry_ The model registry (for collateral requirements at registration).
    /// @param unbondingDelay Seconds between requestUnbonding and withdrawUnbonded.
    /// @param admin Holder of DEFAULT_ADMIN_ROLE (grants SLASHER_ROLE to the coordinator).
    constructor(IERC20 token, IModelRegistry registry_, uint40 unbondingDelay, address admin) {
        if (unbondingDelay == 0) revert StakingInvalidUnbondingDelay();
        i_token = token;
        i_registry = registry_;
        i_unbondingDelaySeconds = unbondingDelay;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @inheritdoc IStaking
    function stake(uint256 amountWei) external {
        if (amountWei == 0) revert StakingZeroAmount();
        IInferenceCoordinator coordinator = _coordinator();
        StoredStake storage s = s_stakes[msg.sender];
        uint256 newStake = uint256(s.stakedWei) + amountWei;
        if (newStake > type(uint96).max) revert StakingAmountTooLarge(newStake, type(uint96).max);
        s.stakedWei = uint96(newStake);
        // The cast is safe: amountWei <= newStake, a uint96.
        coordinator.creditFreeStake(msg.sender, uint96(amountWei));
        i_token.safeTransferFrom(msg.sender, address(this), amountWei);
        emit StakeDeposited(msg.sender, amountWei);
    }

    /// @inheritdoc IStaking
    function requestUnbonding(uint256 amountWei) external {
        if (amountWei == 0) revert StakingZeroAmount();
        IInferenceCoordinator coordinator = _coordinator();
        StoredStake storage s = s_stakes[msg.sender];
        uint256 free = coordinator.freeStakeOf(msg.sender);
        if (amountWei > free) revert StakingInsufficientFreeStake(free, amountWei);
        uint256 unbonding = uint256(s.unbondingWei) + amountWei;
        if (unbonding > type(uint96).max) revert StakingAmountTooLarge(unbonding, type(uint96).max);
        // The casts are safe: amountWei <= free <= stakedWei, a uint96.
        s.stakedWei -= uint96(amountWei);
        coordinator.debitFreeStake(msg.sender, uint96(amountWei));
        s.unbondingWei = uint96(unbonding);
        uint40 readyAt = uint40(block.timestamp) + i_unbondingDelaySeconds;
        s.unbondingReadyAt = readyAt;
        emit UnbondingStarted(msg.sender, amountWei, unbonding, readyAt);
    }

    /// @inheritdoc IStaking
    function withdrawUnbonded(address to) external returns (uint256 amountWei) {
        StoredStake storage s = s_stakes[msg.sender];
        amountWei = s.unbondingWei;
        if (amountWei == 0) revert StakingNothingToWithdraw();
        if (block.timestamp < s.unbondingReadyAt) {
            revert StakingUnbondingNotReady(uint40(block.timestamp), s.unbondingReadyAt);
        }
        s.unbondingWei = 0;
        s.unbondingReadyAt = 0;
        i_token.safeTransfer(to, amountWei);
        emit StakeWithdrawn(msg.sender, to, amountWei);
    }

    /// @inheritdoc IStaking
    function registerForModel(bytes32 modelId) external {
        IModelRegistry.ModelTerms memory terms = i_registry.getModelTerms(modelId);
        if (!terms.active) revert StakingModelInactive(modelId);
        uint256 staked = s_stakes[msg.sender].stakedWei;
        if (staked < terms.collateralWei) revert StakingStakeBelowCollateral(staked, terms.collateralWei);
        // Reverts StakingAlreadyRegistered for a second registration.
        _coordinator().setRegistered(modelId, msg.sender, true);
        emit OperatorRegistered(msg.sender, modelId);
    }

    /// @inheritdoc IStaking
    function unregisterFromModel(bytes32 modelId) external {
        // Reverts StakingNotRegistered unless registered.
        _coordinator().setRegistered(modelId, msg.sender, false);
        emit OperatorUnregistered(msg.sender, modelId);
    }

    /// @inheritdoc IStaking
    function evict(bytes32 modelId, address operator) external {
        IInferenceCoordinator coordinator = _coordinator();
        if (!coordinator.isRegistered(modelId, operator)) revert StakingNotRegistered(operator, modelId);
        // Active stake, not free stake: collateral locked by results in flight must not make an operator evictable.
        // A deactivated model's operators are not evictable either: they still serve its requests in flight.
        uint256 collateral = i_registry.getModelTerms(modelId).collateralWei;
        uint256 staked = s_stakes[operator].stakedWei;
        if (staked >= collateral) revert StakingNotEvictable(operator, modelId, staked, collateral);
        coordinator.setRegistered(modelId, operator, false);
        emit OperatorEvicted(operator, modelId, staked, collateral);
    }

    /// @inheritdoc IStaking
    function slash(address operator, uint256 amountWei) external onlyRole(SLASHER_ROLE) returns (uint256) {
        IInferenceCoordinator coordinator = _coordinator();
        StoredStake storage s = s_stakes[operator];
        uint256 free = coordinator.freeStakeOf(operator);
        uint256 fromFree = amountWei < free ? amountWei : free;
        uint256 rest = amountWei - fromFree;
        uint256 fromUnbonding = rest < s.unbondingWei ? rest : s.unbondingWei;
        // The casts are safe: each part is at most a uint96 it is subtracted from.
        s.stakedWei -= uint96(fromFree);
        if (fromFree != 0) coordinator.debitFreeStake(operator, uint96(fromFree));
        s.unbondingWei -= uint96(fromUnbonding);
        return _sendSlashed(operator, fromFree + fromUnbonding);
    }

    /// @inheritdoc IStaking
    function operatorAt(bytes32 modelId, uint256 seed) public view returns (address) {
        address coordinator = i_registry.coordinator();
        return coordinator == address(0) ? address(0) : IInferenceCoordinator(coordinator).operatorAt(modelId, seed);
    }

    /// @inheritdoc IStaking
    function assignedOperator(bytes32 modelId, uint256 seed, uint256 collateralWei) external view returns (address) {
        address pick = operatorAt(modelId, seed);
        if (pick == address(0)) return address(0);
        return _free(pick) >= collateralWei ? pick : address(0);
    }

    /// @inheritdoc IStaking
    function getOperators(bytes32 modelId) external view returns (address[] memory) {
        address coordinator = i_registry.coordinator();
        return coordinator == address(0) ? new address[](0) : IInferenceCoordinator(coordinator).getOperators(modelId);
    }

    /// @inheritdoc IStaking
    function isRegistered(bytes32 modelId, address operator) external view returns (bool) {
        address coordinator = i_registry.coordinator();
        return coordinator != address(0) && IInferenceCoordinator(coordinator).isRegistered(modelId, operator);
    }

    /// @inheritdoc IStaking
    function getStake(address operator) external view returns (OperatorStake memory) {
        StoredStake storage s = s_stakes[operator];
        return
            OperatorStake({
                stakedWei: s.stakedWei,
                // The cast is safe: free <= staked, a uint96.
                lockedWei: uint96(s.stakedWei - _free(operator)),
                unbondingWei: s.unbondingWei,
                unbondingReadyAt: s.unbondingReadyAt
            });
    }

    /// @inheritdoc IStaking
    function freeStake(address operator) external view returns (uint256) {
        return _free(operator);
    }

    /// @inheritdoc IStaking
    function registry() external view returns (address) {
        return address(i_registry);
    }

    /// @inheritdoc IStaking
    function stakeToken() external view returns (address) {
        return address(i_token);
    }

    /// @inheritdoc IStaking
    function unbondingDelaySeconds() external view returns (uint40) {
        return i_unbondingDelaySeconds;
    }

    /// @dev The registry's bound coordinator, which keeps free stake and the operator sets; stake cannot change
    /// before there is one.
    function _coordinator() private view returns (IInferenceCoordinator) {
        address coordinator = i_registry.coordinator();
        if (coordinator == address(0)) revert StakingCoordinatorNotBound();
        return IInferenceCoordinator(coordinator);
    }

    /// @dev Free stake as the coordinator keeps it (none before the registry is bound: no stake can exist then).
    function _free(address operator) private view returns (uint256) {
        address coordinator = i_registry.coordinator();
        return coordinator == address(0) ? 0 : IInferenceCoordinator(coordinator).freeStakeOf(operator);
    }

    function _sendSlashed(address operator, uint256 amountWei) private returns (uint256) {
        if (amountWei != 0) i_token.safeTransfer(msg.sender, amountWei);
        emit OperatorSlashed(operator, amountWei, msg.sender);
        return amountWei;
    }
}
