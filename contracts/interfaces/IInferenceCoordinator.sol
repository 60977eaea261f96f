// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IModelRegistry} from "./IModelRegistry.sol";

/// @title IInferenceCoordinator
/// @notice Requests, results, challenge windows, settlement and disputes of Verity inference.
/// @dev The coordinator stores one hash per live request: the keccak256 of the ABI-encoded `Request` below
/// (Chainlink Functions-style commitments). Every call that acts on a request takes the full `Request` back
/// and checks it against that hash; the node rebuilds it from the InferenceRequested and ResultSubmitted events.
interface IInferenceCoordinator {
    /// @notice Where a live request stands. Settled or cancelled requests have no commitment at all.
    enum RequestStatus {
        None,
        Requested,
        Submitted,
        Disputed
    }

    /// @notice What the consumer chooses per request.
    /// @param callbackGasLimit Gas the result callback gets, exactly. Paid for at `callbackGasFeeWei` per unit.
    /// @param deadline Unix time after which no result may be submitted and the request can be cancelled.
    /// @param preferredOperator Operator given the exclusive window, which must be registered for the model;
    /// address(0) for the rotation's pick (`Staking.assignedOperator(modelId, requestId, collateral)`'s rule,
    /// applied by the coordinator from the operator set and free stake it keeps, and fixed when the request is
    /// made).
    /// @param maxFeeWei The most the consumer agrees to pay (guards against a fee raised just before the request).
    struct RequestOptions {
        uint32 callbackGasLimit;
        uint40 deadline;
        address preferredOperator;
        uint96 maxFeeWei;
    }

    /// @notice Everything later checks need about a request; only its hash is stored.
    /// @dev `feeWei` is the whole escrowed fee; `protocolFeeWei` is the treasury's part of it, fixed at request
    /// time. `assignedOperator` holds the exclusive window until `exclusiveUntil`: the consumer's preferred
    /// operator, else the rotation's pick over the operator set as it was when the request was made, skipped when
    /// that operator's free stake could not back the request then (address(0), and `exclusiveUntil` is the
    /// request's own time: any registered operator may serve at once).
    /// `bondWei` is the bond a challenge of this request's result pays, fixed at request time (owner changes to the
    /// bond parameters apply to later requests only). `disputeRounds` counts the disputes its result has survived.
    struct Request {
        uint256 requestId;
        bytes32 modelId;
        bytes32 inputHash;
        address consumer;
        uint96 feeWei;
        address assignedOperator;
        uint96 collateralWei;
        uint96 protocolFeeWei;
        uint40 deadline;
        uint40 exclusiveUntil;
        uint32 callbackGasLimit;
        uint32 challengeWindowSeconds;
        uint96 bondWei;
        IModelRegistry.VerificationMode mode;
        RequestStatus status;
        uint8 disputeRounds;
        // Set at submission.
        address operator;
        uint8 resultCode;
        uint40 challengeEndsAt;
        bytes32 outputHash;
        bytes32 traceCommitment;
    }

    /// @notice An operator's signed statement of a result (EIP-712 type `Attestation`). Off-chain attestations
    /// use requestId 0.
    struct Attestation {
        uint256 requestId;
        bytes32 modelId;
        bytes32 inputHash;
        uint8 resultCode;
        bytes32 outputHash;
        bytes32 traceCommitment;
    }

    /// @notice One item of the batch submission path: a result and its operator's signature.
    struct AttestedResult {
        Request request;
        uint8 resultCode;
        bytes output;
        bytes32 traceCommitment;
        bytes signature;
    }

    /// @notice One item of the batch finalization path.
    struct Settlement {
        Request request;
        bytes output;
    }

