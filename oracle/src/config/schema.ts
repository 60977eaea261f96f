/**
 * The node's configuration: what an operator writes in verity.config.json (see
 * oracle/verity.config.example.json), validated once at start-up into a typed object.
 */
import { z } from "zod";
import { isAddress } from "ethers";

const address = z.string().refine((v) => isAddress(v), { message: "must be a 0x-prefixed 20-byte address" });
const bytes32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, { message: "must be a 0x-prefixed 32-byte hex string" });
const envVarName = z.string().regex(/^[A-Z_][A-Z0-9_]*$/, { message: "must be an environment variable name" });
const rpcUrl = z.string().refine(
    (v) => {
        try {
            return ["http:", "https:"].includes(new URL(v).protocol);
        } catch {
            return false;
        }
    },
    { message: "must be an http(s) URL (WebSocket endpoints are not supported)" },
);

/** A wei amount: a decimal string (amounts beyond 2^53 do not fit a JSON number) or a safe integer; kept as a string. */
const weiAmount = z
    .union([
        z.string().regex(/^(0|[1-9][0-9]{0,77})$/, { message: "must be a decimal integer string (wei)" }),
        z
            .number()
            .int()
            .min(0)
            .refine(Number.isSafeInteger, { message: "must be a safe integer (use a decimal string beyond 2^53)" }),
    ])
    .transform((v) => String(v));

/**
 * A positive exact decimal, e.g. "3000" or "0.000000003": a decimal string (exact), or a JSON number written
 * without an exponent. Kept as the decimal string.
 */
const POSITIVE_DECIMAL = 'must be a positive decimal number, as a string for exactness (e.g. "3000" or "0.000000003")';
const positiveDecimal = z
    .union([z.string(), z.number()], { error: POSITIVE_DECIMAL })
    .transform((v) => String(v))
    .refine((v) => /^(0|[1-9][0-9]{0,35})(\.[0-9]{1,36})?$/.test(v) && /[1-9]/.test(v), {
        message: POSITIVE_DECIMAL,
    });

/** An integer in [min, max]; any other value is refused with one message that says the range and what it counts. */
function intIn(min: number, max: number, what: string) {
    const error = `must be an integer from ${min} to ${max} (${what})`;
    return z.number({ error }).int({ error }).min(min, { error }).max(max, { error });
}

/** Default `operator.economics.minMarginBps`: serve only requests that pay at least 10% more than they cost. */
export const MIN_MARGIN_BPS_DEFAULT = 1_000;
/**
 * Default `operator.economics.overheadGas`: the gas of submitting and finalizing one result besides the consumer's
 * callback. bench/results/gas.json measures about 60,500 for a submit and 55,000 for a finalize without the callback
 * (one small output, unbatched); this leaves headroom for larger outputs (each output byte costs about 40 gas more:
 * calldata twice, and the submission's log).
 */
export const OVERHEAD_GAS_DEFAULT = 150_000;

/** Default `challenger.withdrawMinWei`: 1 token of an 18-decimals stake token. */
export const WITHDRAW_MIN_WEI_DEFAULT = "1000000000000000000";

