/**
 * The challenger role: re-execute every result other operators submit for the followed REEXECUTION models and
 * dispute the wrong ones within their challenge window.
 *
 * A watched result (the tracker records each confirmed ResultSubmitted of another operator, with the request's
 * input, in the store) goes:
 *
 * `unchecked` → the reference interpreter re-executes it (in an inference worker, with a concurrency bound):
 * - same result code and output hash: done/`correct`;
 * - different: `suspect` → the chain's own answer, `resolver.reexecute(modelId, input)` by eth_call on the
 *   REEXECUTION resolver (the very computation a dispute runs, so its verdict is final):
 *   - the chain agrees with the operator: done/`reference_disagrees`, never disputed (our reference is wrong
 *     somewhere: logged as an error);
 *   - the chain disagrees with the operator: `wrong` → a dispute is due.
 *
 * So a dispute is sent only when the chain itself says the result is wrong: the challenger never disputes a
 * correct result, whatever its own interpreter says.
 *
 * Disputing: the bond (the request's own `bondWei`, fixed when it was made) must fit `challenger.maxBondWei` (alone, or it is skipped; with
 * the bonds of our undecided disputes, or it waits), the wallet must hold it (else it waits, logged, until the
 * window closes) and the coordinator must be allowed to pull it (else `approve(coordinator, maxBondWei)` is sent
 * first, and the dispute follows once it is mined).
 *
 * A dispute is commit-reveal, so that nobody (a bot, or the operator caught lying) can copy our challenge from the
 * mempool and take the reward: `wrong` → a random 32-byte salt is generated and stored with the row first, then
 * `commitChallenge(challengeCommitment(requestId, us, salt))` is sent (`committing`); once it is mined the row is
 * `committed`, and the reveal `challenge(request, input, salt)` is sent (`challenging`) as soon as a simulation
 * accepts it, that is from a block after the commitment's (a node that simulates on its latest block, as geth does,
 * accepts it once the head is past the commitment's block; until then the reveal waits). The commitment carries no
 * bond. Before anything is signed for a `wrong` row with a salt, the chain is asked whether that commitment is stored
 * already (`getChallengeCommitment`): then it is revealed, never made twice. Right before the reveal, the
 * REEXECUTION resolver the coordinator has now is asked again (`isWrongResult` by eth_call): the verdict of the
 * confirmation may be minutes old, and the resolver may have changed since; if it no longer calls the result wrong,
 * the row goes back to `suspect` (checked with the chain again) instead, and the bond stays in the wallet.
 *
 * Every transaction goes through the transaction sender: simulated first (a revert is never sent), then signed and
 * stored together with the row's move (`committing`, `challenging`), then broadcast. Crashes: before the salt is
 * stored the row is `wrong` and starts afresh; with the salt stored and nothing signed, the same salt is committed
 * after the restart; with the commitment stored, it is rebroadcast, never a second one; mined (`committed`), it is
 * revealed after the restart; with the reveal stored, it is rebroadcast. The reveal's receipt moves the row to
 * `challenged`; the confirmed DisputeResolved event records the outcome (won or lost). Each round also brings
 * `committing` to `challenged` rows in line with their transaction (`Store.reconcileChallenges`): one whose
 * transaction is no longer in flight nor mined goes back to `wrong` (its bond no longer counted, its salt kept: the
 * chain's record of the commitment says whether to reveal it or commit it again). A commitment still unrevealed when
 * the window closes is a missed dispute (logged as an error, `disputes_skipped{reason="window_closed"}`).
 *
 * Another challenger's rejected dispute restarts the window (the tracker): a `wrong` verdict goes back to
 * `suspect`, and a result closed as `window_closed` or `reverted` is taken up again.
 *
 * Money: bonds are pulled from the wallet; what the coordinator owes (bond back plus reward, and an operator's
 * fees on the same key) is credited to the key's coordinator balance, withdrawn whole to the wallet once it reaches
 * `challenger.withdrawMinWei` (default 1 token).
 */
