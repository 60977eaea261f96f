/**
 * Sends the node's transactions: one nonce sequence per key, EIP-1559 fees, replacement of stuck transactions,
 * and crash safety through the store.
 *
 * Every transaction is simulated first (eth_estimateGas): a revert is returned to the caller and never sent, so
 * reverts are not retried. Simulations run concurrently (over a batching RPC client, sends made together cost one
 * round trip for their simulations and fee read, and one for their broadcasts); only taking a nonce, signing and
 * storing are serialized, and broadcasts leave in nonce order. A transaction is signed and written to the store,
 * with its nonce, before it is broadcast; after a crash the same signed bytes are broadcast again, so a result is never sent twice under two
 * nonces. A transaction still unmined `stuckAfterMs` after its last broadcast is re-signed at the same nonce with
 * fees raised by `feeBumpPercent` (capped by `maxFeePerGas`); whichever version is mined, the others become
 * invalid. A pending transaction that would now revert (its request was cancelled, reorged out or served by
 * someone else) is replaced by a zero-value transfer to self, which fills its nonce without paying for a revert.
 */
import { Transaction, type Wallet } from "ethers";
import type { Logger } from "pino";
import { crashPoint } from "../internal/crashPoints";
import { forEachConcurrently } from "../internal/concurrently";
import { describeError, shouldRetry } from "../internal/errors";
import { RevertError, TxPoolError, type ChainClient, type TransactionReceipt } from "./rpc";
import type { RequestState, Store, StoredTx, TxKind } from "../store/store";

/** Gas estimates are multiplied by this (percent) to absorb state changes between estimate and inclusion. */
export const GAS_LIMIT_MARGIN_PERCENT = 25n;
/**
 * EIP-7825's per-transaction gas cap (Ethereum since Osaka; anvil with --enable-tx-gas-limit): a transaction above it
 * is refused. The margin never takes a gas limit over it, so a dispute the resolver bounds by it (maxDisputeGas) can
 * be sent.
 */
export const TX_GAS_CAP = 16_777_216n;
/** Rounds in a row a nonce must look used by someone else before its transaction is dropped. */
export const DROP_AFTER_CHECKS = 3;
/** A plain transfer. */
const NOOP_GAS_LIMIT = 21_000n;
/** Market fees are re-read at most this often (each read is two RPC calls; a burst of sends shares one). */
export const FEE_CACHE_MS = 1_000;
/** Priority fee used when the node does not suggest one. */
export const DEFAULT_PRIORITY_FEE_WEI = 1_000_000_000n;
/**
 * A transaction the RPC node accepted less than this long ago is not asked about again (eth_getTransactionByHash)
 * while its nonce is unmined: a pool does not forget a transaction it just took. Past it, every check asks.
 */
export const RECHECK_AFTER_MS = 5_000;
/** Pending transactions checked at once in a tick (their receipt and pool look-ups overlap). */
export const CHECK_CONCURRENCY = 32;

export interface TxSenderOptions {
    chainId: number;
    stuckAfterMs: number;
    feeBumpPercent: number;
    /** Hard cap on maxFeePerGas, in wei. */
    maxFeePerGasWei: bigint;
    now?: () => number;
    /**
     * Names a revert that only says "not yet" (a window still open by a second after a reorg moved the chain's
     * clock back, a commitment from this very block): the transaction becomes valid as time passes, so a re-check
     * that meets one keeps it rather than burning its nonce on a no-op. Undefined for any other revert.
     */
    notYet?: (revertData: string) => string | undefined;
    /**
     * Whether broadcasts waiting together may be sent at once (as one batch when the RPC client batches): a
     * chain's transaction pool keeps a nonce that arrives ahead of its predecessor until that one comes. Otherwise
     * (default) they go one after the other, in nonce order: a chain that mines each transaction on arrival (a
     * development chain's automine) refuses a nonce ahead of its count, and Hardhat answers the calls of one
     * batch concurrently, in no fixed order.
     */
    broadcastTogether?: () => boolean;
}

export interface TxEvents {
    /** A transaction was mined (successfully or not). */
    onMined(tx: StoredTx, receipt: TransactionReceipt): void;
    /** A transaction will never be mined (its nonce was used by another one, or it was turned into a no-op). */
    onDropped(tx: StoredTx, reason: string): void;
    /** The RPC node refused a transaction for good (it was turned into a no-op); default: onDropped. */
    onRefused?(tx: StoredTx, reason: string): void;
}