export const ConfigSchema = z
    .object({
        chain: z
            .object({
                /** JSON-RPC endpoint of any EVM chain. */
                rpcUrl,
                /** Expected chain id; the node refuses to start against another chain. */
                chainId: z.number().int().positive(),
                /** InferenceCoordinator address. */
                coordinator: address,
                /** Blocks to wait before acting on an event (reorg safety). */
                confirmations: z.number().int().min(0).max(128).default(2),
                /** How often to poll for new blocks. */
                pollIntervalMs: z.number().int().min(100).max(60_000).default(2_000),
                /** First block to scan when there is no checkpoint yet. */
                startBlock: z.number().int().min(0).default(0),
                /** Most blocks per eth_getLogs call (providers cap the range). */
                maxBlockRange: z.number().int().min(1).max(100_000).default(2_000),
                /** Per-call JSON-RPC timeout. */
                rpcTimeoutMs: z.number().int().min(100).max(120_000).default(15_000),
                /**
                 * Most JSON-RPC calls sent together as one batch (one HTTP round trip); 1 sends each call alone. An
                 * endpoint that refuses batches is detected and then served call by call.
                 */
                rpcBatchSize: z.number().int().min(1).max(1_000).default(50),
            })
            .strict(),
        /** Where the signing key comes from. The key itself never appears in this file. */
        key: z.discriminatedUnion("source", [
            z.object({ source: z.literal("env"), envVar: envVarName.default("VERITY_PRIVATE_KEY") }).strict(),
            z
                .object({
                    source: z.literal("keystore"),
                    /** Encrypted JSON keystore (geth/ethers format). */
                    path: z.string().min(1),
                    passwordEnvVar: envVarName.default("VERITY_KEYSTORE_PASSWORD"),
                })
                .strict(),
        ]),
        roles: z
            .object({
                operator: z.boolean().default(true),
                challenger: z.boolean().default(false),
                finalizer: z.boolean().default(true),
            })
            .strict()
            .prefault({}),
        /** The challenger role (`roles.challenger`): disputes wrong results of REEXECUTION models. */
        challenger: z
            .object({
                /**
                 * Most bond wei at risk at once (challenges sent and not decided yet); a dispute whose bond alone is
                 * larger is skipped. Also the allowance the coordinator gets on the stake token. Required with
                 * `roles.challenger`: it is money the node spends on its own.
                 */
                maxBondWei: weiAmount.refine((v) => BigInt(v) > 0n, { message: "must be positive" }).optional(),
                /**
                 * The key's whole coordinator balance (bonds back, rewards, and the operator fees of a key that also
                 * operates) is withdrawn to its wallet once it reaches this. Default 1 token (10^18 base units of an
                 * 18-decimals stake token), so that gas is not spent withdrawing dust every few rounds.
                 */
                withdrawMinWei: weiAmount.default(WITHDRAW_MIN_WEI_DEFAULT),
            })
            .strict()
            .prefault({}),
        /** The operator role (`roles.operator`). */
        operator: z
            .object({
                /**
                 * The worth check: before serving a request, the node prices what serving it costs (the gas of the
                 * submission and of the finalization, the consumer's callback gas included, at the current gas price)
                 * in stake tokens and declines the request if its fee (less the protocol's share) does not cover that
                 * cost plus `minMarginBps`. Absent: no check, every request is served (the node warns at start-up).
                 */
                economics: z
                    .object({
                        /**
                         * What one wei of the chain's native coin is worth in stake-token base units: the native
                         * coin's price over the stake token's, times 10^(token decimals - 18). E.g. ETH at 3,000 and
                         * an 18-decimals token at 1: "3000"; a 6-decimals token at 1: "0.000000003".
                         */
                        tokenWeiPerNativeWei: positiveDecimal,
                        /** Least margin over the cost, in basis points of it (1,000 = the fee must be 110% of cost). */
                        minMarginBps: intIn(0, 100_000, "basis points of the cost: 1000 asks for 10% over it").default(
                            MIN_MARGIN_BPS_DEFAULT,
                        ),
                        /** Gas of submitting and finalizing one result, the consumer's callback excluded. */
                        overheadGas: intIn(
                            42_000,
                            30_000_000,
                            "gas of one submission and one finalization, the callback excluded",
                        ).default(OVERHEAD_GAS_DEFAULT),
                    })
                    .strict()
                    .optional(),
            })
            .strict()
            .prefault({}),
        /** Models this node serves or watches. The registry gives hash and URI; `uri` overrides where to fetch. */
        models: z
            .array(z.object({ modelId: bytes32, uri: z.string().min(1).optional() }).strict())
            .min(1, { message: "must list at least one model" }),
        storage: z
            .object({
                /** Database, checkpoint and model cache live here. */
                dataDir: z.string().min(1).default("./.verity"),
                /** Content-addressed model cache (`<keccak256>.onnx`); default `<dataDir>/models`. */
                modelCacheDir: z.string().min(1).optional(),
            })
            .strict()
            .prefault({}),
        inference: z
            .object({
                /** Inferences run at once. */
                concurrency: z.number().int().min(1).max(64).default(2),
                /** A model run slower than this is declined (never asserted as an error on-chain). */
                timeoutMs: z.number().int().min(100).max(600_000).default(30_000),
                /** onnxruntime intra-op threads per session (0: onnxruntime's default, one per core). */
                intraOpNumThreads: z.number().int().min(0).max(256).default(0),
            })
            .strict()
            .prefault({}),
        batching: z
            .object({
                enabled: z.boolean().default(false),
                /** Results per batch transaction. */
                maxSize: z.number().int().min(1).max(64).default(8),
                /** Longest a result waits for its batch to fill. */
                maxWaitMs: z.number().int().min(0).max(600_000).default(2_000),
            })
            .strict()
            .prefault({}),
        transactions: z
            .object({
                /** A transaction not mined after this long is replaced with higher fees. */
                stuckAfterMs: z.number().int().min(1_000).max(3_600_000).default(60_000),
                /** Fee increase per replacement; nodes require at least 10% to accept a replacement. */
                feeBumpPercent: z.number().int().min(10).max(500).default(20),
                /** Hard cap on maxFeePerGas, in gwei (fee bumps stop here). */
                maxFeePerGasGwei: z.number().positive().max(1_000_000).default(500),
            })
            .strict()
            .prefault({}),
        server: z
            .object({
                /** Interface for /healthz and /metrics. */
                host: z.string().min(1).default("127.0.0.1"),
                port: z.number().int().min(0).max(65_535).default(9464),
            })
            .strict()
            .prefault({}),
        /** When `/healthz` reports the node `degraded` because it is not keeping up with the chain. */
        health: z
            .object({
                /** Most blocks the processed block may trail the head by, beyond `chain.confirmations`. */
                maxLagBlocks: z.number().int().min(1).max(1_000_000).default(20),
                /**
                 * Longest time without a new block (not checked on a chain that mines only for transactions):
                 * a halted chain, or an RPC endpoint stuck on an old head.
                 */
                maxHeadAgeSeconds: z.number().int().min(1).max(86_400).default(60),
            })
            .strict()
            .prefault({}),
        log: z
            .object({ level: z.enum(["fatal", "error", "warn", "info", "debug", "trace"]).default("info") })
            .strict()
            .prefault({}),
    })
    .strict()
    .superRefine((config, ctx) => {
        if (config.roles.challenger && config.challenger.maxBondWei === undefined) {
            ctx.addIssue({
                code: "custom",
                path: ["challenger", "maxBondWei"],
                message:
                    "is required when roles.challenger is true (the most bond wei the challenger may risk at once)",
            });
        }
    });

/** A validated configuration, defaults applied. */
export type Config = z.infer<typeof ConfigSchema>;
