// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IStaking
/// @notice Operator stake in one ERC-20: deposit, register for models, collateral locked per in-flight result,
/// unbonding with a delay, and slashing by the protocol's settlement contract.
interface IStaking {
    /// @notice An operator's stake. `stakedWei` is active stake (free + locked); `lockedWei` is the collateral of
    /// its results in flight: active stake minus the free stake the coordinator keeps
    /// (`IInferenceCoordinator.freeStakeOf`); `unbondingWei` has left active stake but stays slashable until it is
    /// withdrawn.
    struct OperatorStake {
        uint96 stakedWei;
        uint96 lockedWei;
        uint96 unbondingWei;
        uint40 unbondingReadyAt;
    }

    /// @notice Emitted when stake is deposited.
    event StakeDeposited(address indexed operator, uint256 amountWei);
    /// @notice Emitted when an operator starts unbonding `amountWei`; withdrawable from `readyAt`.
    event UnbondingStarted(address indexed operator, uint256 amountWei, uint256 totalUnbondingWei, uint40 readyAt);
    /// @notice Emitted when unbonded stake is withdrawn.
    event StakeWithdrawn(address indexed operator, address indexed to, uint256 amountWei);
    /// @notice Emitted when an operator registers to serve a model.
    event OperatorRegistered(address indexed operator, bytes32 indexed modelId);
    /// @notice Emitted when an operator stops serving a model.
    event OperatorUnregistered(address indexed operator, bytes32 indexed modelId);
    /// @notice Anyone removed `operator` from `modelId`'s set because its active stake no longer covers the model's
    /// collateral.
    event OperatorEvicted(address indexed operator, bytes32 indexed modelId, uint256 stakedWei, uint256 collateralWei);
    /// @notice Emitted when stake is slashed; the slashed tokens go to `recipient` (the settlement contract).
    event OperatorSlashed(address indexed operator, uint256 amountWei, address indexed recipient);

    /// @notice Amount must be non-zero.
    error StakingZeroAmount();
    /// @notice Not enough free (unlocked, not unbonding) stake.
    error StakingInsufficientFreeStake(uint256 have, uint256 want);
    /// @notice Stake below what the model needs to serve one result.
    error StakingStakeBelowCollateral(uint256 have, uint256 want);
    /// @notice The unbonding delay has not passed.
    error StakingUnbondingNotReady(uint40 now_, uint40 readyAt);
    /// @notice Nothing is unbonding.
    error StakingNothingToWithdraw();
    /// @notice The operator is already registered for the model.
    error StakingAlreadyRegistered(address operator, bytes32 modelId);
    /// @notice The model's operator set holds the most operators it can (2^24 - 1).
    error StakingOperatorSetFull(bytes32 modelId, uint256 max);
    /// @notice The operator is not registered for the model.
    error StakingNotRegistered(address operator, bytes32 modelId);
    /// @notice `evict` of an operator whose active stake still covers the model's collateral.
    error StakingNotEvictable(address operator, bytes32 modelId, uint256 stakedWei, uint256 collateralWei);
    /// @notice The model is not active in the registry.
    error StakingModelInactive(bytes32 modelId);
    /// @notice The registry has no coordinator yet, and the coordinator keeps free stake and the operator sets.
    error StakingCoordinatorNotBound();
    /// @notice Amount does not fit the 96-bit stake accounting.
    error StakingAmountTooLarge(uint256 have, uint256 max);
    /// @notice Unbonding delay must be non-zero.
    error StakingInvalidUnbondingDelay();

    /// @notice Deposits `amountWei` of the stake token as active stake of the caller.
    /// @param amountWei Amount, pulled with transferFrom.
    function stake(uint256 amountWei) external;

    /// @notice Moves `amountWei` of free stake into unbonding. Restarts the delay for all unbonding stake.
    /// Unbonding stake cannot back new results but stays slashable until withdrawn.
    /// @param amountWei Amount of free stake to unbond.
    function requestUnbonding(uint256 amountWei) external;