export type SendOutcome = { sent: true; txId: number } | { sent: false; revert: RevertError };

export class TxSender {
    private nextNonce = 0;
    /** Rounds in a row each pending transaction was found with its nonce used but no receipt. */
    private readonly unseen = new Map<number, number>();
    private fees?: { atMs: number; maxFeePerGas: bigint; maxPriorityFeePerGas: bigint };
    /** The fee read in flight, shared by every send that needs fees meanwhile. */
    private feesReading?: Promise<{ maxFeePerGas: bigint; maxPriorityFeePerGas: bigint }>;
    private lock: Promise<unknown> = Promise.resolve();
    /** The tick in flight: a second call joins it. */
    private ticking?: Promise<void>;
    /** When the RPC node last accepted each hash we broadcast (in memory: after a restart every check asks). */
    private readonly acceptedAtMs = new Map<string, number>();
    /** Broadcasts of newly signed transactions waiting for the ones in flight. */
    private broadcastQueue: {
        tx: StoredTx;
        raw: string;
        hash: string;
        resolve: () => void;
        reject: (error: unknown) => void;
    }[] = [];
    private broadcasting = false;
    /** Newly signed transactions whose first broadcast has not returned yet: a tick leaves them alone. */
    private readonly firstBroadcasts = new Set<number>();
    private readonly now: () => number;

    constructor(
        private readonly chain: ChainClient,
        private readonly store: Store,
        private readonly wallet: Wallet,
        private readonly options: TxSenderOptions,
        private readonly events: TxEvents,
        private readonly logger?: Logger,
    ) {
        this.now = options.now ?? Date.now;
    }

    get address(): string {
        return this.wallet.address;
    }

    /** Loads the next nonce: past both what the chain has seen and what the store ever signed. */
    async init(): Promise<void> {
        const onChain = await this.chain.getTransactionCount(this.wallet.address, "pending");
        this.nextNonce = Math.max(onChain, this.store.nextStoredNonce());
    }

    /** Number of transactions not yet mined. */
    pendingCount(): number {
        return this.store.pendingTxs().length;
    }

    /** Serializes `fn` (nonce allocation must not interleave). */
    private exclusive<T>(fn: () => Promise<T>): Promise<T> {
        const run = this.lock.then(fn, fn);
        this.lock = run.catch(() => undefined);
        return run;
    }

    /**
     * Simulates, signs, stores and broadcasts a transaction. A revert in simulation is returned, not thrown, so
     * the caller can decide what it means for its requests; nothing is stored then. Requests in `requestIds` move
     * to `requestState` (null: the requests table is left alone) in the same store transaction that records the
     * signed transaction, and so does whatever `link` writes (it gets the new transaction's id).
     */
    async send(
        kind: TxKind,
        to: string,
        data: string,
        requestIds: string[],
        requestState: RequestState | null,
        link?: (txId: number) => void,
    ): Promise<SendOutcome> {
        // Outside the nonce lock: concurrent sends overlap their simulations and share one fee read, which goes out
        // with the simulation rather than after it (one round trip for both when batched).
        const reading = this.marketFees();
        reading.catch(() => undefined); // awaited below unless the simulation fails first
        let gas: bigint;
        try {
            gas = await this.chain.estimateGas({ from: this.wallet.address, to, data });
        } catch (error) {
            if (error instanceof RevertError) return { sent: false, revert: error };
            throw error;
        }
        const margin = (gas * (100n + GAS_LIMIT_MARGIN_PERCENT)) / 100n;
        const gasLimit = gas <= TX_GAS_CAP && margin > TX_GAS_CAP ? TX_GAS_CAP : margin;
        const fees = await reading;
        const { nonce, txId, signed } = await this.exclusive(async () => {
            const nonce = this.nextNonce;
            const signed = await this.sign({ nonce, to, data, gasLimit, ...fees });
            const txId = this.store.transaction(() => {
                const id = this.store.addTx(
                    { nonce, kind, to, data, gasLimit, requestIds },
                    { hash: signed.hash, raw: signed.raw, ...fees },
                    requestState,
                );
                link?.(id);
                return id;
            });
            this.nextNonce = nonce + 1;
            return { nonce, txId, signed };
        });
        this.logger?.info(
            { tx_hash: signed.hash, nonce, kind, request_ids: requestIds, gas_limit: gasLimit.toString() },
            "transaction signed and stored; broadcasting",
        );
        crashPoint("tx.stored_before_broadcast");
        const stored = this.store.getTx(txId);
        if (stored !== undefined) {
            this.firstBroadcasts.add(txId);
            try {
                await this.broadcastInOrder(stored, signed.raw, signed.hash);
            } finally {
                this.firstBroadcasts.delete(txId);
            }
        }
        crashPoint("tx.broadcast_before_receipt");
        return { sent: true, txId };
    }