    /// @notice What a resolver decides about a disputed result.
    /// @param operatorAtFault True when the submitted result was wrong: the operator is slashed.
    /// @param conclusive Without operatorAtFault: the verdict proves the result right (a REEXECUTION re-execution
    /// does), so no later challenge could change it and the result may be finalized at once. An inconclusive
    /// rejection (a challenger that lost an interactive game by timeout, say) restarts the challenge window
    /// instead, at most MAX_DISPUTE_ROUNDS - 1 times.
    /// @param deliverResult With operatorAtFault: `resultCode` and `output` are the correct result, delivered to the
    /// consumer. Without it the request is voided (consumer refunded, callback with RESULT_VOIDED).
    struct Verdict {
        bool operatorAtFault;
        bool conclusive;
        bool deliverResult;
        uint8 resultCode;
        bytes output;
    }

    /// @notice An open dispute.
    struct Dispute {
        address challenger;
        uint96 bondWei;
        uint40 openedAt;
    }

    /// @notice Economic and timing parameters. The owner may change the first slot (within fixed bounds) for later
    /// requests: every request snapshots what it uses (fees, windows, its bond). The second slot, the dispute
    /// terms (reward split, failed-challenge split, bond floor), is fixed at deployment: `setParams` must repeat it.
    /// @param exclusiveWindowSeconds How long the assigned operator alone may serve a request.
    /// @param minDeadlineSeconds Shortest allowed time from request to deadline.
    /// @param maxDeadlineSeconds Longest allowed time from request to deadline.
    /// @param maxCallbackGasLimit Largest callback gas limit a request may ask for.
    /// @param maxInputBytes Largest input accepted.
    /// @param callbackGasFeeWei Fee per unit of callback gas, added to the model fee (stake-token units).
    /// @param protocolFeeBps Share of each fee credited to the treasury at finalization (fixed per request).
    /// @param challengeBondBps Bond as a share of the disputed result's collateral (at most all of it)...
    /// @param challengerRewardBps Share of a slash paid to the winning challenger (the rest to the treasury).
    /// Fixed at deployment.
    /// @param failedChallengeOperatorBps Share of a losing challenger's bond paid to the operator, for the first
    /// lost dispute of a request (later ones go wholly to the treasury). Fixed at deployment.
    /// @param minChallengeBondWei ...but never less than this floor (no griefing by tiny disputes), nor more than
    /// the collateral. Fixed at deployment.
    struct Params {
        uint32 exclusiveWindowSeconds;
        uint32 minDeadlineSeconds;
        uint32 maxDeadlineSeconds;
        uint32 maxCallbackGasLimit;
        uint32 maxInputBytes;
        uint64 callbackGasFeeWei;
        uint16 protocolFeeBps;
        uint16 challengeBondBps;
        // Second slot: the dispute terms, fixed at deployment.
        uint16 challengerRewardBps;
        uint16 failedChallengeOperatorBps;
        uint96 minChallengeBondWei;
    }