import { crashPoint } from "../internal/crashPoints";
import { describeError, shouldRetry } from "../internal/errors";
import { challengeCommitment, decodeRevert, newChallengeSalt } from "../chain/coordinator";
import { parseCoordinatorLog, requestFromJson, RequestStatus } from "../chain/requestEvents";
import { VerificationModeBigInt } from "../protocol/verificationMode";
import { RevertError, type TransactionReceipt } from "../chain/rpc";
import type { BondState, StoredTx, WatchedResult, WatchState } from "../store/store";
import { IReexecutionResolver__factory } from "../../../typechain-types";
import type { NodeContext, TxOutcomes } from "./context";
import { MAX_POSTPONES, POSTPONE_SECONDS } from "./postpone";

/** Reference re-executions admitted per inference slot (as the operator's EXECUTIONS_QUEUED_PER_SLOT). */
export const CHECKS_QUEUED_PER_SLOT = 8;
/** Watched results considered per step and loop round, so one round stays short. */
export const MAX_WATCHED_PER_ROUND = 64;
/** Loop rounds between two looks at the coordinator balance (besides right after a dispute is won). */
export const WITHDRAW_CHECK_ROUNDS = 10;

const reexecutionResolver = IReexecutionResolver__factory.createInterface();

/** Every state in which a bond of ours is earmarked (the cap covers them all). */
const BOND_STATES: readonly BondState[] = ["committing", "committed", "challenging", "challenged"];

export interface ChallengerRole {
    /** Checks, confirms and disputes what is due, and withdraws. Never throws for one result's fault. */
    tick(): Promise<void>;
    /** Resolves when no reference re-execution is in flight. */
    drain(): Promise<void>;
    inflight(): number;
}