    /**
     * Broadcasts a newly signed transaction after those already on their way: while one broadcast is in flight, the
     * next ones wait and then leave together (one batched request) or one by one, in nonce order either way.
     */
    private broadcastInOrder(tx: StoredTx, raw: string, hash: string): Promise<void> {
        return new Promise<void>((resolve, reject) => {
            this.broadcastQueue.push({ tx, raw, hash, resolve, reject });
            if (!this.broadcasting) void this.drainBroadcasts();
        });
    }

    private async drainBroadcasts(): Promise<void> {
        this.broadcasting = true;
        try {
            while (this.broadcastQueue.length > 0) {
                const group = this.broadcastQueue.splice(0).sort((a, b) => a.tx.nonce - b.tx.nonce);
                const one = (item: (typeof group)[number]): Promise<void> =>
                    this.broadcastOrFill(item.tx, item.raw, item.hash).then(item.resolve, item.reject);
                if (this.options.broadcastTogether?.() === true) await Promise.all(group.map(one));
                else for (const item of group) await one(item);
            }
        } finally {
            this.broadcasting = false;
        }
    }

    /**
     * Checks every pending transaction once: records receipts, replaces stuck ones with higher fees, rebroadcasts
     * ones the RPC node forgot, and turns ones that would now revert into no-ops. The checks overlap (at most
     * CHECK_CONCURRENCY at once); sends go on meanwhile. A call while a tick runs joins it.
     */
    tick(): Promise<void> {
        this.ticking ??= this.checkPending().finally(() => {
            this.ticking = undefined;
        });
        return this.ticking;
    }

    private async checkPending(): Promise<void> {
        const minedNonce = await this.chain.getTransactionCount(this.wallet.address, "latest");
        await this.resurrectReorged(minedNonce);
        await this.exclusive(async () => this.adoptForeignNonces(minedNonce));
        await forEachConcurrently(this.store.pendingTxs(), CHECK_CONCURRENCY, async (tx) => {
            try {
                await this.check(tx, minedNonce);
            } catch (error) {
                // One transaction's trouble (an RPC error on its receipt) must not stall the others.
                this.logger?.warn(
                    { nonce: tx.nonce, kind: tx.kind, error: describeError(error) },
                    "could not check transaction",
                );
            }
        });
    }

    /** One pending transaction: record its receipt, drop it, or keep it alive. */
    private async check(tx: StoredTx, minedNonce: number): Promise<void> {
        // Only a nonce below the chain's count can have been mined; skip the receipt look-ups otherwise.
        if (tx.nonce < minedNonce) {
            const receipt = await this.findReceipt(tx);
            if (receipt !== null) {
                this.unseen.delete(tx.id);
                this.recordMined(tx, receipt);
                return;
            }
            // The nonce is used, by none of our versions. A lagging backend can say so about a transaction that
            // was mined, so conclude only after DROP_AFTER_CHECKS rounds in a row.
            const seen = (this.unseen.get(tx.id) ?? 0) + 1;
            this.unseen.set(tx.id, seen);
            if (seen >= DROP_AFTER_CHECKS) {
                this.unseen.delete(tx.id);
                this.drop(tx, "nonce used by another transaction");
            }
            return;
        }
        // Its first broadcast is still on its way (queued behind others, or in flight): nothing to check yet.
        if (this.firstBroadcasts.has(tx.id)) return;
        await this.keepAlive(tx);
    }

