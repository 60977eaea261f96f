// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IStaking} from "./interfaces/IStaking.sol";
import {IModelRegistry} from "./interfaces/IModelRegistry.sol";
import {IInferenceCoordinator} from "./interfaces/IInferenceCoordinator.sol";

/// @title Staking
/// @notice Holds operator stake in one ERC-20 and the per-model operator sets used for assignment.
/// @dev SECURITY CONSIDERATIONS
/// - Only holders of SLASHER_ROLE may slash; it is meant for the InferenceCoordinator alone. The admin
///   (DEFAULT_ADMIN_ROLE) is trusted to grant it to nothing else; renounce it after set-up to make the wiring
///   immutable.
/// - Collateral locked by results in flight is kept by the coordinator (the registry's bound coordinator,
///   `lockedOf`), in the same slot as the operator's fee balance, so a result settles with one write; this contract
///   reads it wherever free stake matters (unbonding, slashing, views). The coordinator locks only against
///   `stakeFor` (active stake of a registered operator) and every path that lowers active stake leaves at least the
///   locked amount: locked <= staked always. One staking contract therefore serves one coordinator, the
///   registry's: collateral another contract locked would be invisible here (and unbondable).
/// - Escaping a slash by unbonding is impossible: locked collateral cannot be unbonded, and unbonding stake stays
///   slashable (by `slash`) until withdrawn after `unbondingDelaySeconds`, which the coordinator checks exceeds
///   the longest challenge window plus the longest dispute.
/// - Every unbonding request restarts the delay for the whole unbonding amount (simple, never shorter).
/// - Operator sets are arrays with index maps: register/unregister/evict/assignment are O(1). No loop over
///   operators is reachable by anyone. The coordinator fixes each request's assignee when the request is made
///   (`rotationPick`, the rule of `assignedOperator`), so set changes move no existing request's exclusive
///   window; an operator whose active stake falls below a model's collateral (unbonding, slashes) can be evicted
///   from that model's set by anyone.
/// - Amounts are 96-bit (79 billion tokens at 18 decimals); larger deposits revert instead of truncating.
/// - Fee-on-transfer or rebasing tokens are not supported as stake token.
contract Staking is IStaking, AccessControl {
    using SafeERC20 for IERC20;

    /// @notice Role allowed to slash.
    bytes32 public constant SLASHER_ROLE = keccak256("SLASHER_ROLE");

    IERC20 private immutable i_token;
    IModelRegistry private immutable i_registry;
    uint40 private immutable i_unbondingDelaySeconds;

    /// @dev An operator's stake as stored: active, unbonding and when unbonding is ready (locked collateral lives in
    /// the coordinator).
    struct StoredStake {
        uint96 stakedWei;
        uint96 unbondingWei;
        uint40 unbondingReadyAt;
    }

    mapping(address operator => StoredStake) private s_stakes;
    mapping(bytes32 modelId => address[]) private s_operators;
    /// @dev 1-based position in s_operators[modelId]; 0 means not registered.
    mapping(bytes32 modelId => mapping(address operator => uint256)) private s_operatorPosition;

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
        StoredStake storage s = s_stakes[msg.sender];
        uint256 newStake = uint256(s.stakedWei) + amountWei;
        if (newStake > type(uint96).max) revert StakingAmountTooLarge(newStake, type(uint96).max);
        s.stakedWei = uint96(newStake);
        i_token.safeTransferFrom(msg.sender, address(this), amountWei);
        emit StakeDeposited(msg.sender, amountWei);
    }

    /// @inheritdoc IStaking
    function requestUnbonding(uint256 amountWei) external {
        if (amountWei == 0) revert StakingZeroAmount();
        StoredStake storage s = s_stakes[msg.sender];
        uint256 free = _free(s.stakedWei, msg.sender);
        if (amountWei > free) revert StakingInsufficientFreeStake(free, amountWei);
        uint256 unbonding = uint256(s.unbondingWei) + amountWei;
        if (unbonding > type(uint96).max) revert StakingAmountTooLarge(unbonding, type(uint96).max);
        // The cast is safe: amountWei <= free <= stakedWei, a uint96.
        s.stakedWei -= uint96(amountWei);
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
        if (s_operatorPosition[modelId][msg.sender] != 0) revert StakingAlreadyRegistered(msg.sender, modelId);
        uint256 staked = s_stakes[msg.sender].stakedWei;
        if (staked < terms.collateralWei) revert StakingStakeBelowCollateral(staked, terms.collateralWei);
        s_operators[modelId].push(msg.sender);
        s_operatorPosition[modelId][msg.sender] = s_operators[modelId].length;
        emit OperatorRegistered(msg.sender, modelId);
    }

    /// @inheritdoc IStaking
    function unregisterFromModel(bytes32 modelId) external {
        _remove(modelId, msg.sender);
        emit OperatorUnregistered(msg.sender, modelId);
    }

    /// @inheritdoc IStaking
    function evict(bytes32 modelId, address operator) external {
        if (s_operatorPosition[modelId][operator] == 0) revert StakingNotRegistered(operator, modelId);
        // Active stake, not free stake: collateral locked by results in flight must not make an operator evictable.
        // A deactivated model's operators are not evictable either: they still serve its requests in flight.
        uint256 collateral = i_registry.getModelTerms(modelId).collateralWei;
        uint256 staked = s_stakes[operator].stakedWei;
        if (staked >= collateral) revert StakingNotEvictable(operator, modelId, staked, collateral);
        _remove(modelId, operator);
        emit OperatorEvicted(operator, modelId, staked, collateral);
    }

    /// @inheritdoc IStaking
    function stakeFor(address operator, bytes32 modelId) external view returns (uint256) {
        if (s_operatorPosition[modelId][operator] == 0) revert StakingNotRegistered(operator, modelId);
        return s_stakes[operator].stakedWei;
    }

    /// @inheritdoc IStaking
    function slashLocked(address operator, uint256 amountWei) external onlyRole(SLASHER_ROLE) returns (uint256) {
        StoredStake storage s = s_stakes[operator];
        uint256 staked = s.stakedWei;
        // The coordinator released the collateral before calling, so it is not locked any more: what is left locked
        // must stay covered (a slasher without a matching release cannot push locked above staked).
        uint256 unlocked = _free(staked, operator);
        if (amountWei > unlocked) revert StakingSlashExceedsStake(unlocked, amountWei);
        // The cast is safe: amountWei <= stakedWei, a uint96.
        s.stakedWei = uint96(staked - amountWei);
        return _sendSlashed(operator, amountWei);
    }

    /// @inheritdoc IStaking
    function slash(address operator, uint256 amountWei) external onlyRole(SLASHER_ROLE) returns (uint256) {
        StoredStake storage s = s_stakes[operator];
        uint256 free = _free(s.stakedWei, operator);
        uint256 fromFree = amountWei < free ? amountWei : free;
        uint256 rest = amountWei - fromFree;
        uint256 fromUnbonding = rest < s.unbondingWei ? rest : s.unbondingWei;
        // Both casts are safe: each part is at most a uint96 field it is subtracted from.
        s.stakedWei -= uint96(fromFree);
        s.unbondingWei -= uint96(fromUnbonding);
        return _sendSlashed(operator, fromFree + fromUnbonding);
    }

    /// @inheritdoc IStaking
    function operatorAt(bytes32 modelId, uint256 seed) external view returns (address) {
        address[] storage operators = s_operators[modelId];
        uint256 count = operators.length;
        return count == 0 ? address(0) : operators[seed % count];
    }

    /// @inheritdoc IStaking
    function rotationPick(bytes32 modelId, uint256 seed) external view returns (address pick, uint256 stakedWei) {
        address[] storage operators = s_operators[modelId];
        uint256 count = operators.length;
        if (count == 0) return (address(0), 0);
        pick = operators[seed % count];
        stakedWei = s_stakes[pick].stakedWei;
    }

    /// @inheritdoc IStaking
    function assignedOperator(bytes32 modelId, uint256 seed, uint256 collateralWei) external view returns (address) {
        address[] storage operators = s_operators[modelId];
        uint256 count = operators.length;
        if (count == 0) return address(0);
        address pick = operators[seed % count];
        return _free(s_stakes[pick].stakedWei, pick) >= collateralWei ? pick : address(0);
    }

    /// @inheritdoc IStaking
    function getOperators(bytes32 modelId) external view returns (address[] memory) {
        return s_operators[modelId];
    }

    /// @inheritdoc IStaking
    function isRegistered(bytes32 modelId, address operator) external view returns (bool) {
        return s_operatorPosition[modelId][operator] != 0;
    }

    /// @inheritdoc IStaking
    function getStake(address operator) external view returns (OperatorStake memory) {
        StoredStake storage s = s_stakes[operator];
        return
            OperatorStake({
                stakedWei: s.stakedWei,
                lockedWei: uint96(_locked(operator)),
                unbondingWei: s.unbondingWei,
                unbondingReadyAt: s.unbondingReadyAt
            });
    }

    /// @inheritdoc IStaking
    function freeStake(address operator) external view returns (uint256) {
        return _free(s_stakes[operator].stakedWei, operator);
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

    /// @dev Collateral the registry's coordinator has locked for `operator`'s results in flight (none before the
    /// registry is bound). Fits uint96: it never exceeds the operator's active stake.
    function _locked(address operator) private view returns (uint256) {
        address coordinator = i_registry.coordinator();
        return coordinator == address(0) ? 0 : IInferenceCoordinator(coordinator).lockedOf(operator);
    }

    /// @dev Active stake minus locked collateral.
    function _free(uint256 stakedWei, address operator) private view returns (uint256) {
        return stakedWei - _locked(operator);
    }

    /// @dev Swap-and-pop: the last operator takes the removed one's position. O(1).
    function _remove(bytes32 modelId, address operator) private {
        uint256 position = s_operatorPosition[modelId][operator];
        if (position == 0) revert StakingNotRegistered(operator, modelId);
        address[] storage operators = s_operators[modelId];
        address last = operators[operators.length - 1];
        operators[position - 1] = last;
        s_operatorPosition[modelId][last] = position;
        operators.pop();
        delete s_operatorPosition[modelId][operator];
    }

    function _sendSlashed(address operator, uint256 amountWei) private returns (uint256) {
        if (amountWei != 0) i_token.safeTransfer(msg.sender, amountWei);
        emit OperatorSlashed(operator, amountWei, msg.sender);
        return amountWei;
    }
}
