/**
 * `verity dispute <requestId>`: challenge a submitted result from the key's own account.
 *
 * The request's current struct and input come from the coordinator's events (oracle/src/chain/requestEvents.ts, as
 * the challenger role does). The command refuses before sending anything when the request is not Submitted or its
 * window has closed, and, for a REEXECUTION model, when the chain's own re-execution (`isWrongResult` of the
 * coordinator's REEXECUTION resolver, by eth_call) says the result is correct: that dispute would lose the bond.
 * `--force` skips that last check. Then it approves the bond if the allowance is short.
 *
 * A challenge is commit-reveal (so that nobody can copy it from the mempool and take the reward): the command draws
 * a random salt, sends `commitChallenge(challengeCommitment(requestId, account, salt))`, prints the salt once that
 * is mined (an interrupted run is resumed with `--salt`), and sends the reveal `challenge(request, input, salt)` as
 * soon as the chain accepts it, from the block after the commitment's: on an automining chain (Hardhat's) that is
 * the reveal's own block; a node that simulates on its latest block is polled until a new block comes. Then it
 * reports the verdict (REEXECUTION disputes are decided in the reveal's transaction).
 *
 * `--salt <hex>` reveals a commitment made earlier (by an interrupted run): refused when this account has no
 * commitment with that salt for the request on chain, or when it was made in the chain's latest block.
 */
import { getAddress, isHexString, ZeroAddress, type Provider } from "ethers";
import { ERC20__factory, ReexecutionResolver__factory, type InferenceCoordinator } from "../../../typechain-types";
import { challengeCommitment, newChallengeSalt } from "../chain/coordinator";
import { parseCoordinatorLog, type Request } from "../chain/requestEvents";
import { modeName, VerificationModeBigInt } from "../protocol/verificationMode";
import type { Progress } from "../internal/progress";
import {
    chainCall,
    chainError,
    CliError,
    EXIT,
    formatAmount,
    output,
    POLL_INTERVAL_MS,
    progress,
    requireGas,
    revertOf,
    sendTx,
    type ChainOptions,
} from "./context";
import { chainNow, loadRequest } from "./settle";

export interface DisputeOptions extends ChainOptions {
    /** Dispute even when the chain's re-execution says the result is correct (the bond is likely lost). */
    force?: boolean;
    /** Reveal the commitment made earlier with this salt (32 bytes of hex) instead of committing anew. */
    salt?: string;
}

export interface DisputeReport {
    requestId: string;
    modelId: string;
    operator: string;
    challenger: string;
    bondWei: bigint;
    /** The salt of the commitment revealed (keep it secret until the reveal; it is public afterwards). */
    salt: string;
    /** `challengeCommitment(requestId, challenger, salt)`. */
    commitment: string;
    /** The block the commitment was made in. */
    commitBlock: number;
    /** The commitment's transaction (absent with --salt: it was sent by an earlier run). */
    commitTransactionHash?: string;
    /** The reveal's transaction (`challenge`), where the dispute is opened. */
    transactionHash: string;
    /** `won`: the operator was at fault; `lost`: the result stood; `open`: the resolver decides later. */
    outcome: "won" | "lost" | "open";
    slashedWei: bigint;
    challengerPayoutWei: bigint;
    /** The chain's re-execution said the result was wrong (REEXECUTION only; undefined when not asked). */
    chainSaysWrong?: boolean;
}

/** How long the command waits for a block after the commitment's before giving up (resume with --salt). */
export const REVEAL_WAIT_MS = 15 * 60_000;