    /**
     * A transaction we recorded as mined at a nonce the chain has not reached was mined in a block that a reorg
     * removed: it is pending again (later nonces wait for it), to be rebroadcast or turned into a no-op.
     */
    private async resurrectReorged(minedNonce: number): Promise<void> {
        await forEachConcurrently(this.store.minedTxsFrom(minedNonce), CHECK_CONCURRENCY, async (tx) => {
            // A lagging backend behind a load balancer can under-report the nonce: trust only a vanished receipt.
            if (tx.minedHash !== null && (await this.chain.getTransactionReceipt(tx.minedHash)) !== null) return;
            this.store.setTxState(tx.id, "pending");
            this.logger?.warn(
                { nonce: tx.nonce, kind: tx.kind, tx_hash: tx.minedHash },
                "mined transaction was reorged out",
            );
        });
    }

    /**
     * If another process got transactions mined with this key, continue after its nonces instead of colliding
     * with them. The mined count, not the pending one: a foreign transaction still in the pool may yet be
     * evicted, and adopting its nonce would then leave a gap no transaction of ours fills.
     *
     * Harmless in itself (the CLI run with the node's key does this with every transaction), so logged at debug:
     * every nonce this node signed is below nextNonce, so the foreign transactions took none of ours. What does
     * cost a transaction is a foreign one taking the nonce of one of ours still pending; `check` finds that (the
     * nonce used, no receipt of ours) and `drop` warns.
     */
    private adoptForeignNonces(minedNonce: number): void {
        if (minedNonce > this.nextNonce) {
            this.logger?.debug(
                { chain_nonce: minedNonce, our_nonce: this.nextNonce },
                "nonce advanced outside this node",
            );
            this.nextNonce = minedNonce;
        }
    }

    private async findReceipt(tx: StoredTx): Promise<TransactionReceipt | null> {
        for (const attempt of this.store.attempts(tx.id)) {
            const receipt = await this.chain.getTransactionReceipt(attempt.hash);
            if (receipt !== null) return receipt;
        }
        return null;
    }

    private recordMined(tx: StoredTx, receipt: TransactionReceipt): void {
        for (const attempt of this.store.attempts(tx.id)) this.acceptedAtMs.delete(attempt.hash);
        const state = receipt.status === 1 ? "mined" : "reverted";
        this.store.transaction(() => {
            this.store.setTxState(tx.id, state, { hash: receipt.transactionHash, block: receipt.blockNumber });
            this.events.onMined(tx, receipt);
        });
        crashPoint("tx.mined_recorded");
        const log = { tx_hash: receipt.transactionHash, nonce: tx.nonce, kind: tx.kind, block: receipt.blockNumber };
        if (receipt.status === 1)
            this.logger?.info({ ...log, gas_used: receipt.gasUsed.toString() }, "transaction mined");
        else this.logger?.error(log, "transaction reverted on chain");
    }

    /** A pending transaction whose nonce another transaction signed with this key took: it will never be mined. */
    private drop(tx: StoredTx, reason: string): void {
        for (const attempt of this.store.attempts(tx.id)) this.acceptedAtMs.delete(attempt.hash);
        this.store.transaction(() => {
            this.store.setTxState(tx.id, "dropped");
            this.events.onDropped(tx, reason);
        });
        this.logger?.warn(
            { nonce: tx.nonce, kind: tx.kind, request_ids: tx.requestIds, reason },
            "transaction dropped: another transaction signed with this key took its nonce (give the node a key of its own)",
        );
    }

    /** Rebroadcasts, replaces with higher fees, or turns into a no-op, as the transaction's situation needs. */
    private async keepAlive(tx: StoredTx): Promise<void> {
        const [latest] = this.store.attempts(tx.id);
        if (latest === undefined) return;
        const stuck = this.now() - latest.sentAtMs >= this.options.stuckAfterMs;
        const accepted = this.acceptedAtMs.get(latest.hash);
        if (!stuck && accepted !== undefined && this.now() - accepted < RECHECK_AFTER_MS && this.now() >= accepted) {
            return; // the pool took it moments ago
        }
        const known = await this.chain.hasTransaction(latest.hash);
        if (known && !stuck) return;

        // Whatever we broadcast next must still be worth sending: a transaction that would revert now becomes a
        // no-op at the same nonce (later nonces depend on this one being mined).
        let current = tx;
        if (tx.kind !== "noop") {
            try {
                await this.chain.estimateGas({ from: this.wallet.address, to: tx.to, data: tx.data });
            } catch (error) {
                if (!(error instanceof RevertError)) throw error;
                const notYet = this.options.notYet?.(error.data);
                if (notYet === undefined) current = this.toNoop(tx, `would revert now: ${error.message}`, false);
                else this.logger?.debug({ nonce: tx.nonce, kind: tx.kind, not_yet: notYet }, "kept: valid later");
            }
        }
        if (stuck || current !== tx) {
            await this.replace(current, latest.maxFeePerGas, latest.maxPriorityFeePerGas, stuck ? "stuck" : "no-op");
        } else {
            // Unknown but not yet stuck: the same bytes again. The stuck timer keeps running from the last
            // signing, so a transaction the pool keeps evicting (underpriced) still gets its fee bump.
            this.logger?.warn(
                { tx_hash: latest.hash, nonce: tx.nonce },
                "transaction unknown to the RPC node; rebroadcasting",
            );
            await this.broadcastOrFill(tx, latest.raw, latest.hash);
        }
    }