    /// @notice Emitted on every request; carries everything an operator needs, input bytes included. The request's
    /// struct is the topics, the ten fields packed in `terms`, keccak256(input) as `inputHash`, status Requested and
    /// zeros (`requestFromRequested` in oracle/src/chain/requestEvents.ts rebuilds it). `terms`, from the low bits:
    /// [0] feeWei (96 bits), assignedOperator (160);
    /// [1] collateralWei (96), protocolFeeWei (96), deadline (40), mode (8);
    /// [2] bondWei (96), exclusiveUntil (40), callbackGasLimit (32), challengeWindowSeconds (32).
    event InferenceRequested(
        uint256 indexed requestId,
        bytes32 indexed modelId,
        address indexed consumer,
        uint256[3] terms,
        bytes input
    );
    /// @notice Emitted when an operator's result is accepted; the challenge window starts. The submitted struct is
    /// the request's with status Submitted, these fields, and keccak256(output) as `outputHash`
    /// (`applyRequestEvents` in oracle/src/chain/requestEvents.ts).
    event ResultSubmitted(
        uint256 indexed requestId,
        address indexed operator,
        uint8 resultCode,
        bytes32 traceCommitment,
        uint40 challengeEndsAt,
        bytes output
    );
    /// @notice Emitted when a result settles: the operator (ResultSubmitted's) was paid the request's fee less its
    /// `protocolFeeWei`, which went to the treasury. The callback outcome is recorded here whatever it was.
    event ResultFinalized(uint256 indexed requestId, bool callbackSucceeded, uint256 callbackGasUsed);
    /// @notice Emitted when a batch item is skipped because its request was already handled.
    event BatchItemSkipped(uint256 indexed requestId);
    /// @notice Emitted when an unanswered request is cancelled after its deadline and the fee refunded.
    event RequestCancelled(uint256 indexed requestId, address indexed consumer, uint96 refundWei);
    /// @notice Emitted when a challenge is committed (the first half of commit-reveal). The commitment hides which
    /// result is targeted until `challenge` reveals it, from the next block on.
    event ChallengeCommitted(bytes32 indexed commitment, address indexed committer);
    /// @notice Emitted when a result is challenged; finalization is frozen until the dispute resolves.
    event ResultChallenged(
        uint256 indexed requestId,
        address indexed challenger,
        address indexed resolver,
        uint96 bondWei
    );
    /// @notice Emitted when a dispute is decided.
    event DisputeResolved(
        uint256 indexed requestId,
        bool operatorAtFault,
        address indexed challenger,
        address indexed operator,
        uint256 slashedWei,
        uint256 challengerPayoutWei
    );
    /// @notice Emitted when a dispute is rejected and the result goes back to Submitted: with a fresh challenge
    /// window, or (after a conclusive verdict) with one that ends now, so it can be finalized at once.
    /// @param disputeRounds How many disputes the result has survived.
    event ChallengeWindowRestarted(uint256 indexed requestId, uint40 challengeEndsAt, uint8 disputeRounds);
    /// @notice Emitted when a result survived MAX_DISPUTE_ROUNDS inconclusive disputes: the request is voided
    /// (consumer refunded, collateral unlocked, callback with RESULT_VOIDED) rather than held any longer.
    event ResultVoided(uint256 indexed requestId, uint8 disputeRounds);
    /// @notice Emitted when a dispute nobody resolved in time expires: no slash, bond returned, consumer refunded.
    event DisputeExpired(uint256 indexed requestId, address indexed challenger);
    /// @notice Emitted when a result is delivered to the consumer by a dispute instead of a finalization.
    event ResultDelivered(uint256 indexed requestId, uint8 resultCode, bool callbackSucceeded, uint256 callbackGasUsed);
    /// @notice Emitted when an operator is proven to have signed two different results for the same question.
    event EquivocationProven(
        address indexed operator,
        bytes32 indexed modelId,
        bytes32 inputHash,
        address indexed reporter,
        uint256 slashedWei
    );
    /// @notice Emitted when an operator's off-chain attestation is proven wrong by on-chain re-execution.
    event FraudProven(
        address indexed operator,
        bytes32 indexed modelId,
        bytes32 inputHash,
        address indexed reporter,
        uint256 slashedWei
    );
    /// @notice Emitted on deposits into an account's prepaid balance.
    event Deposited(address indexed account, address indexed from, uint256 amountWei);
    /// @notice Emitted on withdrawals from an account's balance.
    event Withdrawn(address indexed account, address indexed to, uint256 amountWei);
    /// @notice Emitted when the owner changes parameters.
    event ParamsUpdated(Params params);
    /// @notice Emitted when the owner changes the treasury.
    event TreasuryUpdated(address treasury);
    /// @notice Emitted when the resolver of a verification mode is set (once per mode).
    event ResolverSet(IModelRegistry.VerificationMode indexed mode, address resolver);

