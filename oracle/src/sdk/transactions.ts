/**
 * How the SDK sends transactions: one at a time per client, each awaited to its receipt, and numbered so that a
 * stale nonce read cannot give a transaction the nonce of the one before it.
 *
 * The failure this prevents: a signer that numbers its own transactions (ethers' Wallet) reads the account's
 * "pending" transaction count before each one, and ethers' JsonRpcProvider answers an identical request made within
 * its `cacheTimeout` (250 ms by default) from a cache. On a fast chain approve, deposit and requestInference are
 * that close: the deposit was signed with the count read for the approve and refused ("nonce has already been
 * used", NONCE_EXPIRED). A load-balanced RPC whose backends lag each other fails the same way.
 *
 * So the client remembers its last transaction. Before the next one it asks the signer for its pending count: past
 * the last nonce, the signer numbers the transaction itself (a fresh read, a NonceManager's own count, a browser
 * wallet); not past it while the chain still knows the last transaction, the count is stale and the transaction
 * is sent with the last nonce + 1. When the chain no longer knows it (a dev chain reverted to a snapshot), the
 * count is right and the signer numbers it.
 */
import type { ContractTransactionReceipt, ContractTransactionResponse, Signer } from "ethers";
import { requireSigner, type SdkContext } from "./context";
import { VeritySdkError, wrapReverts } from "./errors";

/** The overrides a contract method gets: a nonce only when the signer's own count is stale. */
export interface SendOverrides {
    nonce?: number;
}

/** The nonce for the client's next transaction, or undefined to let the signer choose. */
async function nextNonce(ctx: SdkContext, signer: Signer): Promise<number | undefined> {
    const last = ctx.transactions.last;
    if (last === undefined) return undefined;
    if ((await signer.getNonce("pending")) > last.nonce) return undefined;
    if ((await ctx.provider.getTransaction(last.hash)) === null) {
        ctx.transactions.last = undefined;
        return undefined;
    }
    return last.nonce + 1;
}

/**
 * Runs `fn` once the client's earlier sends have chosen their nonce and been broadcast: those steps must not
 * interleave. Receipts are awaited outside, so concurrent calls can still be mined in one block.
 */
function exclusive<T>(ctx: SdkContext, fn: () => Promise<T>): Promise<T> {
    const run = ctx.transactions.queue.then(fn, fn);
    ctx.transactions.queue = run.catch(() => undefined);
    return run;
}

/**
 * Sends the transaction `send` builds with the client's signer and `overrides`, waits for its receipt and returns
 * it; reverts become REVERTED (see wrapReverts).
 */
export async function sendTransaction(
    ctx: SdkContext,
    action: string,
    send: (signer: Signer, overrides: SendOverrides) => Promise<ContractTransactionResponse>,
): Promise<ContractTransactionReceipt> {
    const signer = requireSigner(ctx, action);
    return wrapReverts(action, async () => {
        const tx = await exclusive(ctx, async () => {
            const nonce = await nextNonce(ctx, signer);
            const sent = await send(signer, nonce === undefined ? {} : { nonce });
            ctx.transactions.last = { nonce: sent.nonce, hash: sent.hash };
            return sent;
        });
        const receipt = await tx.wait();
        if (receipt === null) throw new VeritySdkError("WRONG_STATE", `${action}: no receipt`);
        return receipt;
    });
}
