// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IStaking
/// @notice Operator stake in one ERC-20: deposit, register for models, collateral locked per in-flight result,
/// unbonding with a delay, and slashing by the protocol's settlement contract.
interface IStaking {
    /// @notice An operator's stake. `stakedWei` is active stake (free + locked); `lockedWei` is the collateral of
    /// its results in flight, kept by the coordinator (`IInferenceCoordinator.lockedOf`) and reported here for
    /// convenience; `unbondingWei` has left active stake but stays slashable until it is withdrawn.
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
    /// @notice The operator is not registered for the model.
    error StakingNotRegistered(address operator, bytes32 modelId);
    /// @notice `evict` of an operator whose active stake still covers the model's collateral.
    error StakingNotEvictable(address operator, bytes32 modelId, uint256 stakedWei, uint256 collateralWei);
    /// @notice The model is not active in the registry.
    error StakingModelInactive(bytes32 modelId);
    /// @notice `slashLocked` of more than the active stake the coordinator does not hold locked (a caller that did not
    /// release the collateral first).
    error StakingSlashExceedsStake(uint256 have, uint256 want);
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

    /// @notice An operator's active stake, for a result of `modelId`: what the coordinator may lock collateral
    /// against (the coordinator keeps the locked amount, `IInferenceCoordinator.lockedOf`, next to the operator's
    /// fee balance, so settling a result writes one slot). Reverts unless the operator is registered for the model.
    /// @param operator The operator.
    /// @param modelId The model the result is for.
    /// @return stakedWei Active stake (locked collateral included; unbonding stake not).
    function stakeFor(address operator, bytes32 modelId) external view returns (uint256 stakedWei);

    /// @notice Slashes collateral the coordinator had locked for a proven-wrong result (and has released for this
    /// slash) out of active stake, and sends it to the caller. SLASHER_ROLE only. Reverts when it would leave less
    /// active stake than the coordinator still holds locked.
    /// @param operator The operator.
    /// @param amountWei The locked collateral of the result.
    /// @return slashedWei Amount transferred to the caller.
    function slashLocked(address operator, uint256 amountWei) external returns (uint256 slashedWei);

    /// @notice Slashes up to `amountWei` from free then unbonding stake (a fault with no locked collateral, such
    /// as equivocation) and sends it to the caller. SLASHER_ROLE only.
    /// @param operator The operator.
    /// @param amountWei The amount to slash.
    /// @return slashedWei Amount actually slashed and transferred to the caller (may be less, or zero).
    function slash(address operator, uint256 amountWei) external returns (uint256 slashedWei);

    /// @notice The operator assigned to a request in O(1): `seed` modulo the model's operator set.
    /// @param modelId The model.
    /// @param seed The request's seed (its id).
    /// @return The operator, or address(0) when none is registered.
    function operatorAt(bytes32 modelId, uint256 seed) external view returns (address);

    /// @notice The rotation's pick for a request, with its active stake: `operatorAt(modelId, seed)` and its
    /// `stakedWei`. The coordinator assigns the request to the pick when that stake minus what it has locked covers
    /// the collateral (`assignedOperator` is the same rule as one view).
    /// @param modelId The model.
    /// @param seed The request's seed (its id).
    /// @return pick The operator, or address(0) when none is registered.
    /// @return stakedWei The pick's active stake (0 when none).
    function rotationPick(bytes32 modelId, uint256 seed) external view returns (address pick, uint256 stakedWei);

    /// @notice The operator a new request is assigned to: the rotation's pick `operatorAt(modelId, seed)`, if its
    /// free stake (staked minus locked) covers `collateralWei` now; else address(0), so that the request is open to
    /// every operator instead of idling through an exclusive window its pick could not serve.
    /// @dev The coordinator applies this rule once per request (from `rotationPick` and its own locked amounts) and
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

    /// @notice The operators registered for `modelId`, in storage order.
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

    /// @notice The model registry; its bound coordinator is the one whose locks (`lockedOf`) this contract reads.
    /// @return The registry.
    function registry() external view returns (address);

    /// @notice The ERC-20 staked.
    /// @return The token address.
    function stakeToken() external view returns (address);

    /// @notice Seconds between requestUnbonding and withdrawUnbonded.
    /// @return Seconds.
    function unbondingDelaySeconds() external view returns (uint40);
}