    /// @notice The request does not match its stored commitment (wrong fields, already settled, or unknown).
    error CoordinatorUnknownRequest(uint256 requestId);
    /// @notice The request is in the wrong state for this action.
    error CoordinatorWrongStatus(uint256 requestId, RequestStatus have, RequestStatus want);
    /// @notice The model is deactivated.
    error CoordinatorModelInactive(bytes32 modelId);
    /// @notice Only the registry writes the coordinator's copy of model terms.
    error CoordinatorNotRegistry(address caller);
    /// @notice A staking-only entry point called by another address.
    error CoordinatorNotStaking(address caller);
    /// @notice The fee is above the consumer's RequestOptions.maxFeeWei.
    error CoordinatorFeeAboveMax(uint256 have, uint256 max);
    /// @notice Only the request's consumer may do this.
    error CoordinatorNotConsumer(address have, address want);
    /// @notice The operator's free and unbonding stake does not cover the equivocation slash (yet); the proof is
    /// not consumed and can be submitted again later.
    error CoordinatorInsufficientSlashableStake(address operator, uint256 have, uint256 want);
    /// @notice The consumer's prepaid balance does not cover the fee.
    error CoordinatorInsufficientBalance(uint256 have, uint256 want);
    /// @notice The callback gas limit is above the maximum.
    error CoordinatorCallbackGasTooHigh(uint32 have, uint32 max);
    /// @notice The deadline is outside [now + minDeadlineSeconds, now + maxDeadlineSeconds].
    error CoordinatorInvalidDeadline(uint40 have, uint40 min, uint40 max);
    /// @notice The input is empty or larger than the maximum.
    error CoordinatorInvalidInputLength(uint256 have, uint256 max);
    /// @notice The result comes after the request's deadline.
    error CoordinatorDeadlinePassed(uint40 now_, uint40 deadline);
    /// @notice The request is still within its deadline (cannot be cancelled yet).
    error CoordinatorDeadlineNotPassed(uint40 now_, uint40 deadline);
    /// @notice During the exclusive window only the request's `assignedOperator` may serve.
    error CoordinatorNotAssignedOperator(address have, address want);
    /// @notice Operators may not use protocol-reserved result codes.
    error CoordinatorInvalidResultCode(uint8 have, uint8 max);
    /// @notice BISECTION results need a trace commitment.
    error CoordinatorMissingTraceCommitment(uint256 requestId);
    /// @notice The challenge window has not ended.
    error CoordinatorChallengeWindowOpen(uint40 now_, uint40 endsAt);
    /// @notice The challenge window has ended.
    error CoordinatorChallengeWindowClosed(uint40 now_, uint40 endsAt);
    /// @notice This challenge commitment is already stored (and not yet used): commit with another salt.
    error CoordinatorChallengeCommitmentExists(bytes32 commitment);
    /// @notice The caller committed no challenge `challengeCommitment(request.requestId, msg.sender, salt)` (or it
    /// was used already): commit it first, then reveal it from the next block on.
    error CoordinatorNoChallengeCommitment(bytes32 commitment);
    /// @notice The challenge's commitment was made in this block: a reveal is accepted from the next block on.
    error CoordinatorChallengeCommitmentTooRecent(uint64 committedAt, uint64 blockNumber);
    /// @notice The bytes re-supplied do not hash to the stored output hash.
    error CoordinatorOutputMismatch(bytes32 have, bytes32 want);
    /// @notice The finalizer sent too little gas to give the callback its exact gas limit.
    error CoordinatorInsufficientGasForCallback(uint256 have, uint256 want);
    /// @notice No resolver handles this verification mode yet.
    error CoordinatorNoResolver(IModelRegistry.VerificationMode mode);
    /// @notice The resolver of this mode is already set; resolvers are immutable.
    error CoordinatorResolverAlreadySet(IModelRegistry.VerificationMode mode, address resolver);
    /// @notice Only the resolver of the request's mode may decide its dispute.
    error CoordinatorNotResolver(address have, address want);
    /// @notice The dispute has not timed out yet.
    error CoordinatorDisputeNotExpired(uint40 now_, uint40 expiresAt);
    /// @notice The dispute timed out: a verdict comes too late (anyone may expire the dispute instead).
    error CoordinatorDisputeTimedOut(uint40 now_, uint40 expiresAt);
    /// @notice The two attestations are not an equivocation (different question, or the same answer).
    error CoordinatorNotEquivocation();
    /// @notice The two attestations are signed by different operators.
    error CoordinatorSignerMismatch(address first, address second);
    /// @notice This equivocation was already punished.
    error CoordinatorEquivocationAlreadyProven(bytes32 key);
    /// @notice Fraud proofs take off-chain attestations only (requestId 0); on-chain results are disputed instead.
    error CoordinatorNotOffchainAttestation(uint256 requestId);
    /// @notice The input supplied does not hash to the attestation's inputHash.
    error CoordinatorInputMismatch(bytes32 have, bytes32 want);
    /// @notice The model's verification mode cannot check a result on-chain on its own (only REEXECUTION can).
    error CoordinatorFraudProofUnsupported(IModelRegistry.VerificationMode mode);
    /// @notice The re-execution agrees with the attestation: there is no fraud.
    error CoordinatorNotFraud();
    /// @notice A parameter is out of its allowed range.
    error CoordinatorInvalidParam(string name);
    /// @notice Zero amount or zero address.
    error CoordinatorZeroValue();
    /// @notice The batch is empty.
    error CoordinatorEmptyBatch();

