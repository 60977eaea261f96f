/**
 * Follows the coordinator's events with a confirmation depth, from a persisted checkpoint, through reorgs.
 *
 * Each poll: read the head; if the block at the checkpoint no longer has the hash we recorded, a reorg replaced
 * it, so walk back through the recorded hashes to the newest block that is still canonical and rewind the store
 * there (requests announced above it are dropped; they come back if the new chain includes them again). Then scan
 * `(checkpoint, head - confirmations]` in ranges of at most `maxBlockRange` blocks; each range's logs, the requests
 * found in it and the new checkpoint are written in one database transaction, so a crash mid-scan loses nothing
 * and records nothing twice.
 */
import type { Logger } from "pino";
import type { BlockHeader, ChainClient, RpcLog } from "./rpc";
import type { Store } from "../store/store";
import { crashPoint } from "../internal/crashPoints";
import { describeError, shouldRetry } from "../internal/errors";
import { PAST_HEAD, RANGE_REFUSAL } from "./logs";

export interface FollowerOptions {
    coordinator: string;
    /** topic0 of every event to fetch (any of them). */
    topics: string[];
    confirmations: number;
    /** First block to scan when the store has no checkpoint. */
    startBlock: number;
    maxBlockRange: number;
    /** Recorded block hashes kept for reorg detection. */
    keepBlocks: number;
    /** Told each head as soon as it is read, before the (possibly long) scan up to it. */
    onHead?: (head: BlockHeader) => void;
}

/** Called with the logs of each scanned range, inside the store transaction that advances the checkpoint. */
export type LogSink = (logs: RpcLog[], range: { from: number; to: number }) => void;

export interface PollResult {
    head: BlockHeader;
    /** Last block whose events are recorded. */
    processed: number;
    /** The ancestor block the store was rewound to, if a reorg was found. */
    reorgedTo?: number;
    /** Requests dropped by that reorg. */
    dropped: string[];
}

export class ChainFollower {
    /** Blocks per eth_getLogs call: `maxBlockRange`, halved whenever the provider refuses a range. */
    private range: number;

    constructor(
        private readonly chain: ChainClient,
        private readonly store: Store,
        private readonly options: FollowerOptions,
        private readonly sink: LogSink,
        private readonly logger?: Logger,
    ) {
        this.range = options.maxBlockRange;
    }

    /** One round: detect a reorg, then scan every confirmed block not yet processed. */
    async poll(): Promise<PollResult> {
        // The head and the reorg check do not depend on each other: one round trip for both (batched).
        const [head, reorg] = await Promise.all([this.chain.getBlock("latest"), this.findReorg()]);
        if (head === null) throw new Error("eth_getBlockByNumber(latest) returned null");
        this.options.onHead?.(head);
        const result: PollResult = {
            head,
            processed: this.store.checkpoint() ?? this.options.startBlock - 1,
            dropped: [],
        };

        if (reorg === "behind") {
            // The endpoint does not have our checkpoint block (a lagging backend behind a load balancer, or a
            // chain shorter for the moment): nothing to conclude yet; the next poll looks again.
            this.logger?.debug({ checkpoint: result.processed, head: head.number }, "RPC node behind our checkpoint");
            return result;
        }
        if (reorg !== undefined) {
            result.dropped = this.store.rewind(reorg);
            result.reorgedTo = reorg;
            result.processed = reorg;
            this.logger?.warn(
                { ancestor_block: reorg, dropped_requests: result.dropped },
                "chain reorganisation: rewound to the last canonical block",
            );
        }

        const target = head.number - this.options.confirmations;
        let from = (this.store.checkpoint() ?? this.options.startBlock - 1) + 1;
        while (from <= target) {
            const to = Math.min(target, from + this.range - 1);
            let logs: RpcLog[];
            let last: BlockHeader | null;
            try {
                // The range's logs and its last header together (one round trip when batched); the check below
                // that they come from the same chain holds either way.
                [logs, last] = await Promise.all([
                    this.chain.getLogs({
                        address: this.options.coordinator,
                        fromBlock: from,
                        toBlock: to,
                        topics: [this.options.topics],
                    }),
                    this.chain.getBlock(to),
                ]);
            } catch (error) {
                const said = describeError(error).message;
                if (!shouldRetry(error) && PAST_HEAD.test(said)) {
                    // The endpoint answering eth_getLogs is behind the head read above (another backend, or a chain
                    // that got shorter meanwhile): not a range too large. What is scanned stays; the next poll reads
                    // the head again.
                    this.logger?.debug(
                        { from, to, head: head.number, error: said },
                        "RPC node behind the head it reported",
                    );
                    return result;
                }
                // Providers cap eth_getLogs by block range or result count, each with its own words for it:
                // halve the range (for the rest of this process) and try again.
                if (this.range > 1 && !shouldRetry(error) && RANGE_REFUSAL.test(said)) {
                    this.range = Math.max(1, Math.floor(this.range / 2));
                    this.logger?.warn({ max_block_range: this.range }, "eth_getLogs range refused; halving it");
                    continue;
                }
                throw error;
            }
            if (last === null) return result; // the chain got shorter under us: the next poll sees the reorg
            // Logs and header must come from the same chain; if the range's last block changed in between, retry.
            if (logs.some((log) => log.blockNumber === to && log.blockHash !== last.hash)) return result;
            const live = logs.filter((log) => !log.removed);
            this.store.transaction(() => {
                this.sink(live, { from, to });
                this.store.advance(to, last.hash, this.options.keepBlocks);
            });
            crashPoint("follower.range_committed");
            result.processed = to;
            from = to + 1;
        }
        result.processed = this.store.checkpoint() ?? result.processed;
        return result;
    }

    /**
     * The block to rewind to if the recorded checkpoint is no longer canonical; undefined if it is; "behind" if the
     * endpoint does not have that block (only a different hash proves a reorg, a missing block proves nothing).
     */
    private async findReorg(): Promise<number | undefined | "behind"> {
        const recorded = this.store.recordedBlocks();
        const newest = recorded[0];
        if (newest === undefined) return undefined;
        const current = await this.chain.getBlock(newest.number);
        if (current === null) return "behind";
        if (current.hash === newest.hash) return undefined;
        for (const block of recorded.slice(1)) {
            const now = await this.chain.getBlock(block.number);
            if (now !== null && now.hash === block.hash) return block.number;
        }
        // Deeper than everything recorded: rescan from the first block we still know to have been processed.
        const oldest = recorded[recorded.length - 1];
        return Math.max(this.options.startBlock - 1, (oldest?.number ?? this.options.startBlock) - 1);
    }
}