export function createChallengerRole(ctx: NodeContext): ChallengerRole {
    const me = ctx.wallet.address;
    const maxBondWei = BigInt(ctx.config.challenger.maxBondWei ?? "0");
    const withdrawMinWei = BigInt(ctx.config.challenger.withdrawMinWei);
    const running = new Map<string, Promise<void>>();
    let round = 0;
    let wonSeen: number | undefined;

    const fields = (w: WatchedResult) => ({ request_id: w.requestId, model_id: w.modelId, operator: w.operator });
    const challengeEndsAt = (w: WatchedResult): number => Number(requestFromJson(w.request).challengeEndsAt);
    const windowOpen = (w: WatchedResult): boolean => ctx.chainTime() < challengeEndsAt(w);

    function skip(w: WatchedResult, reason: string, why: string): void {
        if (ctx.store.finishWatched(w.requestId, "skipped", why)) {
            ctx.metrics.disputesSkipped.inc({ model_id: w.modelId, reason });
            ctx.logger.warn({ ...fields(w), reason: why }, "not disputing this result");
        }
    }

    /**
     * The window closed before we acted; a result known to be wrong counts as a skipped dispute, unless another
     * challenger's dispute of it is undecided (if that one is rejected, the window restarts and the tracker takes the
     * result up again).
     */
    function windowClosed(w: WatchedResult): void {
        if (BigInt(requestFromJson(w.request).status) === RequestStatus.Disputed) {
            const why = "the window closed while another challenger's dispute was undecided";
            if (ctx.store.finishWatched(w.requestId, "window_closed", why)) {
                ctx.logger.info({ ...fields(w), challenge_ends_at: challengeEndsAt(w) }, why);
            }
            return;
        }
        const committed = w.state === "committing" || w.state === "committed";
        const known = committed || w.state === "suspect" || w.state === "wrong";
        const why = committed
            ? "the challenge window closed before our commitment was revealed"
            : known
              ? "the challenge window closed before the dispute was sent"
              : "not checked in time";
        if (!ctx.store.finishWatched(w.requestId, "window_closed", why)) return;
        if (known) {
            ctx.metrics.disputesSkipped.inc({ model_id: w.modelId, reason: "window_closed" });
            ctx.logger.error({ ...fields(w), challenge_ends_at: challengeEndsAt(w) }, `missed a dispute: ${why}`);
        } else {
            ctx.logger.warn({ ...fields(w), challenge_ends_at: challengeEndsAt(w) }, `result ${why}`);
        }
    }

    /** Puts a result off for `delaySeconds` in `state`; gives up after MAX_POSTPONES. */
    function postpone(
        w: WatchedResult,
        state: "unchecked" | "suspect" | "wrong",
        why: string,
        delaySeconds = POSTPONE_SECONDS,
    ): void {
        const attempts = ctx.store.postponeWatched(w.requestId, state, ctx.chainTime() + delaySeconds, why);
        if (attempts > MAX_POSTPONES) {
            if (ctx.store.finishWatched(w.requestId, "reverted", why)) {
                ctx.metrics.disputesSkipped.inc({ model_id: w.modelId, reason: "gave_up" });
                ctx.logger.error({ ...fields(w), reason: why, attempts }, "giving up on this result");
            }
        } else {
            ctx.logger.warn({ ...fields(w), reason: why, attempts }, "trying this result again later");
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // 1. Re-execute with the reference interpreter
    // ---------------------------------------------------------------------------------------------------------

    async function check(w: WatchedResult): Promise<void> {
        try {
            const reference = await ctx.executor.reference(w.modelId, w.input);
            // The follower runs while this check does: a reorg may have replaced the submission meanwhile, maybe
            // with the same bytes for another input (the new one is checked next round).
            const now = ctx.store.getWatched(w.requestId);
            const same =
                now?.state === "unchecked" &&
                now.operator === w.operator &&
                now.resultCode === w.resultCode &&
                now.outputHash === w.outputHash &&
                String(now.request.inputHash).toLowerCase() === String(w.request.inputHash).toLowerCase();
            if (!same) return;
            if (reference.resultCode === w.resultCode && reference.outputHash.toLowerCase() === w.outputHash) {
                ctx.store.finishWatched(w.requestId, "correct");
                ctx.metrics.resultsChecked.inc({ model_id: w.modelId, verdict: "correct" });
                ctx.logger.debug({ ...fields(w), result_code: w.resultCode }, "result checked: correct");
                return;
            }
            ctx.store.updateWatched(w.requestId, "suspect", {
                expectedCode: reference.resultCode,
                expectedHash: reference.outputHash,
            });
            ctx.logger.warn(
                {
                    ...fields(w),
                    result_code: w.resultCode,
                    output_hash: w.outputHash,
                    reference_result_code: reference.resultCode,
                    reference_output_hash: reference.outputHash,
                },
                "the reference interpreter disagrees with another operator's result; asking the chain",
            );
        } catch (error) {
            if (ctx.signal.aborted) return; // shutting down: the result stays unchecked for the next start
            if (shouldRetry(error)) postpone(w, "unchecked", `re-execution failed: ${describeError(error).message}`);
            else skip(w, "check_failed", `re-execution failed: ${describeError(error).message}`);
        }
    }

    function startChecks(): void {
        const cap = ctx.config.inference.concurrency * CHECKS_QUEUED_PER_SLOT;
        if (running.size >= cap) return;
        const due = ctx.store.watchedIn("unchecked", {
            readyAt: ctx.chainTime(),
            limit: Math.min(MAX_WATCHED_PER_ROUND, cap) + running.size,
        });
        for (const w of due) {
            if (running.size >= cap || ctx.signal.aborted) break;
            if (running.has(w.requestId)) continue;
            if (!windowOpen(w)) {
                windowClosed(w);
                continue;
            }
            if (!ctx.servedModels.has(w.modelId)) {
                if (ctx.modelMayLoad(w.modelId)) {
                    ctx.store.updateWatched(w.requestId, "unchecked", {
                        notBefore: ctx.chainTime() + POSTPONE_SECONDS,
                    });
                } else {
                    skip(w, "model_unavailable", "model not available on this node (see the model-loading error)");
                }
                continue;
            }
            const job = check(w).finally(() => {
                running.delete(w.requestId);
                ctx.requestRound();
            });
            running.set(w.requestId, job);
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // 2. Confirm with the chain's own re-execution
    // ---------------------------------------------------------------------------------------------------------

    async function confirm(w: WatchedResult): Promise<void> {
        if (!windowOpen(w)) return windowClosed(w);
        const resolver = await ctx.coordinator.resolver(VerificationModeBigInt.REEXECUTION);
        if (resolver === null) return skip(w, "no_resolver", "the coordinator has no REEXECUTION resolver");
        let chain;
        try {
            chain = await ctx.coordinator.reexecute(resolver, w.modelId, w.input);
        } catch (error) {
            if (!(error instanceof RevertError)) throw error;
            const why = `the chain's re-execution reverted: ${decodeRevert(error.data).name}`;
            return skip(w, "reexecute_reverted", why);
        }
        const log = {
            ...fields(w),
            result_code: w.resultCode,
            output_hash: w.outputHash,
            reference_result_code: w.expectedCode,
            reference_output_hash: w.expectedHash,
            chain_result_code: chain.resultCode,
            chain_output_hash: chain.outputHash,
        };
        if (chain.resultCode === w.resultCode && chain.outputHash.toLowerCase() === w.outputHash) {
            ctx.store.finishWatched(
                w.requestId,
                "reference_disagrees",
                "the chain's re-execution agrees with the operator",
            );
            ctx.metrics.resultsChecked.inc({ model_id: w.modelId, verdict: "reference_disagrees_with_chain" });
            ctx.logger.error(
                log,
                "our reference interpreter disagrees with the chain's re-execution, which agrees with the operator: " +
                    "not disputing (check the node's version and the model's program)",
            );
            return;
        }
        if (chain.resultCode !== w.expectedCode || chain.outputHash.toLowerCase() !== w.expectedHash?.toLowerCase()) {
            ctx.logger.warn(log, "the chain's re-execution differs from our reference too; disputing on the chain's");
        }
        ctx.store.updateWatched(w.requestId, "wrong", {
            expectedCode: chain.resultCode,
            expectedHash: chain.outputHash.toLowerCase(),
            notBefore: 0,
        });
        crashPoint("challenger.dispute_decided");
        ctx.metrics.resultsChecked.inc({ model_id: w.modelId, verdict: "wrong" });
        ctx.logger.warn(log, "wrong result confirmed by the chain's re-execution; disputing it");
    }

    // ---------------------------------------------------------------------------------------------------------
    // 3. Dispute: commit, then reveal
    // ---------------------------------------------------------------------------------------------------------

    /** What a refused simulation of our commitment or of its reveal means. */
    function onRevert(w: WatchedResult, revert: RevertError, what: "commitment" | "challenge"): void {
        const decoded = decodeRevert(revert.data);
        if (decoded.name === "CoordinatorChallengeWindowClosed") return windowClosed(w);
        if (decoded.name === "CoordinatorChallengeCommitmentTooRecent") {
            // Simulated on the commitment's own block: a later block accepts the reveal. Nothing to count.
            ctx.logger.debug({ ...fields(w), commitment_block: decoded.args[0] }, "revealing from the next block on");
            return;
        }
        // Our view is behind the chain (challenged or finalized by someone else, reorged, an allowance or balance
        // spent meanwhile, our commitment not in the chain's view): confirmed events settle it, or the next try does.
        // A committed row goes back to `wrong` with its salt: the chain's record of the commitment decides then.
        postpone(w, "wrong", `${what} would revert: ${decoded.name}`);
    }

    /**
     * Whether the wallet holds `bond` on top of the bonds to be pulled before it (rows in `before`), and the
     * coordinator may pull them all. If not: waits (the wallet), or sends `approve(coordinator, maxBondWei)` (the
     * allowance; the dispute follows once it is mined), logs, and returns false.
     */
    async function bondReady(
        w: WatchedResult,
        bond: bigint,
        before: readonly BondState[],
        log: Record<string, unknown>,
    ): Promise<boolean> {
        const needed = ctx.store.bondsWei(before) + bond;
        const balance = await ctx.coordinator.tokenBalanceOf(me);
        if (balance < needed) {
            ctx.store.updateWatched(w.requestId, w.state, { notBefore: ctx.chainTime() + POSTPONE_SECONDS });
            ctx.logger.warn(
                { ...log, balance_wei: balance.toString(), needed_wei: needed.toString() },
                "cannot pay the bond: the wallet holds too few stake tokens; trying again until the window closes",
            );
            return false;
        }
        const allowance = await ctx.coordinator.tokenAllowance(me);
        if (allowance >= needed) return true;
        if (ctx.store.pendingTxs().some((tx) => tx.kind === "approve")) return false; // mined soon
        const token = await ctx.coordinator.token();
        const sent = await ctx.tx.send("approve", token, ctx.coordinator.encodeApprove(maxBondWei), [], null);
        if (sent.sent) {
            ctx.logger.info(
                { ...log, allowance_wei: allowance.toString() },
                "allowing the coordinator to pull bonds (up to challenger.maxBondWei); the dispute follows",
            );
        } else {
            ctx.logger.error(
                { ...log, error: decodeRevert(sent.revert.data).name },
                "approving the coordinator would revert",
            );
        }
        return false;
    }

    /**
     * Whether the REEXECUTION resolver the coordinator has now still calls the result wrong (`isWrongResult` by
     * eth_call). If not (it agrees with the operator, reverts, or there is none), the result goes back to `suspect`
     * for the chain's check, and false is returned. RPC faults throw.
     */
    async function stillWrong(w: WatchedResult): Promise<boolean> {
        const resolver = await ctx.coordinator.resolver(VerificationModeBigInt.REEXECUTION);
        let why: string;
        if (resolver === null) {
            why = "the coordinator has no REEXECUTION resolver any more";
        } else {
            try {
                const data = reexecutionResolver.encodeFunctionData("isWrongResult", [
                    w.modelId,
                    w.input,
                    w.resultCode,
                    w.outputHash,
                ]);
                const [wrong] = reexecutionResolver.decodeFunctionResult(
                    "isWrongResult",
                    await ctx.chain.call(resolver, data),
                );
                if (wrong === true) return true;
                why = "the REEXECUTION resolver no longer calls the result wrong";
            } catch (error) {
                if (!(error instanceof RevertError)) throw error;
                why = `the REEXECUTION resolver's isWrongResult reverts: ${decodeRevert(error.data).name}`;
            }
        }
        ctx.logger.warn(
            { ...fields(w), resolver, reason: why },
            "not disputing: checking the result with the chain again",
        );
        postpone(w, "suspect", why, 0);
        return false;
    }

    /** The first half of a dispute of a `wrong` result: the commitment (or the chain's record of it, if made). */
    async function dispute(w: WatchedResult): Promise<void> {
        const request = requestFromJson(w.request);
        if (!windowOpen(w)) return windowClosed(w);
        // Disputed by someone else and not decided yet (an asynchronous resolver): wait for the verdict. A rejected
        // dispute restarts the window, and the tracker has the result checked again.
        if (BigInt(request.status) !== RequestStatus.Submitted) return;
        // The bond the request fixed when it was made (owner changes apply to later requests only).
        const bond = BigInt(request.bondWei);
        const log = { ...fields(w), bond_wei: bond.toString(), max_bond_wei: maxBondWei.toString() };
        if (bond > maxBondWei) {
            return skip(w, "bond_above_cap", `bond ${bond} wei is above challenger.maxBondWei (${maxBondWei})`);
        }
        const atRisk = ctx.store.bondsWei(BOND_STATES);
        if (atRisk + bond > maxBondWei) {
            ctx.logger.info(
                { ...log, at_risk_wei: atRisk.toString() },
                "bond cap in use by undecided challenges; waiting",
            );
            return;
        }
        // Bonds of disputes still to reveal are pulled before this one.
        if (!(await bondReady(w, bond, ["committing", "committed", "challenging"], log))) return;

        // The salt is on disk before anything made from it is signed: after a crash the commitment is revealed, or
        // (never sent) made again with the same salt, never lost.
        let salt = w.salt;
        if (salt === null) {
            salt = newChallengeSalt();
            ctx.store.updateWatched(w.requestId, "wrong", { salt });
            crashPoint("challenger.salt_saved");
        }
        const commitment = challengeCommitment(BigInt(w.requestId), me, salt);
        // Made already (before a restart, by a transaction since dropped, or sent first by someone who copied it):
        // reveal it rather than commit again.
        const committedAt = await ctx.coordinator.challengeCommittedAt(commitment);
        if (committedAt !== 0) {
            ctx.store.updateWatched(w.requestId, "committed", { txId: null, bondWei: bond.toString(), notBefore: 0 });
            ctx.logger.info({ ...log, commitment, commitment_block: committedAt }, "our commitment is on chain");
            return;
        }
        const data = ctx.coordinator.encodeCommitChallenge(commitment);
        const sent = await ctx.tx.send("commit_challenge", ctx.coordinator.address, data, [w.requestId], null, (txId) =>
            ctx.store.updateWatched(w.requestId, "committing", { txId, bondWei: bond.toString() }),
        );
        if (!sent.sent) return onRevert(w, sent.revert, "commitment");
        crashPoint("challenger.commit_sent");
        ctx.logger.warn({ ...log, tx_id: sent.txId, commitment }, "dispute committed; revealing it once mined");
    }

    /** The second half: the reveal `challenge(request, input, salt)` of a `committed` result, with the bond. */
    async function reveal(w: WatchedResult): Promise<void> {
        const request = requestFromJson(w.request);
        if (!windowOpen(w)) return windowClosed(w);
        // Disputed by someone else and undecided: wait for the verdict (our commitment stays usable).
        if (BigInt(request.status) !== RequestStatus.Submitted) return;
        const bond = BigInt(request.bondWei);
        const log = { ...fields(w), bond_wei: bond.toString() };
        const salt = w.salt;
        if (salt === null) return postpone(w, "wrong", "no salt stored for our commitment"); // never written so
        const committedAt = await ctx.coordinator.challengeCommittedAt(
            challengeCommitment(BigInt(w.requestId), me, salt),
        );
        if (committedAt === 0) {
            // Found on chain before (no transaction of ours): gone, so commit again (`wrong`, the same salt).
            if (w.txId === null) return postpone(w, "wrong", "our commitment is no longer on chain");
            // Our commitment is recorded mined but the chain we read has none: a reorg the sender has not seen yet
            // (it puts the transaction back in flight, and reconcile the row back to `committing`), or a lagging
            // backend. Look again later.
            ctx.store.updateWatched(w.requestId, "committed", { notBefore: ctx.chainTime() + POSTPONE_SECONDS });
            ctx.logger.warn({ ...log, tx_id: w.txId }, "our commitment is mined but not in the chain's view; waiting");
            return;
        }
        // Bonds of reveals in flight are pulled before this one (this row's own bond is counted as committed).
        if (!(await bondReady(w, bond, ["challenging"], log))) return;
        // The chain's verdict was read in confirm(), possibly minutes ago: ask the resolver in place now, last thing
        // before sending, so that a challenge it would reject (and our bond with it) is never sent.
        if (!(await stillWrong(w))) return;
        crashPoint("challenger.reveal_due");
        const data = ctx.coordinator.encodeChallenge(request, w.input, salt);
        const sent = await ctx.tx.send("challenge", ctx.coordinator.address, data, [w.requestId], null, (txId) =>
            ctx.store.updateWatched(w.requestId, "challenging", { txId, bondWei: bond.toString() }),
        );
        if (!sent.sent) return onRevert(w, sent.revert, "challenge");
        crashPoint("challenger.reveal_sent");
        ctx.logger.warn({ ...log, tx_id: sent.txId, commitment_block: committedAt }, "dispute sent");
    }

    /**
     * Runs `step` on each watched result in `state` that is due, a round's worth at most, until shutdown; a step
     * that throws is logged (`<what> failed; will retry`) and tried again next round.
     */
    async function eachDue(state: WatchState, what: string, step: (w: WatchedResult) => Promise<void>): Promise<void> {
        for (const w of ctx.store.watchedIn(state, { readyAt: ctx.chainTime(), limit: MAX_WATCHED_PER_ROUND })) {
            if (ctx.signal.aborted) return;
            try {
                await step(w);
            } catch (error) {
                ctx.logger.warn({ ...fields(w), error: describeError(error) }, `${what} failed; will retry`);
            }
        }
    }

    async function sendDisputes(): Promise<void> {
        await eachDue("wrong", "dispute", dispute);
    }

    async function sendReveals(): Promise<void> {
        // A commitment still in flight when the window closes can no longer be revealed in time.
        for (const w of ctx.store.watchedIn("committing", { limit: MAX_WATCHED_PER_ROUND })) {
            if (!windowOpen(w)) windowClosed(w);
        }
        await eachDue("committed", "reveal", reveal);
    }

    async function confirmSuspects(): Promise<void> {
        await eachDue("suspect", "chain re-execution", confirm);
    }

    // ---------------------------------------------------------------------------------------------------------
    // 4. Withdraw
    // ---------------------------------------------------------------------------------------------------------

    async function withdrawIfDue(): Promise<void> {
        const won = ctx.store.watchedOutcomes().won ?? 0;
        const justWon = wonSeen !== undefined && won > wonSeen;
        wonSeen = won;
        if (!justWon && round % WITHDRAW_CHECK_ROUNDS !== 0) return;
        if (ctx.store.pendingTxs().some((tx) => tx.kind === "withdraw")) return;
        const balance = await ctx.coordinator.balanceOf(me);
        if (balance === 0n || balance < withdrawMinWei) return;
        const data = ctx.coordinator.encodeWithdraw(me, balance);
        const sent = await ctx.tx.send("withdraw", ctx.coordinator.address, data, [], null);
        if (sent.sent) ctx.logger.info({ amount_wei: balance.toString() }, "withdrawing the coordinator balance");
        else ctx.logger.warn({ error: decodeRevert(sent.revert.data).name }, "withdraw would revert; later");
    }

    /** Brings disputes in line with their transactions (see `Store.reconcileChallenges`). */
    function reconcileChallenges(): void {
        for (const change of ctx.store.reconcileChallenges()) {
            const log = { request_id: change.requestId, tx_id: change.txId, from: change.from, to: change.to };
            if (change.to === "wrong") {
                const what = change.from === "committing" || change.from === "committed" ? "commitment" : "challenge";
                ctx.logger.warn(log, `${what} no longer in flight: disputing again if still due`);
            } else {
                ctx.logger.info(log, "challenge state brought in line with its transaction");
            }
        }
    }

    return {
        async tick() {
            reconcileChallenges();
            startChecks();
            await confirmSuspects();
            await sendDisputes();
            await sendReveals();
            try {
                await withdrawIfDue();
            } catch (error) {
                ctx.logger.warn({ error: describeError(error) }, "withdraw check failed; will retry");
            }
            round++;
        },
        async drain() {
            await Promise.allSettled([...running.values()]);
        },
        inflight: () => running.size,
    };
}

/**
 * Our dispute transaction of `id` failed on chain: back to `wrong` after `delaySeconds` (its salt kept), counted as an
 * attempt; given up after MAX_POSTPONES.
 */
function revertedOnChain(ctx: NodeContext, id: string, modelId: string, why: string, delaySeconds: number): void {
    const attempts = ctx.store.postponeWatched(id, "wrong", ctx.chainTime() + delaySeconds, why);
    if (attempts > MAX_POSTPONES && ctx.store.finishWatched(id, "reverted", why)) {
        ctx.metrics.disputesSkipped.inc({ model_id: modelId, reason: "gave_up" });
    }
    ctx.logger.warn({ request_id: id, attempts }, why);
}

/**
 * A challenger transaction (commit_challenge, challenge, approve, withdraw) was mined. Runs in the sender's store
 * transaction.
 */
export function onChallengerTxMined(ctx: NodeContext, tx: StoredTx, receipt: TransactionReceipt): void {
    const me = ctx.wallet.address.toLowerCase();
    if (tx.kind === "commit_challenge") {
        const committed =
            receipt.status === 1 &&
            receipt.logs.some((log) => {
                if (log.address.toLowerCase() !== ctx.coordinator.address.toLowerCase()) return false;
                const parsed = parseCoordinatorLog(log);
                return parsed?.name === "ChallengeCommitted" && String(parsed.args.committer).toLowerCase() === me;
            });
        for (const id of tx.requestIds) {
            const w = ctx.store.getWatched(id);
            if (w === undefined || w.txId !== tx.id || w.state !== "committing") continue;
            if (committed) {
                // The reveal is due from the next block on (sendReveals).
                ctx.store.updateWatched(id, "committed", { notBefore: 0 });
                ctx.logger.info(
                    { request_id: id, tx_hash: receipt.transactionHash, block: receipt.blockNumber },
                    "challenge commitment mined; revealing it",
                );
            } else {
                // Most likely someone sent our very commitment first (it is stored all the same): the chain's record
                // of it decides at once whether to reveal or commit again.
                revertedOnChain(ctx, id, w.modelId, "challenge commitment reverted on chain", 0);
            }
        }
    } else if (tx.kind === "challenge") {
        const challenged = new Set<string>();
        for (const log of receipt.logs) {
            if (log.address.toLowerCase() !== ctx.coordinator.address.toLowerCase()) continue;
            const parsed = parseCoordinatorLog(log);
            if (parsed?.name === "ResultChallenged" && String(parsed.args.challenger).toLowerCase() === me) {
                challenged.add((parsed.args[0] as bigint).toString());
            }
        }
        for (const id of tx.requestIds) {
            const w = ctx.store.getWatched(id);
            if (w === undefined || w.txId !== tx.id || w.state === "done") continue;
            if (receipt.status === 1 && challenged.has(id)) {
                // The outcome comes with the confirmed DisputeResolved event (the tracker).
                ctx.store.updateWatched(id, "challenged");
            } else {
                // A reverted reveal leaves the commitment stored: revealed again if still due.
                revertedOnChain(ctx, id, w.modelId, "challenge reverted on chain", POSTPONE_SECONDS);
            }
        }
    } else if (tx.kind === "withdraw" && receipt.status === 1) {
        for (const log of receipt.logs) {
            if (log.address.toLowerCase() !== ctx.coordinator.address.toLowerCase()) continue;
            const parsed = parseCoordinatorLog(log);
            if (parsed?.name === "Withdrawn" && String(parsed.args.account).toLowerCase() === me) {
                const amount = parsed.args.amountWei as bigint;
                ctx.metrics.challengerWithdrawnWei.inc(Number(amount));
                ctx.logger.info({ amount_wei: amount.toString(), tx_hash: receipt.transactionHash }, "withdrawn");
            }
        }
    }
    ctx.metrics.transactions.inc({ kind: tx.kind, outcome: receipt.status === 1 ? "mined" : "reverted" });
}

/**
 * A challenger transaction will not be mined (replaced by a no-op, its nonce used elsewhere, refused for good):
 * its result goes back to `wrong` with its salt, disputed again if its window is still open (the chain's record of
 * the commitment says whether to reveal it or commit again).
 */
export function onChallengerTxDropped(ctx: NodeContext, tx: StoredTx, reason: string): void {
    for (const id of tx.requestIds) {
        const w = ctx.store.getWatched(id);
        if (w === undefined || w.txId !== tx.id) continue;
        if (["committing", "committed", "challenging", "challenged"].includes(w.state)) {
            ctx.store.updateWatched(id, "wrong", { txId: null, bondWei: null, reason });
        }
    }
    ctx.metrics.transactions.inc({ kind: tx.kind, outcome: "replaced" });
    if (tx.requestIds.length > 0) {
        const what = tx.kind === "commit_challenge" ? "challenge commitment" : "challenge";
        ctx.logger.warn({ request_ids: tx.requestIds, reason }, `${what} dropped; disputing again if still due`);
    }
}

/**
 * How the challenger's transactions end (their rows are watched results, not requests): a refused one goes as a
 * dropped one does.
 */
export function challengerTxOutcomes(ctx: NodeContext): TxOutcomes {
    return {
        kinds: new Set(["commit_challenge", "challenge", "approve", "withdraw"]),
        mined: (tx, receipt) => onChallengerTxMined(ctx, tx, receipt),
        refused: (tx, reason) => onChallengerTxDropped(ctx, tx, reason),
        dropped: (tx, reason) => onChallengerTxDropped(ctx, tx, reason),
    };
}