    /** Rewrites `tx` as a zero-value transfer to self; its requests go back a step (or are refused). */
    private toNoop(tx: StoredTx, reason: string, refused: boolean): StoredTx {
        const noop: StoredTx = {
            ...tx,
            kind: "noop",
            to: this.wallet.address,
            data: "0x",
            gasLimit: NOOP_GAS_LIMIT,
            requestIds: [],
        };
        this.store.transaction(() => {
            this.store.replaceTxPayload(tx.id, "noop", noop.to, noop.data, noop.gasLimit);
            if (refused && this.events.onRefused !== undefined) this.events.onRefused(tx, reason);
            else this.events.onDropped(tx, reason);
        });
        this.logger?.warn(
            { nonce: tx.nonce, kind: tx.kind, reason },
            "replacing a transaction with a no-op at the same nonce",
        );
        return noop;
    }

    /** Signs a new version at the same nonce with fees raised by feeBumpPercent (at least the market's). */
    private async replace(tx: StoredTx, oldMaxFee: bigint, oldPriority: bigint, why: string): Promise<void> {
        const bump = (value: bigint): bigint => (value * BigInt(100 + this.options.feeBumpPercent) + 99n) / 100n;
        const market = await this.marketFees();
        const cap = this.options.maxFeePerGasWei;
        let maxPriorityFeePerGas =
            bump(oldPriority) > market.maxPriorityFeePerGas ? bump(oldPriority) : market.maxPriorityFeePerGas;
        let maxFeePerGas = bump(oldMaxFee) > market.maxFeePerGas ? bump(oldMaxFee) : market.maxFeePerGas;
        if (maxFeePerGas > cap) {
            maxFeePerGas = cap;
            this.logger?.warn(
                { nonce: tx.nonce, cap_wei: cap.toString() },
                "fee bump capped by transactions.maxFeePerGasGwei",
            );
        }
        if (maxPriorityFeePerGas > maxFeePerGas) maxPriorityFeePerGas = maxFeePerGas;
        if (maxFeePerGas <= oldMaxFee && tx.kind !== "noop") {
            // At the cap: nothing higher to offer. Rebroadcast the newest version and keep waiting.
            const [latest] = this.store.attempts(tx.id);
            if (latest !== undefined) {
                this.store.touchAttempt(latest.hash);
                await this.broadcastOrFill(tx, latest.raw, latest.hash);
            }
            return;
        }
        const signed = await this.sign({
            nonce: tx.nonce,
            to: tx.to,
            data: tx.data,
            gasLimit: tx.gasLimit,
            maxFeePerGas,
            maxPriorityFeePerGas,
        });
        this.store.addAttempt({
            txId: tx.id,
            hash: signed.hash,
            raw: signed.raw,
            maxFeePerGas,
            maxPriorityFeePerGas,
            sentAtMs: this.now(),
        });
        this.logger?.warn(
            {
                tx_hash: signed.hash,
                nonce: tx.nonce,
                kind: tx.kind,
                reason: why,
                max_fee_per_gas: maxFeePerGas.toString(),
                max_priority_fee_per_gas: maxPriorityFeePerGas.toString(),
            },
            "replacing transaction with higher fees",
        );
        await this.broadcastOrFill(tx, signed.raw, signed.hash);
    }

