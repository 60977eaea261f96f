/**
 * `verity dispute <requestId>`: challenge a submitted result from the key's own account.
 *
 * The request's current struct and input come from the coordinator's events (oracle/src/chain/requestEvents.ts, as
 * the challenger role does). The command refuses before sending anything when the request is not Submitted or its
 * window has closed, and, for a REEXECUTION model, when the chain's own re-execution (`isWrongResult` of the
 * coordinator's REEXECUTION resolver, by eth_call) says the result is correct: that dispute would lose the bond.
 * `--force` skips that last check. Then it approves the bond if the allowance is short, sends
 * `challenge(request, input)` and reports the verdict (REEXECUTION disputes are decided in the same transaction).
 */
import { getAddress, ZeroAddress } from "ethers";
import { ERC20__factory, ReexecutionResolver__factory } from "../../../typechain-types";
import { parseCoordinatorLog, VerificationMode } from "../chain/requestEvents";
import {
    chainCall,
    CliError,
    EXIT,
    formatAmount,
    output,
    progress,
    requireGas,
    sendTx,
    type ChainOptions,
} from "./context";
import { chainNow, loadRequest } from "./settle";

export interface DisputeOptions extends ChainOptions {
    /** Dispute even when the chain's re-execution says the result is correct (the bond is likely lost). */
    force?: boolean;
}

export interface DisputeReport {
    requestId: string;
    modelId: string;
    operator: string;
    challenger: string;
    bondWei: bigint;
    transactionHash: string;
    /** `won`: the operator was at fault; `lost`: the result stood; `open`: the resolver decides later. */
    outcome: "won" | "lost" | "open";
    slashedWei: bigint;
    challengerPayoutWei: bigint;
    /** The chain's re-execution said the result was wrong (REEXECUTION only; undefined when not asked). */
    chainSaysWrong?: boolean;
}

const MODE_NAMES = ["REEXECUTION", "BISECTION", "QUORUM"] as const;

/** Challenges the result of `requestIdText`; prints the outcome and returns it. */
export async function dispute(requestIdText: string, opts: DisputeOptions): Promise<DisputeReport> {
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
            `this deployment has no resolver for ${MODE_NAMES[Number(mode)] ?? `mode ${mode}`} models: the result cannot be disputed here`,
            EXIT.REFUSED,
        );
    }

    let chainSaysWrong: boolean | undefined;
    if (mode === VerificationMode.REEXECUTION) {
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
    const receipt = await sendTx(
        "challenging the result",
        () => coordinator.challenge(request, announced.input),
        shown,
    );

    const report: DisputeReport = {
        requestId: idHex,
        modelId: String(request.modelId),
        operator: getAddress(String(request.operator)),
        challenger: getAddress(wallet.address),
        bondWei: bond,
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