    /// @notice Credits `amountWei` of the fee token to `account`'s prepaid balance (pulled from the caller).
    /// @param account The account credited, usually a consumer contract.
    /// @param amountWei The amount.
    function deposit(address account, uint256 amountWei) external;

    /// @notice Withdraws from the caller's balance (prepaid fees, refunds, operator fees, challenge payouts).
    /// @param to Recipient.
    /// @param amountWei The amount.
    function withdraw(address to, uint256 amountWei) external;

    /// @notice Requests inference. The fee (model fee + callback gas fee) moves from the caller's balance to
    /// escrow. The caller is the consumer that receives the callback.
    /// @param modelId The registered, active model.
    /// @param input Canonical tensor-list encoding of the inputs, per the model's manifest.
    /// @param options Callback gas limit, deadline, preferred operator.
    /// @return requestId keccak256(abi.encode(consumer, consumerNonce)).
    function requestInference(
        bytes32 modelId,
        bytes calldata input,
        RequestOptions calldata options
    ) external returns (uint256 requestId);

    /// @notice Submits a result for a request as the calling operator; locks its collateral.
    /// @param request The request as emitted in InferenceRequested.
    /// @param resultCode RESULT_OK or an error code (e.g. RESULT_INVALID_INPUT for malformed input).
    /// @param output Canonical tensor-list encoding of the outputs; only its hash is stored.
    /// @param traceCommitment Commitment to the execution trace (BISECTION models), else zero.
    function submitResult(
        Request calldata request,
        uint8 resultCode,
        bytes calldata output,
        bytes32 traceCommitment
    ) external;

    /// @notice Submits many results signed by their operators (EIP-712 Attestation). Any relayer may send it.
    /// @dev Items whose request no longer matches its commitment (already served or cancelled) are skipped with
    /// BatchItemSkipped; any other invalid item reverts the batch (relayers should simulate first).
    /// @param items The attested results.
    function submitAttestedResults(AttestedResult[] calldata items) external;

    /// @notice Finalizes a result after its challenge window: pays the operator, unlocks collateral, and calls
    /// the consumer with exactly its callback gas limit. Anyone may call.
    /// @param request The request as last committed (status Submitted).
    /// @param output The output bytes, checked against the stored hash.
    function finalize(Request calldata request, bytes calldata output) external;

    /// @notice Finalizes many results; already-settled items are skipped with BatchItemSkipped.
    /// @param items The requests and outputs.
    function finalizeBatch(Settlement[] calldata items) external;