    /**
     * Sends signed bytes once. Returns the reason if the RPC node refused them for good (fee above its cap,
     * oversized, over the block gas limit...): such a transaction can never be mined, so the caller must fill its
     * nonce with a no-op or every later transaction waits behind it forever.
     */
    private async broadcast(txId: number, raw: string, hash: string): Promise<string | undefined> {
        try {
            await this.chain.sendRawTransaction(raw);
            this.acceptedAtMs.set(hash, this.now());
        } catch (error) {
            if (error instanceof TxPoolError && error.kind === "already_known") {
                this.acceptedAtMs.set(hash, this.now());
                return undefined;
            }
            if (error instanceof RevertError) {
                // Some nodes (Hardhat automine) mine and report the revert at once; the receipt tells the rest.
                return undefined;
            }
            if (!(error instanceof TxPoolError) && !shouldRetry(error)) {
                this.logger?.error(
                    { tx_hash: hash, tx_id: txId, error: describeError(error) },
                    "the RPC node refused the transaction for good",
                );
                return describeError(error).message;
            }
            // Anything else (nonce too low, underpriced, transport fault): the next tick sorts it out from the
            // chain's answer (receipt, nonce, pool membership); the transaction stays stored.
            this.logger?.warn(
                { tx_hash: hash, tx_id: txId, error: describeError(error) },
                "broadcast failed; will retry",
            );
        }
        return undefined;
    }

    /** Broadcasts; if the bytes are refused for good, replaces the transaction with a no-op at its nonce. */
    private async broadcastOrFill(tx: StoredTx, raw: string, hash: string): Promise<void> {
        const refused = await this.broadcast(tx.id, raw, hash);
        if (refused === undefined) return;
        if (tx.kind === "noop") {
            this.logger?.error({ nonce: tx.nonce }, "even a no-op was refused; later transactions wait behind it");
            return;
        }
        const [latest] = this.store.attempts(tx.id);
        const noop = this.toNoop(tx, `refused by the RPC node: ${refused}`, true);
        await this.replace(noop, latest?.maxFeePerGas ?? 0n, latest?.maxPriorityFeePerGas ?? 0n, "refused");
    }

    private marketFees(): Promise<{ maxFeePerGas: bigint; maxPriorityFeePerGas: bigint }> {
        const cached = this.fees;
        if (cached !== undefined && this.now() - cached.atMs < FEE_CACHE_MS && this.now() >= cached.atMs) {
            return Promise.resolve({
                maxFeePerGas: cached.maxFeePerGas,
                maxPriorityFeePerGas: cached.maxPriorityFeePerGas,
            });
        }
        this.feesReading ??= this.readFees().finally(() => {
            this.feesReading = undefined;
        });
        return this.feesReading;
    }

    private async readFees(): Promise<{ maxFeePerGas: bigint; maxPriorityFeePerGas: bigint }> {
        const [latest, suggested] = await Promise.all([
            this.chain.getBlock("latest"),
            this.chain.maxPriorityFeePerGas(DEFAULT_PRIORITY_FEE_WEI),
        ]);
        const baseFee = latest?.baseFeePerGas ?? 0n;
        let maxPriorityFeePerGas = suggested;
        let maxFeePerGas = baseFee * 2n + maxPriorityFeePerGas;
        if (maxFeePerGas > this.options.maxFeePerGasWei) maxFeePerGas = this.options.maxFeePerGasWei;
        if (maxPriorityFeePerGas > maxFeePerGas) maxPriorityFeePerGas = maxFeePerGas;
        this.fees = { atMs: this.now(), maxFeePerGas, maxPriorityFeePerGas };
        return { maxFeePerGas, maxPriorityFeePerGas };
    }

    private async sign(tx: {
        nonce: number;
        to: string;
        data: string;
        gasLimit: bigint;
        maxFeePerGas: bigint;
        maxPriorityFeePerGas: bigint;
    }): Promise<{ raw: string; hash: string }> {
        const raw = await this.wallet.signTransaction({
            type: 2,
            chainId: this.options.chainId,
            nonce: tx.nonce,
            to: tx.to,
            data: tx.data,
            value: 0n,
            gasLimit: tx.gasLimit,
            maxFeePerGas: tx.maxFeePerGas,
            maxPriorityFeePerGas: tx.maxPriorityFeePerGas,
        });
        const hash = Transaction.from(raw).hash;
        if (hash === null) throw new Error("signed transaction has no hash");
        return { raw, hash };
    }
}
