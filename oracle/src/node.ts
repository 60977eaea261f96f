/**
 * The operator node: wires config, keys, store, chain client, follower, transaction sender, executor and roles
 * into one process, runs the main loop and shuts down gracefully.
 *
 * Main loop, every `chain.pollIntervalMs`: follow confirmed events into the store, then at once: check pending
 * transactions (receipts, fee bumps, rebroadcasts), operator (execute, submit), finalizer (settle), challenger
 * (re-execute other operators' results, dispute wrong ones, withdraw). Every step is driven by the store, so the
 * loop can stop at any instruction (kill -9 included) and the next start carries on.
 */
import { join, resolve } from "node:path";
import { parseUnits, type Wallet } from "ethers";
import type { Config } from "./config/schema";
import { loadSigner } from "./config/keys";
import { createLogger, type Logger } from "./internal/logger";
import { createMetrics, type NodeMetrics } from "./internal/metrics";
import { startHttpServer } from "./internal/httpServer";
import { describeError, PermanentError } from "./internal/errors";
import { ChainClient, chainAutomines, RpcClient, type TransactionReceipt } from "./chain/rpc";
import { ChainFollower } from "./chain/follower";
import { CoordinatorClient, decodeRevert, eventTopic, FOLLOWED_EVENTS } from "./chain/coordinator";
import { TxSender } from "./chain/txSender";
import { Store, type StoredTx, type TxKind } from "./store/store";
import { Executor } from "./runtime/executor";
import { createModelCatalogue } from "./node/catalogue";
import { healthReport } from "./node/health";
import { Rounds } from "./node/rounds";
import { drainAndClose } from "./node/shutdown";
import { createTracker } from "./roles/tracker";
import { createOperatorRole, operatorTxOutcomes } from "./roles/operator";
import { createFinalizerRole, finalizerTxOutcomes } from "./roles/finalizer";
import { challengerTxOutcomes, createChallengerRole } from "./roles/challenger";
import type { NodeContext, TxOutcomes } from "./roles/context";
import { SEND_CONCURRENCY } from "./roles/sendGrouped";

/**
 * Coordinator reverts that pass with time: a finalization or dispute expiry a second early (a reorg can move the
 * chain's clock back), a reveal in its commitment's block, a submission inside another operator's exclusive window.
 */
const NOT_YET_REVERTS = new Set([
    "CoordinatorChallengeWindowOpen",
    "CoordinatorDisputeNotExpired",
    "CoordinatorChallengeCommitmentTooRecent",
    "CoordinatorNotAssignedOperator",
]);

/** Recorded block hashes kept for reorg detection. */
const KEEP_BLOCKS = 256;
/** Stake and balance gauges are refreshed every this many loop rounds. */
const STAKE_REFRESH_ROUNDS = 10;
/** Shortest pause between two loop rounds. */
const MIN_ROUND_GAP_MS = 20;
/** With no new block for this long, the node says which events wait for confirmations (once per head). */
const HEAD_IDLE_NOTICE_MS = 30_000;
/** Attempts of the first RPC call at start-up before giving up. */
const STARTUP_RPC_ATTEMPTS = 4;
export { SHUTDOWN_GRACE_MS } from "./node/shutdown";

export interface NodeOptions {
    env?: NodeJS.ProcessEnv;
    /** Replaces the key from config (tests). */
    wallet?: Wallet;
    logger?: Logger;
    /** Skip the HTTP server (tests that run several nodes). */
    noHttp?: boolean;
}

export interface RunningNode {
    readonly address: string;
    /** The per-call RPC timeout (shutdown may wait for one call). */
    readonly rpcTimeoutMs: number;
    readonly store: Store;
    readonly metrics: NodeMetrics;
    readonly logger: Logger;
    /** URL of the health/metrics server, if started. */
    readonly httpUrl?: string;
    /** Resolves after one full loop round completes (tests). */
    nextRound(): Promise<void>;
    /** Graceful stop: finish in-flight inferences, flush state, close everything. Idempotent. */
    stop(): Promise<void>;
    /** Resolves when the node has stopped (by `stop` or a fatal error). */
    readonly stopped: Promise<void>;
}

