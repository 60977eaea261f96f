// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IInferenceCoordinator} from "../interfaces/IInferenceCoordinator.sol";
import {IInferenceConsumer} from "../interfaces/IInferenceConsumer.sol";
import {IDisputeResolver} from "../interfaces/IDisputeResolver.sol";
import {IModelRegistry} from "../interfaces/IModelRegistry.sol";
import {IStaking} from "../interfaces/IStaking.sol";
import {ResultCodes} from "../libraries/ResultCodes.sol";
import {CoordinatorStorage} from "./CoordinatorStorage.sol";

/// @title DisputeLogic
/// @notice The InferenceCoordinator's cold paths: challenges, verdicts, expired disputes, equivocation and fraud
/// slashing, parameter changes and operator-set edits. A linked library: its external functions run by
/// DELEGATECALL in the coordinator's context, on the coordinator's storage (CoordinatorStorage.Layout) and token
/// balance, emitting the coordinator's events.
/// @dev SECURITY CONSIDERATIONS
/// - Only the coordinator calls it, from entry points that hold the coordinator's reentrancy lock and have done
///   their own access checks (the resolver's identity for verdicts, signature recovery for proofs). Solidity's
///   library call protection makes a direct CALL to a state-changing function revert, and a library has no
///   storage of its own to corrupt.
/// - Every term a dispute uses is fixed before it opens: the bond is in the request struct (computed at request
///   time), the reward split and the failed-challenge split are fixed at deployment, and the dispute timeout is
///   the coordinator's immutable. An owner cannot change how an in-flight request's dispute ends.
/// - No endless stall: a conclusive verdict for the operator (REEXECUTION re-executes the program, so its verdict
///   proves the result) closes the window at once; an inconclusive one restarts it at most MAX_DISPUTE_ROUNDS - 1
///   times, and the last allowed loss voids the request (refund, VOIDED callback) instead. Only the first losing
///   bond is shared with the operator; later ones go wholly to the treasury, so an operator stalling its own
///   result pays more than it gets.
/// - A challenge reveals a commitment of its sender's made in an earlier block (`commitChallenge`), checked and
///   deleted before anything else: one commitment opens one dispute, and a copy of the reveal sent by another
///   address fails (the commitment binds msg.sender, which DELEGATECALL preserves). A reveal that reverts later
///   (wrong status, closed window, no bond) keeps its commitment, like every other effect of a reverted call.
/// - Moving the dispute paths here costs one DELEGATECALL (about 2,700 gas cold) per dispute or proof; the
///   request, submit and finalize paths do not touch it.
library DisputeLogic {
    using SafeERC20 for IERC20;
    using CoordinatorStorage for CoordinatorStorage.Layout;

    /// @notice The coordinator's immutables that the dispute paths need (a library cannot read them itself).
    struct Env {
        IERC20 token;
        IStaking staking;
        IModelRegistry registry;
        uint40 disputeTimeoutSeconds;
        uint8 maxDisputeRounds;
    }

    /// @notice Stores a challenge commitment with the block it is made in (commit-reveal; no bond, see `challenge`).
    function commitChallenge(CoordinatorStorage.Layout storage s, bytes32 commitment) external {
        if (commitment == bytes32(0)) revert IInferenceCoordinator.CoordinatorZeroValue();
        if (s.challengeCommitments[commitment] != 0) {
            revert IInferenceCoordinator.CoordinatorChallengeCommitmentExists(commitment);
        }
        // Fits: block numbers stay far below 2^64.
        s.challengeCommitments[commitment] = uint64(block.number);
        emit IInferenceCoordinator.ChallengeCommitted(commitment, msg.sender);
    }

    /// @notice Opens a dispute over a submitted result and hands it to the mode's resolver, revealing the caller's
    /// commitment (made in an earlier block) and using it up.
    function challenge(
        CoordinatorStorage.Layout storage s,
        Env memory env,
        IInferenceCoordinator.Request calldata request,
        bytes calldata evidence,
        bytes32 salt
    ) external {
        // The commitment binds msg.sender: a reveal copied from the mempool and sent from another address matches
        // no commitment. It must be a block old, so it was made before anyone could see this reveal.
        bytes32 commitment = CoordinatorStorage.challengeCommitment(request.requestId, msg.sender, salt);
        uint64 committedAt = s.challengeCommitments[commitment];
        if (committedAt == 0) revert IInferenceCoordinator.CoordinatorNoChallengeCommitment(commitment);
        if (committedAt >= block.number) {
            revert IInferenceCoordinator.CoordinatorChallengeCommitmentTooRecent(committedAt, uint64(block.number));
        }
        delete s.challengeCommitments[commitment];

        bool home = s.requireCommitment(request, IInferenceCoordinator.RequestStatus.Submitted);
        if (block.timestamp >= request.challengeEndsAt) {
            revert IInferenceCoordinator.CoordinatorChallengeWindowClosed(
                uint40(block.timestamp),
                request.challengeEndsAt
            );
        }
        address resolver = _resolverOf(s, request.mode);

        // The bond was fixed when the request was made.
        uint96 bondWei = request.bondWei;
        IInferenceCoordinator.Request memory disputed = request;
        disputed.status = IInferenceCoordinator.RequestStatus.Disputed;
        s.commit(disputed, home);
        s.disputes[request.requestId] = IInferenceCoordinator.Dispute({
            challenger: msg.sender,
            bondWei: bondWei,
            openedAt: uint40(block.timestamp)
        });
        env.token.safeTransferFrom(msg.sender, address(this), bondWei);
        emit IInferenceCoordinator.ResultChallenged(request.requestId, msg.sender, resolver, bondWei);

        (bool decided, IInferenceCoordinator.Verdict memory verdict) = IDisputeResolver(resolver).onDisputeOpened(
            disputed,
            msg.sender,
            evidence
        );
        if (decided) _applyVerdict(s, env, disputed, verdict, home);
    }

    /// @notice Applies a verdict the mode's resolver sends later (the caller checked the resolver).
    function resolveDispute(
        CoordinatorStorage.Layout storage s,
        Env memory env,
        IInferenceCoordinator.Request calldata request,
        IInferenceCoordinator.Verdict calldata verdict
    ) external {
        bool home = s.requireCommitment(request, IInferenceCoordinator.RequestStatus.Disputed);
        address resolver = s.resolvers[request.mode];
        if (msg.sender != resolver) revert IInferenceCoordinator.CoordinatorNotResolver(msg.sender, resolver);
        // A verdict after the timeout could restart the window past settlementBound: the dispute is expired.
        uint40 expiresAt = s.disputes[request.requestId].openedAt + env.disputeTimeoutSeconds;
        if (block.timestamp >= expiresAt) {
            revert IInferenceCoordinator.CoordinatorDisputeTimedOut(uint40(block.timestamp), expiresAt);
        }
        _applyVerdict(s, env, request, verdict, home);
    }

    /// @notice Voids a dispute nobody resolved in time: no slash, bond back, consumer refunded.
    function expireDispute(
        CoordinatorStorage.Layout storage s,
        Env memory env,
        IInferenceCoordinator.Request calldata request
    ) external {
        bool home = s.requireCommitment(request, IInferenceCoordinator.RequestStatus.Disputed);
        IInferenceCoordinator.Dispute memory dispute = s.disputes[request.requestId];
        uint40 expiresAt = dispute.openedAt + env.disputeTimeoutSeconds;
        if (block.timestamp < expiresAt) {
            revert IInferenceCoordinator.CoordinatorDisputeNotExpired(uint40(block.timestamp), expiresAt);
        }

        s.clear(request.consumer, request.requestId, home);
        delete s.disputes[request.requestId];
        s.unlock(request.operator, request.collateralWei);
        s.credit(dispute.challenger, dispute.bondWei);
        s.credit(request.consumer, request.feeWei);
        emit IInferenceCoordinator.DisputeExpired(request.requestId, dispute.challenger);
        _deliverAfterDispute(s, request, ResultCodes.VOIDED, "");
    }

    /// @notice Slashes `operator` for two different signed answers to one (model, input): `operator` and
    /// `secondSigner` are the signers the caller recovered from `first` and `second`.
    function slashEquivocation(
        CoordinatorStorage.Layout storage s,
        Env memory env,
        address operator,
        address secondSigner,
        IInferenceCoordinator.Attestation calldata first,
        IInferenceCoordinator.Attestation calldata second
    ) external {
        if (operator != secondSigner) revert IInferenceCoordinator.CoordinatorSignerMismatch(operator, secondSigner);
        if (first.modelId != second.modelId || first.inputHash != second.inputHash) {
            revert IInferenceCoordinator.CoordinatorNotEquivocation();
        }
        if (first.resultCode == second.resultCode && first.outputHash == second.outputHash) {
            revert IInferenceCoordinator.CoordinatorNotEquivocation();
        }
        uint256 secondRequestId = second.requestId;
        IModelRegistry.ModelTerms memory terms = env.registry.getModelTerms(first.modelId);
        // Where results are exact (integer models), one (model, input) has one answer, whatever the request. Where
        // outputs can drift across runtimes (float models), only two answers to the same request count, so
        // off-chain receipts (requestId 0) never do. The mode's resolver says which.
        uint256 scope;
        if (!IDisputeResolver(_resolverOf(s, terms.mode)).exactResults(first.modelId)) {
            if (first.requestId != secondRequestId || first.requestId == 0) {
                revert IInferenceCoordinator.CoordinatorNotEquivocation();
            }
            scope = first.requestId;
        }
        uint256 slashedWei = _slashOnce(s, env, operator, first.modelId, first.inputHash, scope, terms.collateralWei);
        emit IInferenceCoordinator.EquivocationProven(operator, first.modelId, first.inputHash, msg.sender, slashedWei);
    }

    /// @notice Slashes `operator` (the attestation's signer, recovered by the caller, which checked that the
    /// attestation is off-chain: request id 0) for a wrong attestation about `input`, as the model's resolver
    /// decides it (a REEXECUTION model's re-executes; the other modes decide none yet).
    function proveFraud(
        CoordinatorStorage.Layout storage s,
        Env memory env,
        address operator,
        IInferenceCoordinator.Attestation calldata attestation,
        bytes calldata input
    ) external {
        bytes32 inputHash = keccak256(input);
        if (inputHash != attestation.inputHash) {
            revert IInferenceCoordinator.CoordinatorInputMismatch(inputHash, attestation.inputHash);
        }
        IModelRegistry.ModelTerms memory terms = env.registry.getModelTerms(attestation.modelId);
        (bool decidable, bool wrong) = IDisputeResolver(_resolverOf(s, terms.mode)).checkResult(
            attestation.modelId,
            input,
            attestation.resultCode,
            attestation.outputHash
        );
        if (!decidable) revert IInferenceCoordinator.CoordinatorFraudProofUnsupported(terms.mode);
        if (!wrong) revert IInferenceCoordinator.CoordinatorNotFraud();
        uint256 slashedWei = _slashOnce(
            s,
            env,
            operator,
            attestation.modelId,
            attestation.inputHash,
            0,
            terms.collateralWei
        );
        emit IInferenceCoordinator.FraudProven(
            operator,
            attestation.modelId,
            attestation.inputHash,
            msg.sender,
            slashedWei
        );
    }

    /// @dev The resolver of `mode`; reverts when there is none (a mode's resolver is set once and never removed, and
    /// the registry registers no model of a mode without one).
    function _resolverOf(
        CoordinatorStorage.Layout storage s,
        IModelRegistry.VerificationMode mode
    ) private view returns (address resolver) {
        resolver = s.resolvers[mode];
        if (resolver == address(0)) revert IInferenceCoordinator.CoordinatorNoResolver(mode);
    }

    /// @dev Slashes `collateralWei` of an operator's stake for a proven wrong answer to (model, input), once per
    /// (operator, model, input, scope), and pays the reporter its share.
    function _slashOnce(
        CoordinatorStorage.Layout storage s,
        Env memory env,
        address operator,
        bytes32 modelId,
        bytes32 inputHash,
        uint256 scope,
        uint96 collateralWei
    ) private returns (uint256 slashedWei) {
        bytes32 key = keccak256(abi.encode(operator, modelId, inputHash, scope));
        if (s.equivocationProven[key]) revert IInferenceCoordinator.CoordinatorEquivocationAlreadyProven(key);
        s.equivocationProven[key] = true;

        // All or nothing: a partial slash would consume the proof for less than the penalty (an operator could
        // keep 1 wei free and report itself first). Reverting also leaves the proof usable later.
        slashedWei = env.staking.slash(operator, collateralWei);
        if (slashedWei != collateralWei) {
            revert IInferenceCoordinator.CoordinatorInsufficientSlashableStake(operator, slashedWei, collateralWei);
        }
        uint256 rewardWei = (slashedWei * s.disputeTerms.challengerRewardBps) / CoordinatorStorage.BPS;
        s.credit(msg.sender, rewardWei);
        s.credit(s.treasury, slashedWei - rewardWei);
    }

    function _applyVerdict(
        CoordinatorStorage.Layout storage s,
        Env memory env,
        IInferenceCoordinator.Request memory request,
        IInferenceCoordinator.Verdict memory verdict,
        bool home
    ) private {
        uint256 requestId = request.requestId;
        IInferenceCoordinator.Dispute memory dispute = s.disputes[requestId];
        delete s.disputes[requestId];

        if (!verdict.operatorAtFault) {
            _rejectChallenge(s, env, request, dispute, verdict.conclusive, home);
            return;
        }

        // The operator was wrong: slash its collateral (released from the lock, so the staking contract takes exactly
        // that much out of free stake), pay the challenger, refund the consumer.
        s.clear(request.consumer, requestId, home);
        s.unlock(request.operator, request.collateralWei);
        uint256 slashedWei = env.staking.slash(request.operator, request.collateralWei);
        uint256 rewardWei = (slashedWei * s.disputeTerms.challengerRewardBps) / CoordinatorStorage.BPS;
        uint256 payoutWei = dispute.bondWei + rewardWei;
        s.credit(dispute.challenger, payoutWei);
        s.credit(s.treasury, slashedWei - rewardWei);
        s.credit(request.consumer, request.feeWei);
        emit IInferenceCoordinator.DisputeResolved(
            requestId,
            true,
            dispute.challenger,
            request.operator,
            slashedWei,
            payoutWei
        );

        if (verdict.deliverResult) {
            if (verdict.resultCode >= ResultCodes.RESERVED_FROM) {
                revert IInferenceCoordinator.CoordinatorInvalidResultCode(
                    verdict.resultCode,
                    ResultCodes.RESERVED_FROM - 1
                );
            }
            _deliverAfterDispute(s, request, verdict.resultCode, verdict.output);
        } else {
            _deliverAfterDispute(s, request, ResultCodes.VOIDED, "");
        }
    }

    /// @dev The challenger was wrong. Its bond goes to the operator it delayed (failedChallengeOperatorBps, the
    /// first time only) and the treasury. Then: a conclusive verdict closes the window (the result is proven and
    /// may be finalized at once); an inconclusive one restarts it so others can still challenge, until the
    /// request's MAX_DISPUTE_ROUNDS-th lost dispute, which voids the request instead (bounded settlement time).
    function _rejectChallenge(
        CoordinatorStorage.Layout storage s,
        Env memory env,
        IInferenceCoordinator.Request memory request,
        IInferenceCoordinator.Dispute memory dispute,
        bool conclusive,
        bool home
    ) private {
        uint256 requestId = request.requestId;
        uint256 toOperator =
            request.disputeRounds == 0
                ? (uint256(dispute.bondWei) * s.disputeTerms.failedChallengeOperatorBps) / CoordinatorStorage.BPS
                : 0;
        s.credit(request.operator, toOperator);
        s.credit(s.treasury, dispute.bondWei - toOperator);
        emit IInferenceCoordinator.DisputeResolved(requestId, false, dispute.challenger, request.operator, 0, 0);

        // Cannot overflow: rounds stop at maxDisputeRounds (a uint8) below.
        uint8 rounds = request.disputeRounds + 1;
        if (!conclusive && rounds >= env.maxDisputeRounds) {
            s.clear(request.consumer, requestId, home);
            s.unlock(request.operator, request.collateralWei);
            s.credit(request.consumer, request.feeWei);
            emit IInferenceCoordinator.ResultVoided(requestId, rounds);
            _deliverAfterDispute(s, request, ResultCodes.VOIDED, "");
            return;
        }
        request.status = IInferenceCoordinator.RequestStatus.Submitted;
        request.disputeRounds = rounds;
        request.challengeEndsAt =
            conclusive ? uint40(block.timestamp) : uint40(block.timestamp) + request.challengeWindowSeconds;
        s.commit(request, home);
        emit IInferenceCoordinator.ChallengeWindowRestarted(requestId, request.challengeEndsAt, rounds);
    }

    function _deliverAfterDispute(
        CoordinatorStorage.Layout storage s,
        IInferenceCoordinator.Request memory request,
        uint8 resultCode,
        bytes memory output
    ) private {
        (bool success, uint256 gasUsed) = s.deliver(
            request.consumer,
            request.requestId,
            request.callbackGasLimit,
            abi.encodeCall(IInferenceConsumer.onInferenceResult, (request.requestId, resultCode, output))
        );
        emit IInferenceCoordinator.ResultDelivered(request.requestId, resultCode, success, gasUsed);
    }

    /// @notice Checks and stores the parameters (`initial`: at construction, where the dispute terms are checked
    /// against their bounds; later they must repeat the stored ones, fixed at deployment).
    function setParams(
        CoordinatorStorage.Layout storage s,
        IInferenceCoordinator.Params memory params,
        bool initial
    ) external {
        CoordinatorStorage.DisputeTerms storage current = s.disputeTerms;
        if (
            initial
                ? params.challengerRewardBps > CoordinatorStorage.MAX_CHALLENGER_REWARD_BPS
                : params.challengerRewardBps != current.challengerRewardBps
        ) {
            revert IInferenceCoordinator.CoordinatorInvalidParam("challengerRewardBps");
        }
        if (
            initial
                ? params.failedChallengeOperatorBps > CoordinatorStorage.BPS
                : params.failedChallengeOperatorBps != current.failedChallengeOperatorBps
        ) {
            revert IInferenceCoordinator.CoordinatorInvalidParam("failedChallengeOperatorBps");
        }
        if (initial ? params.minChallengeBondWei == 0 : params.minChallengeBondWei != current.minChallengeBondWei) {
            revert IInferenceCoordinator.CoordinatorInvalidParam("minChallengeBondWei");
        }
        if (params.minDeadlineSeconds == 0 || params.minDeadlineSeconds > params.maxDeadlineSeconds) {
            revert IInferenceCoordinator.CoordinatorInvalidParam("minDeadlineSeconds");
        }
        if (params.maxDeadlineSeconds > CoordinatorStorage.MAX_DEADLINE_SECONDS) {
            revert IInferenceCoordinator.CoordinatorInvalidParam("maxDeadlineSeconds");
        }
        if (params.exclusiveWindowSeconds >= params.minDeadlineSeconds) {
            revert IInferenceCoordinator.CoordinatorInvalidParam("exclusiveWindowSeconds");
        }
        if (params.maxCallbackGasLimit > CoordinatorStorage.MAX_CALLBACK_GAS_LIMIT) {
            revert IInferenceCoordinator.CoordinatorInvalidParam("maxCallbackGasLimit");
        }
        if (params.maxInputBytes == 0 || params.maxInputBytes > CoordinatorStorage.MAX_INPUT_BYTES) {
            revert IInferenceCoordinator.CoordinatorInvalidParam("maxInputBytes");
        }
        if (params.protocolFeeBps > CoordinatorStorage.MAX_PROTOCOL_FEE_BPS) {
            revert IInferenceCoordinator.CoordinatorInvalidParam("protocolFeeBps");
        }
        if (params.challengeBondBps > CoordinatorStorage.BPS) {
            revert IInferenceCoordinator.CoordinatorInvalidParam("challengeBondBps");
        }
        s.params = CoordinatorStorage.RequestParams({
            exclusiveWindowSeconds: params.exclusiveWindowSeconds,
            minDeadlineSeconds: params.minDeadlineSeconds,
            maxDeadlineSeconds: params.maxDeadlineSeconds,
            maxCallbackGasLimit: params.maxCallbackGasLimit,
            maxInputBytes: params.maxInputBytes,
            callbackGasFeeWei: params.callbackGasFeeWei,
            protocolFeeBps: params.protocolFeeBps,
            challengeBondBps: params.challengeBondBps
        });
        if (initial) {
            s.disputeTerms = CoordinatorStorage.DisputeTerms({
                challengerRewardBps: params.challengerRewardBps,
                failedChallengeOperatorBps: params.failedChallengeOperatorBps,
                minChallengeBondWei: params.minChallengeBondWei
            });
        }
        emit IInferenceCoordinator.ParamsUpdated(params);
    }

    /// @notice The staking contract's edit of a model's operator set (the coordinator checked the caller).
    function setRegistered(
        CoordinatorStorage.Layout storage s,
        bytes32 modelId,
        address operator,
        bool registered
    ) external {
        if (registered) s.addOperator(modelId, operator);
        else s.removeOperator(modelId, operator);
    }
}