    /// @notice Cancels a request nobody served before its deadline; refunds the whole fee to the consumer's
    /// balance. Only the consumer may cancel, so a request ends either in a callback or by the consumer's own act.
    /// @param request The request (status Requested).
    function cancelRequest(Request calldata request) external;

    /// @notice Commits a challenge: the first half of commit-reveal, so that a challenge seen in the mempool cannot
    /// be copied by another address. `commitment` is `challengeCommitment(requestId, challenger, salt)`, with the
    /// challenger's own address and a secret random salt; `challenge` reveals it from the next block on, once.
    /// Anyone may commit; a commitment carries no bond (the target is hidden, so no bond could be priced for it).
    /// @param commitment The commitment (non-zero, not already stored).
    function commitChallenge(bytes32 commitment) external;

    /// @notice Challenges a submitted result during its window with a bond (pulled from the caller), revealing the
    /// caller's commitment `challengeCommitment(request.requestId, msg.sender, salt)`, which must have been made in
    /// an earlier block; the commitment is used up. Freezes finalization and hands the dispute to the resolver of the
    /// model's verification mode, which may decide it at once.
    /// @param request The request (status Submitted).
    /// @param evidence Opaque data for the resolver (e.g. the input bytes, a claimed output).
    /// @param salt The salt of the caller's commitment.
    function challenge(Request calldata request, bytes calldata evidence, bytes32 salt) external;

    /// @notice Applies a resolver's verdict. Only the resolver of the request's mode.
    /// @param request The request (status Disputed).
    /// @param verdict The decision.
    function resolveDispute(Request calldata request, Verdict calldata verdict) external;

    /// @notice Ends a dispute nobody resolved within `disputeTimeoutSeconds`: no slash, bond back, collateral
    /// unlocked, consumer refunded and called back with RESULT_VOIDED. Anyone may call.
    /// @param request The request (status Disputed).
    function expireDispute(Request calldata request) external;

    /// @notice Slashes an operator that signed two different results for the same (model, input) — for QUORUM
    /// (float) models, for the same on-chain request. No re-execution needed. The reporter gets the challenger
    /// share. Slashes the model's full collateral or nothing: with too little free + unbonding stake it reverts
    /// without consuming the proof.
    /// @param first The first attestation.
    /// @param firstSignature Its signature.
    /// @param second The second attestation.
    /// @param secondSignature Its signature.
    function proveEquivocation(
        Attestation calldata first,
        bytes calldata firstSignature,
        Attestation calldata second,
        bytes calldata secondSignature
    ) external;

    /// @notice Proves that an operator signed a wrong result off-chain and slashes it: for a REEXECUTION model, the
    /// REEXECUTION resolver re-executes the model on `input` and the attestation disagrees. The slash and the
    /// reporter's share are those of an equivocation, and share its once-per-(operator, model, input) record: one
    /// wrong answer is punished once, whichever proof comes first.
    /// @dev Only off-chain attestations (requestId 0): a result submitted on-chain is settled by its dispute, so
    /// it cannot be punished twice.
    /// @param attestation The operator's attestation (requestId 0).
    /// @param signature Its EIP-712 signature.
    /// @param input The input bytes (keccak256 must equal attestation.inputHash).
    function proveFraud(Attestation calldata attestation, bytes calldata signature, bytes calldata input) external;

    /// @notice The registry's write of a model's terms into the coordinator's copy, in the same transaction as
    /// every change (registration, fee change, deactivation): one writer, so the copy always equals the
    /// registry's terms, and a request reads one slot instead of calling the registry. Only the registry.
    /// @param modelId The model.
    /// @param terms Its terms as the registry now holds them.
    function syncModelTerms(bytes32 modelId, IModelRegistry.ModelTerms calldata terms) external;

    /// @notice The staking contract's report that `operator`'s active stake rose by `amountWei` (a deposit): its
    /// free stake here rises by as much. Only the staking contract.
    /// @param operator The operator.
    /// @param amountWei Stake-token base units.
    function creditFreeStake(address operator, uint96 amountWei) external;