/** Starts a node; resolves once it is ready (chain checked, models loading, loop running). */
export async function startNode(config: Config, options: NodeOptions = {}): Promise<RunningNode> {
    const logger = options.logger ?? createLogger({ level: config.log.level });
    const metrics = createMetrics();
    // First: its inference workers start at once and load their modules (onnxruntime) while the start-up below
    // talks to the chain, instead of after it. A start-up that fails closes it.
    const executor = new Executor({
        concurrency: config.inference.concurrency,
        timeoutMs: config.inference.timeoutMs,
        ...(config.inference.intraOpNumThreads > 0 ? { intraOpNumThreads: config.inference.intraOpNumThreads } : {}),
        onInference: (modelId, seconds, outcome) =>
            metrics.inferenceSeconds.observe({ model_id: modelId, outcome }, seconds),
        onPlacement: (modelId, placement, reason) =>
            logger.info(
                { model_id: modelId, placement, reason },
                placement === "inline"
                    ? "model runs on the main thread from now on (faster there than a worker hop)"
                    : "model runs in the inference workers from now on",
            ),
    });
    try {
        return await startWith(config, options, logger, metrics, executor);
    } catch (error) {
        await executor.close().catch(() => undefined);
        throw error;
    }
}

async function startWith(
    config: Config,
    options: NodeOptions,
    logger: Logger,
    metrics: NodeMetrics,
    executor: Executor,
): Promise<RunningNode> {
    const controller = new AbortController();
    const signal = controller.signal;
    const rounds = new Rounds({ signal, pollIntervalMs: config.chain.pollIntervalMs, minGapMs: MIN_ROUND_GAP_MS });

    const wallet = options.wallet ?? (await loadSigner(config.key, options.env ?? process.env));
    const rpc = new RpcClient({
        url: config.chain.rpcUrl,
        timeoutMs: config.chain.rpcTimeoutMs,
        retry: { signal },
        onError: (method, error, retryable) => {
            metrics.rpcErrors.inc({ method, retryable: String(retryable) });
            logger.debug({ method, retryable, error: describeError(error) }, "rpc call failed");
        },
        maxBatchSize: config.chain.rpcBatchSize,
        onBatchRefused: (reason) =>
            logger.warn(
                { rpc: new URL(config.chain.rpcUrl).origin, reason },
                "the RPC endpoint refuses JSON-RPC batches: every call goes alone from now on (set chain.rpcBatchSize to 1 to skip the attempt)",
            ),
    });
    const chain = new ChainClient(rpc);
    /** Start-up tries the endpoint a few times (about 2 s), then fails with a clear error. */
    const chainId = await chain.chainId(STARTUP_RPC_ATTEMPTS);
    if (chainId !== config.chain.chainId) {
        throw new PermanentError(
            "WRONG_CHAIN",
            `chain.chainId is ${config.chain.chainId} but ${config.chain.rpcUrl} serves chain ${chainId}`,
        );
    }

    const dataDir = resolve(config.storage.dataDir);
    const store = new Store(join(dataDir, "node.sqlite"), {
        chainId,
        coordinator: config.chain.coordinator,
        operator: wallet.address,
    });
    const coordinator = new CoordinatorClient(chain, config.chain.coordinator);
    // A chain that mines only for transactions (a development chain) has no block for minutes when idle: normal there.
    const automine = await chainAutomines((method, params) => rpc.send(method, params));
    let head = { number: 0, timestamp: 0 };
    // When the head block was first seen: on a chain that mines only for transactions (a development chain) the head
    // may stay put for minutes while time goes on.
    let headSeenAtMs = Date.now();
    let idleNoticeFor = -1;
    // Start-up just talked to the chain (chain id, nonce, models): that counts as the first contact.
    let lastPollOkMs = Date.now();

    // Each transaction's end goes to the role that sent it (by kind); the node counts it.
    const routes = new Map<TxKind, TxOutcomes>();
    const txEvents = {
        onMined: (tx: StoredTx, receipt: TransactionReceipt) => {
            routes.get(tx.kind)?.mined(tx, receipt);
            metrics.transactions.inc({ kind: tx.kind, outcome: receipt.status === 1 ? "mined" : "reverted" });
        },
        onDropped: (tx: StoredTx, reason: string) => {
            routes.get(tx.kind)?.dropped(tx, reason);
            metrics.transactions.inc({ kind: tx.kind, outcome: "replaced" });
            // The transaction sender has said why at warn level already.
            logger.debug({ request_ids: tx.requestIds, reason }, "transaction dropped; its rows go back a step");
        },
        onRefused: (tx: StoredTx, reason: string) => {
            routes.get(tx.kind)?.refused(tx, reason);
            metrics.transactions.inc({ kind: tx.kind, outcome: "replaced" });
        },
    };
    const tx = new TxSender(
        chain,
        store,
        wallet,
        {
            chainId,
            stuckAfterMs: config.transactions.stuckAfterMs,
            feeBumpPercent: config.transactions.feeBumpPercent,
            maxFeePerGasWei: parseUnits(String(config.transactions.maxFeePerGasGwei), "gwei"),
            notYet: (data) => {
                const { name } = decodeRevert(data);
                return NOT_YET_REVERTS.has(name) ? name : undefined;
            },
            // A chain that mines each transaction on arrival checks its nonce there and then, and Hardhat answers a
            // batch's calls concurrently, out of order: there the broadcasts go one by one.
            broadcastTogether: () => rpc.batching && !automine,
        },
        txEvents,
        logger.child({ component: "tx" }),
    );
    await tx.init();

    const servedModels = new Set<string>();
    const models = createModelCatalogue({
        config,
        logger,
        coordinator,
        executor,
        wallet,
        served: servedModels,
        dataDir,
    });
    const ctx: NodeContext = {
        config,
        logger,
        metrics,
        signal,
        chain,
        coordinator,
        store,
        wallet,
        tx,
        executor,
        servedModels,
        modelMayLoad: (modelId) => models.mayLoad(modelId),
        // Measured on the in-process Hardhat chain (bench:node): 32 simulations of 32-item finalizeBatch at once took
        // it twice as long as one after the other. A chain that mines on arrival is a local process answering one
        // call at a time; overlapping sends there only makes it juggle them.
        sendConcurrency: automine ? 1 : SEND_CONCURRENCY,
        requestRound: () => rounds.requestRound(),
        chainTime: () => head.timestamp,
        nextBlockTime: () => head.timestamp + Math.floor(Math.max(0, Date.now() - headSeenAtMs) / 1_000),
    };

    for (const outcomes of [operatorTxOutcomes(ctx), finalizerTxOutcomes(ctx), challengerTxOutcomes(ctx)]) {
        for (const kind of outcomes.kinds) routes.set(kind, outcomes);
    }

    // Models: fetch, verify and load each; a failure is loud and leaves the others serving.
    await models.loadAll();

    const follower = new ChainFollower(
        chain,
        store,
        {
            coordinator: config.chain.coordinator,
            topics: FOLLOWED_EVENTS.map(eventTopic),
            confirmations: config.chain.confirmations,
            startBlock: config.chain.startBlock,
            maxBlockRange: config.chain.maxBlockRange,
            keepBlocks: KEEP_BLOCKS,
            onHead: (seen) => {
                if (seen.number !== head.number) headSeenAtMs = Date.now();
                head = { number: seen.number, timestamp: seen.timestamp };
            },
        },
        createTracker({
            store,
            operator: wallet.address.toLowerCase(),
            models: models.followed,
            metrics,
            logger,
            watchResults: config.roles.challenger,
        }),
        logger.child({ component: "follower" }),
    );
    const operator = createOperatorRole(ctx);
    const finalizer = createFinalizerRole(ctx);
    const challenger = createChallengerRole(ctx);

    // The checkpoint advances range by range during a long scan; the head is the one that scan started from.
    const processedBlock = () => store.checkpoint() ?? config.chain.startBlock - 1;
    const syncState = () => ({
        lagBlocks: Math.max(0, head.number - config.chain.confirmations - processedBlock()),
        headAgeSeconds: Math.round((Date.now() - headSeenAtMs) / 1_000),
    });
    metrics.setSyncSource(syncState);

    const server = options.noHttp
        ? undefined
        : await startHttpServer({
              host: config.server.host,
              port: config.server.port,
              metrics,
              logger,
              health: () =>
                  healthReport({
                      config,
                      models,
                      automine,
                      lastPollOkMs: () => lastPollOkMs,
                      head: () => head,
                      processedBlock,
                      sync: syncState,
                      pendingTransactions: () => tx.pendingCount(),
                  }),
          });

    async function oneRound(n: number): Promise<void> {
        // Each step on its own: a fault in one (an RPC error the retries did not cure) must not keep the
        // others from running; the transaction sender and the roles work from the last known head.
        const step = async (name: string, fn: () => Promise<void>): Promise<void> => {
            try {
                await fn();
            } catch (error) {
                if (!signal.aborted)
                    logger.warn({ step: name, error: describeError(error) }, "step failed; retrying next round");
            }
        };
        await step("follow", async () => {
            const polled = await follower.poll();
            const waiting = polled.head.number - polled.processed;
            if (waiting > 0 && Date.now() - headSeenAtMs >= HEAD_IDLE_NOTICE_MS && idleNoticeFor !== head.number) {
                idleNoticeFor = head.number;
                logger.info(
                    {
                        head: head.number,
                        processed: polled.processed,
                        confirmations: config.chain.confirmations,
                        idle_s: Math.round((Date.now() - headSeenAtMs) / 1_000),
                    },
                    `no new block for ${Math.round((Date.now() - headSeenAtMs) / 1_000)} s: events in the last ${waiting} block${waiting === 1 ? "" : "s"} wait for ${config.chain.confirmations} confirmation${config.chain.confirmations === 1 ? "" : "s"} (a chain that mines only for transactions needs chain.confirmations 0)`,
                );
            }
            lastPollOkMs = Date.now();
            metrics.chainHeadBlock.set(polled.head.number);
            metrics.processedBlock.set(polled.processed);
        });
        // The rest works from what the follower stored, on requests in different states (the transaction
        // sender's, each role's own), so it runs at once: a slow endpoint's round trips overlap instead of adding
        // up, and with batching, calls made together share one.
        // The challenger's rows move with its own transactions' receipts, so it waits for the sender's checks;
        // the operator and finalizer act only on requests no transaction holds.
        await Promise.all([
            (async () => {
                await step("transactions", () => tx.tick());
                if (config.roles.challenger) await step("challenger", () => challenger.tick());
            })(),
            config.roles.operator ? step("operator", () => operator.tick()) : undefined,
            config.roles.finalizer ? step("finalizer", () => finalizer.tick()) : undefined,
        ]);
        metrics.pendingTransactions.set(tx.pendingCount());
        metrics.inflightInferences.set(operator.inflight() + challenger.inflight());
        if (n % STAKE_REFRESH_ROUNDS === 0) await step("stake", refreshStakeGauges);
        if (models.hasFailures) await step("models", () => models.loadAll());
    }

    async function refreshStakeGauges(): Promise<void> {
        const stake = await coordinator.stakeOf(wallet.address);
        metrics.operatorStakeWei.set(Number(stake.stakedWei));
        metrics.operatorFreeStakeWei.set(Number(stake.freeWei));
        metrics.operatorLockedCollateralWei.set(Number(stake.lockedWei));
        metrics.operatorBalanceWei.set(Number(await coordinator.balanceOf(wallet.address)));
    }

    logger.info(
        {
            chain_id: chainId,
            coordinator: config.chain.coordinator,
            operator: wallet.address,
            roles: config.roles,
            ...(config.roles.challenger
                ? {
                      challenger_max_bond_wei: config.challenger.maxBondWei ?? null,
                      challenger_withdraw_min_wei: config.challenger.withdrawMinWei,
                  }
                : {}),
            ...(config.roles.operator ? { operator_economics: config.operator.economics ?? null } : {}),
            models: [...ctx.servedModels],
            checkpoint: store.checkpoint() ?? null,
            http: server?.url ?? null,
        },
        "node started",
    );
    if (config.chain.confirmations > 0 && automine) {
        logger.warn(
            { confirmations: config.chain.confirmations },
            `this chain mines a block only when a transaction arrives: every event waits until ${config.chain.confirmations} ` +
                "more transactions are mined; set chain.confirmations to 0 for such a development chain " +
                "(`verity config init` does)",
        );
    }
    if (config.roles.operator && config.operator.economics === undefined) {
        logger.warn(
            "operator.economics is not set: every request is served, whatever its gas costs this node beyond its fee " +
                "(set operator.economics.tokenWeiPerNativeWei to decline unprofitable requests; see docs/node.md)",
        );
    }
    const running = rounds.run(oneRound);
    let stopping: Promise<void> | undefined;

    async function stop(): Promise<void> {
        stopping ??= (async () => {
            logger.info("shutting down: finishing in-flight inferences");
            controller.abort(new Error("shutdown"));
            await running;
            await drainAndClose([operator.drain(), challenger.drain()], executor, logger);
            await server?.close();
            store.close();
            logger.info("stopped");
        })();
        return stopping;
    }

    return {
        address: wallet.address,
        rpcTimeoutMs: config.chain.rpcTimeoutMs,
        store,
        metrics,
        logger,
        ...(server ? { httpUrl: server.url } : {}),
        nextRound: () => rounds.nextRound(),
        stop,
        stopped: running.then(() => stopping ?? Promise.resolve()),
    };
}