    /// @notice Withdraws all unbonding stake once its delay has passed.
    /// @param to Recipient of the tokens.
    /// @return amountWei Amount withdrawn.
    function withdrawUnbonded(address to) external returns (uint256 amountWei);

    /// @notice Registers the caller to serve `modelId`. Needs active stake of at least the model's collateral.
    /// @param modelId The model.
    function registerForModel(bytes32 modelId) external;

    /// @notice Unregisters the caller from `modelId`. In-flight results keep their locked collateral.
    /// @param modelId The model.
    function unregisterFromModel(bytes32 modelId) external;

    /// @notice Slashes up to `amountWei` from free then unbonding stake, never from collateral the coordinator
    /// holds locked, and sends it to the caller. SLASHER_ROLE only. The coordinator slashes a proven-wrong result's
    /// collateral by releasing its lock first (so exactly that much is free), and an equivocation or fraud, which
    /// has no lock, from whatever is free or unbonding.
    /// @param operator The operator.
    /// @param amountWei The amount to slash.
    /// @return slashedWei Amount actually slashed and transferred to the caller (may be less, or zero).
    function slash(address operator, uint256 amountWei) external returns (uint256 slashedWei);

    /// @notice The operator assigned to a request in O(1): `seed` modulo the model's operator set.
    /// @param modelId The model.
    /// @param seed The request's seed (its id).
    /// @return The operator, or address(0) when none is registered.
    function operatorAt(bytes32 modelId, uint256 seed) external view returns (address);

    /// @notice The operator a new request is assigned to: the rotation's pick `operatorAt(modelId, seed)`, if its
    /// free stake (staked minus locked) covers `collateralWei` now; else address(0), so that the request is open to
    /// every operator instead of idling through an exclusive window its pick could not serve.
    /// @dev The coordinator applies this rule once per request (from the operator set and free stake it keeps) and
    /// stores the answer in the request, so later changes of the operator set cannot move a request's exclusive
    /// window.
    /// @param modelId The model.
    /// @param seed The request's seed (its id).
    /// @param collateralWei The model's collateral, which the pick must be able to lock.
    /// @return The assigned operator, or address(0).
    function assignedOperator(bytes32 modelId, uint256 seed, uint256 collateralWei) external view returns (address);

    /// @notice Removes `operator` from `modelId`'s set when its active stake (staked, not unbonding) is below the
    /// model's collateral. Anyone may call it: an operator that unbonded or was slashed below what it must back
    /// should not keep a slot in the rotation. Locked collateral counts as stake (a busy operator is not
    /// evictable), and a deactivated model's operators are evictable only by the same rule (they still serve its
    /// requests in flight).
    /// @param modelId The model.
    /// @param operator The operator.
    function evict(bytes32 modelId, address operator) external;

    /// @notice The operators registered for `modelId`, in rotation order (kept by the coordinator).
    /// @param modelId The model.
    /// @return The operators.
    function getOperators(bytes32 modelId) external view returns (address[] memory);

    /// @notice Whether `operator` is registered for `modelId`.
    /// @param modelId The model.
    /// @param operator The operator.
    /// @return True when registered.
    function isRegistered(bytes32 modelId, address operator) external view returns (bool);

    /// @notice An operator's stake.
    /// @param operator The operator.
    /// @return The stake record.
    function getStake(address operator) external view returns (OperatorStake memory);

    /// @notice Stake that can back new results: active minus locked.
    /// @param operator The operator.
    /// @return Stake-token base units.
    function freeStake(address operator) external view returns (uint256);

    /// @notice The model registry; its bound coordinator keeps the free stake and operator sets this contract writes.
    /// @return The registry.
    function registry() external view returns (address);

    /// @notice The ERC-20 staked.
    /// @return The token address.
    function stakeToken() external view returns (address);

    /// @notice Seconds between requestUnbonding and withdrawUnbonded.
    /// @return Seconds.
    function unbondingDelaySeconds() external view returns (uint40);
}