/** Challenges the result of `requestIdText`; prints the outcome and returns it. */
export async function dispute(requestIdText: string, opts: DisputeOptions): Promise<DisputeReport> {
    const resumed = opts.salt === undefined ? undefined : parseSalt(opts.salt);
    const loaded = await loadRequest(requestIdText, opts);
    const { idHex, provider, deployment, wallet, coordinator, announced, request, history } = loaded;
    const shown = progress(opts.json);
    const coordinatorAddress = deployment.address("coordinator");
    if (history.settled) {
        throw new CliError(
            `request ${idHex} is already ${history.status}: nothing to dispute (\`verity inspect ${idHex}\` shows its history)`,
            EXIT.REFUSED,
        );
    }
    if (history.status === "requested") {
        throw new CliError(
            `request ${idHex} has no result yet: dispute it after an operator submits one (\`verity inspect ${idHex}\`)`,
            EXIT.REFUSED,
        );
    }
    if (history.status === "disputed") {
        const open = history.disputes[history.disputes.length - 1];
        throw new CliError(
            `request ${idHex} is already disputed${open ? ` by ${open.challenger}` : ""}: wait for the resolver's verdict (\`verity inspect ${idHex}\`)`,
            EXIT.REFUSED,
        );
    }
    const now = await chainNow(provider);
    const endsAt = Number(request.challengeEndsAt);
    if (now >= endsAt) {
        throw new CliError(
            `the challenge window of request ${idHex} closed at ${new Date(endsAt * 1000).toISOString()}: it can only be finalized now`,
            EXIT.REFUSED,
        );
    }
    const mode = BigInt(request.mode);
    const resolverAddress = await chainCall(() => coordinator.getResolver(mode), "reading the resolver");
    if (resolverAddress === ZeroAddress) {
        throw new CliError(
            `this deployment has no resolver for ${modeName(mode)} models: the result cannot be disputed here`,
            EXIT.REFUSED,
        );
    }

    let chainSaysWrong: boolean | undefined;
    if (mode === VerificationModeBigInt.REEXECUTION) {
        const resolver = ReexecutionResolver__factory.connect(resolverAddress, provider);
        chainSaysWrong = await shown.task("re-executing the model on chain (eth_call)", () =>
            chainCall(
                () => resolver.isWrongResult(request.modelId, announced.input, request.resultCode, request.outputHash),
                "re-executing the model (isWrongResult)",
            ),
        );
        if (!chainSaysWrong && opts.force !== true) {
            throw new CliError(
                `the result of request ${idHex} is correct (the chain's re-execution agrees with it): a dispute would lose the bond; pass --force to dispute anyway`,
                EXIT.REFUSED,
            );
        }
    }

    // With --salt, the commitment must be on chain already, and a block old: checked before anything is sent.
    const account = getAddress(wallet.address);
    let commit: { salt: string; commitment: string; block: number; transactionHash?: string } | undefined;
    if (resumed !== undefined) {
        const commitment = challengeCommitment(loaded.requestId, account, resumed);
        const block = Number(
            await chainCall(() => coordinator.getChallengeCommitment(commitment), "reading the commitment"),
        );
        if (block === 0) {
            throw new CliError(
                `no challenge commitment of ${account} with this salt for request ${idHex} on chain (commitment ${commitment}): ` +
                    "it was never made, or made from another account or for another request, or used already; " +
                    `run \`verity dispute ${idHex}\` without --salt to commit anew`,
                EXIT.REFUSED,
            );
        }
        commit = { salt: resumed, commitment, block };
    }

    await requireGas(wallet);
    // The bond the request fixed when it was made.
    const bond = BigInt(request.bondWei);
    const token = ERC20__factory.connect(deployment.address("stakeToken"), wallet);
    const held = await chainCall(() => token.balanceOf(wallet.address));
    if (held < bond) {
        throw new CliError(
            `the challenge bond is ${formatAmount(bond)} but ${wallet.address} holds ${formatAmount(held)} of the stake token ${await token.getAddress()}: get more tokens first`,
            EXIT.REFUSED,
        );
    }
    if ((await chainCall(() => token.allowance(wallet.address, coordinatorAddress))) < bond) {
        await sendTx(
            `approving the bond of ${formatAmount(bond)}`,
            () => token.approve(coordinatorAddress, bond),
            shown,
        );
    }

    if (commit !== undefined) {
        await revealAccepted(coordinator, request, announced.input, commit, { wait: false, provider, shown, idHex });
    } else {
        const salt = newChallengeSalt();
        const commitment = challengeCommitment(loaded.requestId, account, salt);
        const committed = await sendTx(
            "committing the challenge (its target stays hidden until the reveal)",
            () => coordinator.commitChallenge(commitment),
            shown,
        );
        commit = { salt, commitment, block: committed.blockNumber, transactionHash: committed.hash };
        // On stderr even with --json: the one thing an interrupted run needs to be resumed.
        process.stderr.write(
            `challenge committed in block ${committed.blockNumber} with salt ${salt}; ` +
                `if this run is interrupted, reveal it with \`verity dispute ${idHex} --salt ${salt}\`\n`,
        );
        await revealAccepted(coordinator, request, announced.input, commit, { wait: true, provider, shown, idHex });
    }
    const { salt } = commit;
    const receipt = await sendTx(
        "revealing the challenge",
        () => coordinator.challenge(request, announced.input, salt),
        shown,
    );

    const report: DisputeReport = {
        requestId: idHex,
        modelId: String(request.modelId),
        operator: getAddress(String(request.operator)),
        challenger: account,
        bondWei: bond,
        salt,
        commitment: commit.commitment,
        commitBlock: commit.block,
        ...(commit.transactionHash === undefined ? {} : { commitTransactionHash: commit.transactionHash }),
        transactionHash: receipt.hash,
        outcome: "open",
        slashedWei: 0n,
        challengerPayoutWei: 0n,
        chainSaysWrong,
    };
    for (const log of receipt.logs) {
        const parsed = parseCoordinatorLog(log);
        if (parsed?.name !== "DisputeResolved" || parsed.args.requestId !== loaded.requestId) continue;
        report.outcome = (parsed.args.operatorAtFault as boolean) ? "won" : "lost";
        report.slashedWei = parsed.args.slashedWei as bigint;
        report.challengerPayoutWei = parsed.args.challengerPayoutWei as bigint;
    }
    const text =
        report.outcome === "won"
            ? `dispute won: operator ${report.operator} slashed ${formatAmount(report.slashedWei)}; ` +
              `${formatAmount(report.challengerPayoutWei)} (bond and reward) credited to ${report.challenger}'s coordinator balance`
            : report.outcome === "lost"
              ? `dispute lost: the result stands and its window restarts; the bond of ${formatAmount(bond)} is forfeited`
              : `dispute opened (bond ${formatAmount(bond)}); the resolver decides later: follow it with \`verity inspect ${idHex}\``;
    output(opts.json, report, text);
    return report;
}