    /// @notice The staking contract's report that `amountWei` of `operator`'s free stake left its active stake
    /// (unbonding or a slash of free stake): its free stake here falls by as much (reverts below zero). Only the
    /// staking contract.
    /// @param operator The operator.
    /// @param amountWei Stake-token base units.
    function debitFreeStake(address operator, uint96 amountWei) external;

    /// @notice The staking contract's registration (true) or removal (false: unregistration, eviction) of
    /// `operator` in `modelId`'s operator set, which the coordinator keeps because requests and submissions read
    /// it. Reverts `IStaking.StakingAlreadyRegistered` / `IStaking.StakingNotRegistered`. Only the staking contract.
    /// @param modelId The model.
    /// @param operator The operator.
    /// @param registered Add (true) or remove (false).
    function setRegistered(bytes32 modelId, address operator, bool registered) external;

    /// @notice Sets the resolver of a verification mode. Owner only, once per mode.
    /// @param mode The verification mode.
    /// @param resolver The resolver contract.
    function setResolver(IModelRegistry.VerificationMode mode, address resolver) external;

    /// @notice Sets the parameters. Owner only, within fixed bounds.
    /// @param params The parameters.
    function setParams(Params calldata params) external;

    /// @notice Sets the treasury credited with protocol fees and the non-reward part of slashes.
    /// @param treasury The treasury.
    function setTreasury(address treasury) external;

    /// @notice The EIP-712 digest an operator signs for `attestation`.
    /// @param attestation The attestation.
    /// @return The digest.
    function attestationDigest(Attestation calldata attestation) external view returns (bytes32);

    /// @notice The signer of an attestation (reverts on malformed or malleable signatures).
    /// @param attestation The attestation.
    /// @param signature 65-byte (r, s, v) signature.
    /// @return The signer.
    function recoverAttester(
        Attestation calldata attestation,
        bytes calldata signature
    ) external view returns (address);

    /// @notice Whether `request` is exactly the committed state of an open request (every field, status included):
    /// what submit, finalize, challenge and cancel check before acting on it. A struct of an earlier stage (say,
    /// Requested after the result was submitted) or of a request that ended is not committed. A request that ended
    /// did so in exactly one of: its consumer's cancel, a callback (`callbackFailed` tells whether it reverted).
    /// @param request The request struct, as rebuilt from the coordinator's events.
    /// @return True when `request` is committed.
    function isCommitted(Request calldata request) external view returns (bool);

    /// @notice The commitment hash of a request struct.
    /// @param request The request.
    /// @return keccak256(abi.encode(request)).
    function hashRequest(Request calldata request) external pure returns (bytes32);

    /// @notice The commitment a challenge of `requestId` by `challenger` with `salt` reveals: keccak256 of
    /// abi.encode(requestId, challenger, salt). Clients compute it with this view or exactly as it does.
    /// @param requestId The request to challenge.
    /// @param challenger The address that will send the reveal (`challenge`).
    /// @param salt A secret random value (it hides the target until the reveal).
    /// @return The commitment to pass to `commitChallenge`.
    function challengeCommitment(uint256 requestId, address challenger, bytes32 salt) external pure returns (bytes32);

    /// @notice The block in which a challenge commitment was made, or 0 when none is stored (never made, or used).
    /// @param commitment The commitment.
    /// @return The block number.
    function getChallengeCommitment(bytes32 commitment) external view returns (uint64);

    /// @notice The open dispute of a request (zero fields when none).
    /// @param requestId The request.
    /// @return The dispute.
    function getDispute(uint256 requestId) external view returns (Dispute memory);

    /// @notice The bond a request made now for a result with `collateralWei` fixes (a request's own bond is in its
    /// struct, `Request.bondWei`).
    /// @param collateralWei The result's collateral.
    /// @return max(minChallengeBondWei, collateralWei * challengeBondBps / 10,000), at most collateralWei.
    function challengeBond(uint96 collateralWei) external view returns (uint96);

