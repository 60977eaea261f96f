/**
 * The one context object the node's services share (conventions: factory functions over one explicit context,
 * no globals).
 */
import type { Wallet } from "ethers";
import type { Config } from "../config/schema";
import type { Logger } from "../internal/logger";
import type { NodeMetrics } from "../internal/metrics";
import type { ChainClient, TransactionReceipt } from "../chain/rpc";
import type { CoordinatorClient } from "../chain/coordinator";
import type { TxSender } from "../chain/txSender";
import type { Store, StoredTx, TxKind } from "../store/store";
import type { Executor } from "../runtime/executor";

export interface NodeContext {
    config: Config;
    logger: Logger;
    metrics: NodeMetrics;
    /** Aborted on shutdown. */
    signal: AbortSignal;
    chain: ChainClient;
    coordinator: CoordinatorClient;
    store: Store;
    wallet: Wallet;
    tx: TxSender;
    executor: Executor;
    /** Models this node can serve now (loaded and verified), by model id (lowercase). */
    servedModels: Set<string>;
    /** Whether a model not served yet may still become available (a transient fetch failure, or loading). */
    modelMayLoad(modelId: string): boolean;
    /** Asks the main loop for another round soon (work became ready), instead of waiting a poll interval. */
    requestRound(): void;
    /**
     * Sends (single or batch transactions) each role has under way at once; default SEND_CONCURRENCY. 1 on a chain
     * that mines on arrival: a local development chain, whose calls are answered one at a time anyway.
     */
    sendConcurrency?: number;
    /**
     * Timestamp of the newest block seen (the chain's clock, not the machine's): what the chain has said, the time
     * to judge by when acting late would lose something (a deadline passed, a challenge window closed).
     */
    chainTime(): number;
    /**
     * The earliest the next block could carry: the newest block's timestamp plus the time since it arrived. Runs
     * on between blocks, so on a chain that mines only for transactions a window still ends; may run ahead of the
     * chain (a chain whose clock is ahead of the machine's advances a second per block), so it only decides when
     * to try something the simulation checks first (a finalization, a dispute expiry).
     */
    nextBlockTime(): number;
}

/**
 * What a role does when one of its transactions ends, for the transaction kinds it sends: the node routes each
 * transaction's end to the role that sent it (by `kinds`) and counts it in the metrics itself.
 */
export interface TxOutcomes {
    readonly kinds: ReadonlySet<TxKind>;
    /** Mined, successfully or reverted: move the rows it carried on, from the receipt's own logs. */
    mined(tx: StoredTx, receipt: TransactionReceipt): void;
    /** The RPC node refused it for good (fee above its cap, too large...). */
    refused(tx: StoredTx, reason: string): void;
    /** It will not be mined (replaced by a no-op, its nonce taken): its rows go back a step. */
    dropped(tx: StoredTx, reason: string): void;
}
