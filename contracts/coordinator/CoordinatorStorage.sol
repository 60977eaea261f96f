// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IInferenceCoordinator} from "../interfaces/IInferenceCoordinator.sol";
import {IModelRegistry} from "../interfaces/IModelRegistry.sol";
import {IStaking} from "../interfaces/IStaking.sol";

/// @title CoordinatorStorage
/// @notice The InferenceCoordinator's state, and the helpers that both the coordinator and its linked dispute
/// library (DisputeLogic) use on it: request commitments, balances and the exactly-metered consumer callback.
/// @dev The coordinator holds one `Layout` in its storage and passes it to DisputeLogic, whose external functions
/// run by DELEGATECALL in the coordinator's context: one address, one storage, one token balance, split into two
/// deployed codes so that the coordinator keeps headroom under EIP-170 (docs/protocol.md, "Contracts").
library CoordinatorStorage {
    /// @dev An account's balance, its request nonce and, for an operator, its free stake (active stake in the
    /// staking contract minus the collateral locked by its results in flight) share one slot: a request reads one
    /// slot to judge its rotation pick, a submission locks collateral by lowering the free stake in the slot it
    /// checks, and settling a result (collateral released, fee credited) writes one. The staking contract keeps the
    /// free stake current (`creditFreeStake`, `debitFreeStake`) with every change of active stake.
    /// A 120-bit balance is out of any griefer's reach (2^120 wei is 1.3e18 tokens at 18 decimals): nobody can fill
    /// another account, a treasury say, to the cap and make the credits of settlements revert.
    struct Account {
        uint120 balanceWei;
        uint40 requestNonce;
        uint96 freeStakeWei;
    }

    /// @dev A model's terms (IModelRegistry.ModelTerms) and the size of its operator set, in one slot: a request
    /// reads both with one cold read. The challenge window fits 24 bits because the coordinator refuses a registry
    /// whose longest window does not (194 days); the set holds at most 2^24 - 1 operators, more registrations than
    /// anyone could pay for (about 10^12 gas).
    struct ModelSlot {
        uint96 feeWei;
        uint96 collateralWei;
        uint24 challengeWindowSeconds;
        IModelRegistry.VerificationMode mode;
        bool active;
        uint24 operatorCount;
    }

    /// @dev The most operators a model's set holds (`ModelSlot.operatorCount`).
    uint24 internal constant MAX_OPERATORS = type(uint24).max;

    /// @dev The parameters a request reads (IInferenceCoordinator.Params' first eight fields): one slot, one read.
    struct RequestParams {
        uint32 exclusiveWindowSeconds;
        uint32 minDeadlineSeconds;
        uint32 maxDeadlineSeconds;
        uint32 maxCallbackGasLimit;
        uint32 maxInputBytes;
        uint64 callbackGasFeeWei;
        uint16 protocolFeeBps;
        uint16 challengeBondBps;
    }

    /// @dev The dispute terms (IInferenceCoordinator.Params' last three fields), fixed at deployment.
    struct DisputeTerms {
        uint16 challengerRewardBps;
        uint16 failedChallengeOperatorBps;
        uint96 minChallengeBondWei;
    }

    /// @dev Everything the coordinator stores. `params` is read by every request (one slot); `disputeTerms` only by
    /// the dispute paths.
    struct Layout {
        RequestParams params;
        DisputeTerms disputeTerms;
        address treasury;
        mapping(address account => Account) accounts;
        mapping(uint256 requestId => bytes32 commitment) commitments;
        mapping(uint256 requestId => IInferenceCoordinator.Dispute) disputes;
        mapping(uint256 requestId => bool) callbackFailed;
        mapping(bytes32 key => bool) equivocationProven;
        mapping(IModelRegistry.VerificationMode mode => address) resolvers;
        /// @dev Each model's terms as the registry holds them, written by the registry on every change
        /// (`syncModelTerms`), with the size of its operator set; one slot, read by every request. All zero: a model
        /// the registry never registered.
        mapping(bytes32 modelId => ModelSlot) models;
        /// @dev Challenge commitments (commit-reveal challenges), by the block they were made in.
        mapping(bytes32 commitment => uint64 blockNumber) challengeCommitments;
        /// @dev Each consumer's reusable commitment slot: a request's commitment goes here when it is free (never
        /// used, or FREE after its last request settled), else to `commitments[requestId]`. Settling writes FREE
        /// instead of deleting, so the consumer's next request pays a rewrite (5k) rather than a new slot (22.1k).
        mapping(address consumer => bytes32 commitment) homeCommitments;
        /// @dev Each model's operator set, the rotation a request is assigned over (indices below the model's
        /// `operatorCount`), written only by the staking contract (registration, unregistration, eviction): a
        /// request and a submission read it here, not there.
        mapping(bytes32 modelId => mapping(uint256 index => address)) operators;
        /// @dev 1-based position in the model's set; 0 means not registered.
        mapping(bytes32 modelId => mapping(address operator => uint256)) operatorPositions;
    }

    /// @dev Gas kept back between the 63/64 check and the CALL (Chainlink's GAS_FOR_CALL_EXACT_CHECK).
    uint256 internal constant GAS_FOR_CALL_EXACT_CHECK = 5_000;
    uint256 internal constant BPS = 10_000;

    /// @dev Hard bounds on what the owner may set (the coordinator exposes them as its public constants).
    uint16 internal constant MAX_PROTOCOL_FEE_BPS = 1_000;
    uint16 internal constant MAX_CHALLENGER_REWARD_BPS = 5_000;
    uint32 internal constant MAX_CALLBACK_GAS_LIMIT = 5_000_000;
    uint32 internal constant MAX_INPUT_BYTES = 1 << 17;
    uint32 internal constant MAX_DEADLINE_SECONDS = 30 days;

    /// @dev A free home slot after its request settled (never a keccak256 output, so never a commitment).
    bytes32 internal constant FREE = bytes32(uint256(1));

    /// @dev Reverts unless `request` is exactly a struct committed (in its consumer's home slot or its own) and has
    /// status `want`; returns whether it is in the home slot.
    function requireCommitment(
        Layout storage s,
        IInferenceCoordinator.Request calldata request,
        IInferenceCoordinator.RequestStatus want
    ) internal view returns (bool home) {
        bool found;
        (found, home) = findCommitment(s, request);
        if (!found) revert IInferenceCoordinator.CoordinatorUnknownRequest(request.requestId);
        requireStatus(request, want);
    }

    /// @dev Whether `request` is exactly a struct committed (every field, status included), and where: its
    /// consumer's home slot first (one read when it is there), then its own slot. The two never hold the same
    /// commitment: a request is placed in one of them when it is made and stays there.
    function findCommitment(
        Layout storage s,
        IInferenceCoordinator.Request calldata request
    ) internal view returns (bool found, bool home) {
        bytes32 h = hashCalldata(request);
        if (s.homeCommitments[request.consumer] == h) return (true, true);
        return (s.commitments[request.requestId] == h, false);
    }

    /// @dev Places a new request's commitment `h`: its consumer's home slot when free, else its own slot.
    function place(Layout storage s, address consumer, uint256 requestId, bytes32 h) internal {
        if (uint256(s.homeCommitments[consumer]) <= uint256(FREE)) s.homeCommitments[consumer] = h;
        else s.commitments[requestId] = h;
    }

    /// @dev Replaces a request's commitment in the slot it lives in (`home`, from `requireCommitment`).
    function store(Layout storage s, address consumer, uint256 requestId, bool home, bytes32 h) internal {
        if (home) s.homeCommitments[consumer] = h;
        else s.commitments[requestId] = h;
    }

    /// @dev Ends a request: its home slot becomes FREE for the consumer's next request, or its own slot is deleted.
    function clear(Layout storage s, address consumer, uint256 requestId, bool home) internal {
        if (home) s.homeCommitments[consumer] = FREE;
        else delete s.commitments[requestId];
    }

    /// @dev The Request struct's ABI size: 21 static fields of one word each. Every test that checks a commitment
    /// against `hashRequest` (abi.encode) pins the two hash functions below to Solidity's encoding.
    uint256 internal constant REQUEST_BYTES = 21 * 32;

    /// @dev keccak256(abi.encode(request)) of a calldata request, hashed in place. A static struct's calldata
    /// encoding is its words in order, so the hash of those bytes is the hash of the clean encoding exactly when
    /// they are clean; dirty bytes give another hash, which matches no commitment (and Solidity's accessors would
    /// revert on them anyway). Gas: one copy and one hash, instead of decoding and re-encoding 21 fields.
    function hashCalldata(IInferenceCoordinator.Request calldata request) internal pure returns (bytes32 h) {
        // Safe: copies the struct's 672 bytes to the free memory area as a temporary (never read afterwards, the
        // free memory pointer unchanged) and hashes them.
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            calldatacopy(ptr, request, REQUEST_BYTES)
            h := keccak256(ptr, REQUEST_BYTES)
        }
    }

    /// @dev keccak256(abi.encode(request)) of a memory request: a memory struct of static fields is its words in
    /// order, each cleaned on write, which is its ABI encoding.
    function hashMemory(IInferenceCoordinator.Request memory request) internal pure returns (bytes32 h) {
        // Safe: reads the struct's 672 bytes in place.
        assembly ("memory-safe") {
            h := keccak256(request, REQUEST_BYTES)
        }
    }

    function requireStatus(
        IInferenceCoordinator.Request calldata request,
        IInferenceCoordinator.RequestStatus want
    ) internal pure {
        if (request.status != want) {
            revert IInferenceCoordinator.CoordinatorWrongStatus(request.requestId, request.status, want);
        }
    }

    /// @dev Word positions in the Request struct's encoding of the fields a submission sets (pinned, with
    /// REQUEST_BYTES, by every test that checks a submitted request's commitment against `hashRequest`).
    uint256 private constant STATUS_WORD = 14;
    uint256 private constant OPERATOR_WORD = 16;
    uint256 private constant RESULT_CODE_WORD = 17;
    uint256 private constant CHALLENGE_ENDS_AT_WORD = 18;
    uint256 private constant OUTPUT_HASH_WORD = 19;
    uint256 private constant TRACE_COMMITMENT_WORD = 20;

    /// @dev Commits to `request` as submitted: status Submitted and the result's fields set, the rest as it is.
    /// `request` must be committed (`findCommitment`), so its calldata is the clean encoding: the words are copied and
    /// patched in place and hashed, instead of decoding the struct into memory and encoding it again.
    function commitSubmitted(
        Layout storage s,
        IInferenceCoordinator.Request calldata request,
        bool home,
        address operator,
        uint8 resultCode,
        uint40 challengeEndsAt,
        bytes32 outputHash,
        bytes32 traceCommitment
    ) internal {
        bytes32 h;
        uint256 status = uint256(IInferenceCoordinator.RequestStatus.Submitted);
        // Safe: copies the struct's 672 bytes to the free memory area as a temporary (never read afterwards, the
        // free memory pointer unchanged), overwrites six whole words with clean values and hashes them.
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            calldatacopy(ptr, request, REQUEST_BYTES)
            mstore(add(ptr, mul(STATUS_WORD, 0x20)), status)
            mstore(add(ptr, mul(OPERATOR_WORD, 0x20)), operator)
            mstore(add(ptr, mul(RESULT_CODE_WORD, 0x20)), resultCode)
            mstore(add(ptr, mul(CHALLENGE_ENDS_AT_WORD, 0x20)), challengeEndsAt)
            mstore(add(ptr, mul(OUTPUT_HASH_WORD, 0x20)), outputHash)
            mstore(add(ptr, mul(TRACE_COMMITMENT_WORD, 0x20)), traceCommitment)
            h := keccak256(ptr, REQUEST_BYTES)
        }
        store(s, request.consumer, request.requestId, home, h);
    }

    /// @dev Replaces the commitment of `request` (in the slot `home` says) with its hash as it is now.
    function commit(Layout storage s, IInferenceCoordinator.Request memory request, bool home) internal {
        store(s, request.consumer, request.requestId, home, hashMemory(request));
    }

    /// @dev The commitment a challenge of `requestId` by `challenger` reveals with `salt`: binding the challenger's
    /// address (a reveal copied by another address matches no commitment) and hiding the target until the reveal.
    function challengeCommitment(uint256 requestId, address challenger, bytes32 salt) internal pure returns (bytes32) {
        return keccak256(abi.encode(requestId, challenger, salt));
    }

    function credit(Layout storage s, address account, uint256 amountWei) internal {
        Account storage a = s.accounts[account];
        a.balanceWei = addBalance(a.balanceWei, amountWei);
    }

    /// @dev `balanceWei + amountWei`, refused (not truncated) above the 120-bit balance.
    function addBalance(uint120 balanceWei, uint256 amountWei) internal pure returns (uint120) {
        uint256 balance = uint256(balanceWei) + amountWei;
        if (balance > type(uint120).max) revert IInferenceCoordinator.CoordinatorInvalidParam("balance");
        return uint120(balance);
    }

    /// @dev Releases `collateralWei` of `operator`'s locked collateral back to its free stake (its result settled
    /// or was voided). Cannot overflow: free stake plus what is locked is the operator's active stake, a uint96.
    function unlock(Layout storage s, address operator, uint96 collateralWei) internal {
        s.accounts[operator].freeStakeWei += collateralWei;
    }

    /// @dev Adds `operator` to `modelId`'s set (the staking contract checked eligibility).
    function addOperator(Layout storage s, bytes32 modelId, address operator) internal {
        mapping(address => uint256) storage positions = s.operatorPositions[modelId];
        if (positions[operator] != 0) revert IStaking.StakingAlreadyRegistered(operator, modelId);
        ModelSlot storage model = s.models[modelId];
        uint24 count = model.operatorCount;
        if (count == MAX_OPERATORS) revert IStaking.StakingOperatorSetFull(modelId, count);
        s.operators[modelId][count] = operator;
        positions[operator] = uint256(count) + 1;
        model.operatorCount = count + 1;
    }

    /// @dev Removes `operator` from `modelId`'s set. Swap-and-pop: the last operator takes its position. O(1).
    function removeOperator(Layout storage s, bytes32 modelId, address operator) internal {
        mapping(address => uint256) storage positions = s.operatorPositions[modelId];
        uint256 position = positions[operator];
        if (position == 0) revert IStaking.StakingNotRegistered(operator, modelId);
        ModelSlot storage model = s.models[modelId];
        mapping(uint256 => address) storage set = s.operators[modelId];
        // Cannot underflow: a registered operator is in the set, so it is not empty.
        uint24 last = model.operatorCount - 1;
        address moved = set[last];
        set[position - 1] = moved;
        positions[moved] = position;
        delete set[last];
        delete positions[operator];
        model.operatorCount = last;
    }

    /// @dev Calls `consumer` with exactly `gasLimit` gas, or reverts the whole transaction when the caller did not
    /// leave enough gas for that (so a finalizer cannot make a callback fail by starving it). Return data is never
    /// copied, so a consumer cannot grief with a huge return payload. A consumer without code counts as failed.
    function deliver(
        Layout storage s,
        address consumer,
        uint256 requestId,
        uint32 gasLimit,
        bytes memory payload
    ) internal returns (bool success, uint256 gasUsed) {
        // Touch the account before measuring gas so the CALL below only pays the warm access cost.
        if (consumer.code.length == 0) {
            s.callbackFailed[requestId] = true;
            return (false, 0);
        }
        uint256 available = gasleft();
        if (available < GAS_FOR_CALL_EXACT_CHECK) {
            revert IInferenceCoordinator.CoordinatorInsufficientGasForCallback(0, gasLimit);
        }
        available -= GAS_FOR_CALL_EXACT_CHECK;
        // EIP-150: a CALL forwards at most 63/64 of what is left. Require that this is more than gasLimit, so the
        // callee really gets gasLimit.
        available -= available / 64;
        if (available <= gasLimit)
            revert IInferenceCoordinator.CoordinatorInsufficientGasForCallback(available, gasLimit);
        // Safe: a plain CALL with no value and no return data copied (out size 0); `payload` is a valid memory
        // bytes array, read in place.
        assembly ("memory-safe") {
            let before := gas()
            success := call(gasLimit, consumer, 0, add(payload, 0x20), mload(payload), 0, 0)
            gasUsed := sub(before, gas())
        }
        if (!success) s.callbackFailed[requestId] = true;
    }
}