/** `--salt`: 32 bytes of 0x-prefixed hex. */
function parseSalt(text: string): string {
    if (!isHexString(text, 32)) {
        throw new CliError(`--salt must be the 32-byte salt a commit printed (0x and 64 hex digits), not "${text}"`);
    }
    return text.toLowerCase();
}

/**
 * Returns once the chain accepts the reveal of `commit` (its simulation passes). A simulation refused because the
 * commitment is in the chain's latest block waits for a new block (`wait`) or is refused; any other revert is
 * reported as the reveal's.
 */
async function revealAccepted(
    coordinator: InferenceCoordinator,
    request: Request,
    input: string,
    commit: { salt: string; block: number },
    how: { wait: boolean; provider: Provider; shown: Progress; idHex: string },
): Promise<void> {
    const deadline = Date.now() + REVEAL_WAIT_MS;
    const resume = `\`verity dispute ${how.idHex} --salt ${commit.salt}\``;
    let spinner: ReturnType<Progress["spinner"]> | undefined;
    for (let attempt = 0; ; attempt++) {
        try {
            await coordinator.challenge.estimateGas(request, input, commit.salt);
            spinner?.succeed(`a block after the commitment's (block ${commit.block}) is mined`);
            return;
        } catch (error) {
            if (revertOf(error)?.name !== "CoordinatorChallengeCommitmentTooRecent") {
                spinner?.fail(`waiting for a block after the commitment's (block ${commit.block})`);
                throw chainError(error, "revealing the challenge");
            }
        }
        if (!how.wait) {
            throw new CliError(
                `the commitment was made in block ${commit.block}, the chain's latest: it can be revealed from the next block on; retry ${resume} once a new block is mined`,
                EXIT.REFUSED,
            );
        }
        spinner ??= how.shown.spinner(`waiting for a block after the commitment's (block ${commit.block})`);
        // Poll the head until it is past the commitment's block (at least one poll between two simulations).
        for (let polls = 0; ; polls++) {
            if (Date.now() > deadline) {
                spinner.fail(`waiting for a block after the commitment's (block ${commit.block})`);
                throw new CliError(
                    `no block after the commitment's (block ${commit.block}) in ${REVEAL_WAIT_MS / 60_000} minutes: reveal it later with ${resume}`,
                    EXIT.CHAIN,
                );
            }
            if (polls > 0 || attempt > 0) await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
            if ((await chainCall(() => how.provider.getBlockNumber())) > commit.block) break;
        }
    }
}