    /// @notice Whether a request's callback failed when it was delivered.
    /// @param requestId The request.
    /// @return True when the callback reverted or ran out of gas.
    function callbackFailed(uint256 requestId) external view returns (bool);

    /// @notice An account's withdrawable balance.
    /// @param account The account.
    /// @return Stake-token base units.
    function balanceOf(address account) external view returns (uint256);

    /// @notice An operator's free stake: its active stake in the staking contract minus the collateral locked for
    /// its results in flight (submitted or disputed, not yet settled). It lives here, next to the operator's fee
    /// balance, so a request judges its rotation pick, a submission locks collateral and a settlement releases it
    /// and pays the fee each with one slot; the staking contract keeps it current and reads it back
    /// (`IStaking.freeStake`, `getStake().lockedWei`, unbonding, slashing).
    /// @param operator The operator.
    /// @return Stake-token base units, at most the operator's active stake.
    function freeStakeOf(address operator) external view returns (uint256);

    /// @notice The operators registered for a model, in rotation order (`IStaking.getOperators` reads this).
    /// @param modelId The model.
    /// @return The set.
    function getOperators(bytes32 modelId) external view returns (address[] memory);

    /// @notice The rotation's pick for `seed` in O(1): `getOperators(modelId)[seed % n]`, or address(0) for an empty
    /// set (`IStaking.operatorAt` reads this).
    /// @param modelId The model.
    /// @param seed The request's seed (its id).
    /// @return The operator.
    function operatorAt(bytes32 modelId, uint256 seed) external view returns (address);

    /// @notice Whether `operator` is registered for `modelId` (`IStaking.isRegistered` reads this).
    /// @param modelId The model.
    /// @param operator The operator.
    /// @return True when registered.
    function isRegistered(bytes32 modelId, address operator) external view returns (bool);

    /// @notice How many requests an account has made (its next request uses this nonce).
    /// @param account The account.
    /// @return The nonce.
    function requestNonce(address account) external view returns (uint64);

    /// @notice The fee a request with `callbackGasLimit` pays for `modelId` now.
    /// @param modelId The model.
    /// @param callbackGasLimit The callback gas limit.
    /// @return The fee.
    function quoteFee(bytes32 modelId, uint32 callbackGasLimit) external view returns (uint96);

    /// @notice The current parameters.
    /// @return The parameters.
    function getParams() external view returns (Params memory);

    /// @notice The resolver of a verification mode (address(0) when unset).
    /// @param mode The mode.
    /// @return The resolver.
    function getResolver(IModelRegistry.VerificationMode mode) external view returns (address);

    /// @notice The treasury.
    /// @return The treasury address.
    function treasury() external view returns (address);

    /// @notice The model registry this coordinator reads.
    /// @return The registry's address.
    function registry() external view returns (address);

    /// @notice The largest callback gas limit any parameters can allow (a hard bound on `maxCallbackGasLimit`).
    /// @return Gas.
    function MAX_CALLBACK_GAS_LIMIT() external view returns (uint32);

    /// @notice The largest input any parameters can allow (a hard bound on `maxInputBytes`).
    /// @return Bytes.
    function MAX_INPUT_BYTES() external view returns (uint32);

    /// @notice How long a dispute may stay open before anyone can expire it.
    /// @return Seconds.
    function disputeTimeoutSeconds() external view returns (uint40);

    /// @notice The latest time by which `request` can be settled (finalized, voided or refunded) by anyone,
    /// whatever operators and challengers do: its deadline, one challenge window, and MAX_DISPUTE_ROUNDS disputes
    /// each followed by a new window. Known when the request is made.
    /// @param request The request as emitted in InferenceRequested.
    /// @return Unix time.
    function settlementBound(Request calldata request) external view returns (uint256);
}
