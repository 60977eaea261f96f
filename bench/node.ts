/**
 * Operator-node benchmark: inference overhead of the node's Executor, and requests settled per second end to end
 * on the in-process hardhat chain.
 *
 * Writes bench/results/node.json and bench/results/node.md.
 *
 * (a) Executor vs bare onnxruntime. For the compute-heavy float model (`heavyFloatModel()` defaults) and the tiny
 *     integer model, runs/s of `Executor.run` (wire bytes in: decode, run, encode, hash; concurrency 2, the node's
 *     default, and 1; IN_FLIGHT runs kept in flight so it never idles) divided by runs/s of a sequential
 *     `await session.run(feeds)` loop on a bare onnxruntime-node session of the same model, fed the equivalent
 *     tensors, in the same process. A fourth loop runs the executor's per-run work without the executor
 *     (`executeModel`, sequential): its share of the bare loop is what decoding, checking, encoding and hashing
 *     leave of it, whatever the executor does. After a warm-up, ROUNDS rounds each measure all four in a rotating
 *     order; each round's ratio pairs measurements taken seconds apart, and the median over rounds is reported,
 *     against the model's target (TARGET_RATIOS). Each executor's placement of the model at the end (inline on the main thread
 *     or in the workers, see executor.ts) and how often it moved are reported too.
 * (b) End to end. Per scenario (batching off / on at maxSize 32, maxWaitMs 200; 100 / 1,000 requests of the tiny
 *     model; an RPC endpoint answering at once, or after 200 ms or 1 s per HTTP request): a fresh deployment, all
 *     requests queued from a RecordingConsumer while no node runs, then a node started in-process (startNode)
 *     against the chain served over HTTP, through a proxy that holds each HTTP request for the scenario's latency. Submit phase: from startNode until the
 *     node's store counts every request `submitted`. Then the challenge window is passed (evm_increaseTime +
 *     evm_mine) and the finalize phase runs until the consumer has received every callback. RSS is sampled every
 *     RSS_SAMPLE_MS during the node's run.
 *
 * Run: npm run bench:node   (hardhat run bench/node.ts)
 *
 * Environment (bench/options.ts):
 * - VERITY_BENCH_OUT=<dir>: write node.json and node.md to <dir> (created if missing) instead of bench/results/.
 * - VERITY_BENCH_QUICK=1: a smoke run of seconds rather than minutes (QUICK_SCOPE): in (a) both models, but 2 rounds
 *   of short measurements (at least 20 runs each) after a 0.2 s warm-up; in (b) 4 requests with batching off and on,
 *   and with batching off at 50 ms latency; no 1,000-request scenario. The figures are too short to mean anything; the results say "quick". Refused without
 *   VERITY_BENCH_OUT.
 */
import hre, { ethers } from "hardhat";
import * as ort from "onnxruntime-node";
import { createHash } from "node:crypto";
import { cpus, loadavg, totalmem } from "node:os";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type { EIP1193Provider, RequestArguments } from "hardhat/types";
import { Executor } from "../oracle/src/runtime/executor";
import { executeModel, loadModel, type LoadedModel } from "../oracle/src/runtime/inference";
import { startNode, type RunningNode } from "../oracle/src/node";
import { silentLogger } from "../oracle/src/internal/logger";
import { DType, encodeTensors } from "../oracle/src/protocol/tensorCodec";
import { heavyFloatModel, seededRandom, tinyIntegerModel, type ExampleModel } from "../models/examples";
import {
    deployForNode,
    hardhatWallet,
    nodeConfig,
    passChallengeWindow,
    request,
    startRpcServer,
} from "../test/e2e/harness";
import { TOKEN } from "../test/helpers/verity";
import { benchOptions, quickFields, quickLines } from "./options";

const OPTIONS = benchOptions("node");
const QUICK_SCOPE =
    "(a) 2 rounds of short measurements after a 0.2 s warm-up, (b) 4 requests with batching off and on, and off at 50 ms RPC latency; figures too short to mean anything";
/** The executor's implementation (its hash says which one was measured). */
const EXECUTOR_SOURCES = ["executor", "executorProtocol", "executorWorker", "inference", "inlineRuns", "placement"].map(
    (name) => join(__dirname, "..", "oracle", "src", "runtime", `${name}.ts`),
);

// ---- (a) executor ----
/**
 * Measurement rounds per model (each measures bare, executor c=2 and executor c=1 once). Many short rounds rather
 * than a few long ones: a burst of load from another process then hits the three measurements of a round alike.
 */
const ROUNDS = OPTIONS.quick ? 2 : 12;
/** Target length of one measurement; the run count is calibrated from the warm-up. */
const SAMPLE_SECONDS = OPTIONS.quick ? ({ heavy: 0.02, tiny: 0.02 } as const) : ({ heavy: 0.6, tiny: 0.5 } as const);
/** Bare-loop warm-up used to calibrate the run count. */
const WARMUP_SECONDS = OPTIONS.quick ? 0.2 : 1.5;
/** Executor runs kept in flight during a measurement (several per concurrency slot, so it never idles). */
const IN_FLIGHT = 16;
/** Ratio targets: the heavy model loses little to the executor; the tiny one (issue 12) no more than a fifth. */
const TARGET_RATIOS = { heavy: 0.95, tiny: 0.8 } as const;

// ---- (b) end to end ----
const OPERATOR = hardhatWallet(3); // deployCore's first operator
/**
 * One end-to-end run: transaction batching, requests queued, the latency the proxy adds to every HTTP request, and
 * how the chain mines while the node runs: `auto`, a block per transaction (Hardhat's default), or `interval`, a
 * block every INTERVAL_MINING_MS whatever arrives, like a real chain (a remote endpoint is one; its pool keeps a
 * nonce that arrives ahead of its predecessor, which an automining chain refuses).
 */
interface Scenario {
    batching: boolean;
    requests: number;
    latencyMs: number;
    mining: "auto" | "interval";
}
const INTERVAL_MINING_MS = 1_000;
const SCENARIOS: readonly Scenario[] = OPTIONS.quick
    ? [
          { batching: false, requests: 4, latencyMs: 0, mining: "auto" },
          { batching: true, requests: 4, latencyMs: 0, mining: "auto" },
          { batching: false, requests: 4, latencyMs: 0, mining: "interval" },
          { batching: false, requests: 4, latencyMs: 50, mining: "interval" },
      ]
    : [
          { batching: false, requests: 100, latencyMs: 0, mining: "auto" },
          { batching: true, requests: 100, latencyMs: 0, mining: "auto" },
          { batching: false, requests: 1_000, latencyMs: 0, mining: "auto" },
          { batching: true, requests: 1_000, latencyMs: 0, mining: "auto" },
          ...[0, 200, 1_000].flatMap((latencyMs) =>
              [false, true].map((batching) => ({ batching, requests: 100, latencyMs, mining: "interval" as const })),
          ),
      ];
/** Issue 12: at 200 ms per RPC round trip, at least this share of the settled/s reached at 0 ms. */
const LATENCY_TARGET = { latencyMs: 200, share: 0.5 } as const;
const BATCHING = { maxSize: 32, maxWaitMs: 200 } as const;
const DEADLINE_IN_SECONDS = 86_400;
/**
 * Challenge window of the benchmark model (the registry's maximum). Hardhat gives every block a timestamp one
 * second past its parent when blocks come faster than one per second, so queueing and submitting 1,000 requests
 * moves chain time on by ~2,000 s: with the harness's 600 s window the first results would become final (and be
 * finalized) before the last were submitted, blurring the two phases.
 */
const WINDOW_SECONDS = 86_400;
const POLL_INTERVAL_MS = 100;
const RSS_SAMPLE_MS = 100;
/** How often the bench checks for phase completion (finer than the node's poll, to not round phases up). */
const CHECK_MS = 20;
const PHASE_TIMEOUT_MS = 300_000;

const MIB = 1024 * 1024;

// ---------------------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------------------

function median(xs: readonly number[]): number {
    const s = [...xs].sort((a, b) => a - b);
    const mid = Math.floor(s.length / 2);
    return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function round(x: number, digits: number): number {
    const f = 10 ** digits;
    return Math.round(x * f) / f;
}

function fmt(x: number, digits = 0): string {
    return x.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A point in time with the machine's busy CPU time (all cores, from /proc/stat) and this process's CPU time. */
interface CpuMark {
    atMs: number;
    machineBusyMs: number | undefined;
    processMs: number;
}

/** /proc/stat counts in USER_HZ ticks, 100 per second on Linux. */
const PROC_STAT_TICK_MS = 10;

function cpuMark(): CpuMark {
    let machineBusyMs: number | undefined;
    try {
        const fields = readFileSync("/proc/stat", "utf8").split("\n", 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
        // user nice system idle iowait irq softirq steal: everything but idle and iowait.
        const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
        machineBusyMs = (user + nice + system + irq + softirq + steal) * PROC_STAT_TICK_MS;
    } catch {
        machineBusyMs = undefined; // not Linux
    }
    const usage = process.cpuUsage();
    return { atMs: performance.now(), machineBusyMs, processMs: (usage.user + usage.system) / 1000 };
}

/**
 * Cores' worth of CPU that other processes used between two marks (machine busy time minus this process's, per
 * second of wall time), or undefined where /proc/stat is not available. Noise indicator: the benchmark shares the
 * machine with whatever else runs.
 */
function otherCores(from: CpuMark, to: CpuMark): number | undefined {
    if (from.machineBusyMs === undefined || to.machineBusyMs === undefined) return undefined;
    const other = to.machineBusyMs - from.machineBusyMs - (to.processMs - from.processMs);
    return Math.max(0, round(other / (to.atMs - from.atMs), 2));
}

/** Polls `done` every CHECK_MS; `failed` returning a string aborts with that message. */
async function waitUntil(
    what: string,
    done: () => Promise<boolean> | boolean,
    failed: () => string | undefined = () => undefined,
): Promise<void> {
    const deadline = Date.now() + PHASE_TIMEOUT_MS;
    for (;;) {
        if (await done()) return;
        const why = failed();
        if (why !== undefined) throw new Error(`while waiting for ${what}: ${why}`);
        if (Date.now() > deadline) throw new Error(`timed out after ${PHASE_TIMEOUT_MS / 1000} s waiting for ${what}`);
        await sleep(CHECK_MS);
    }
}

// ---------------------------------------------------------------------------------------------------------------
// (a) Executor vs bare onnxruntime
// ---------------------------------------------------------------------------------------------------------------

interface Workload {
    label: string;
    description: string;
    sampleSeconds: number;
    /** Least ratio wanted. */
    targetRatio: number;
    model: ExampleModel;
    /** Canonical wire input for Executor.run. */
    input: Uint8Array;
    /** The same input as onnxruntime feeds, for the bare session. */
    feeds: Record<string, ort.Tensor>;
}

function heavyWorkload(): Workload {
    const model = heavyFloatModel();
    const spec = model.manifest.inputs[0]!;
    const out = model.manifest.outputs[0]!;
    const count = spec.shape.reduce((a, b) => a * b, 1);
    const scale = 10 ** (spec.decimals ?? 0);
    const random = seededRandom(0xbe9c_0001);
    const ints = Int32Array.from({ length: count }, () => Math.round((2 * random() - 1) * scale)); // in ±1.0
    return {
        label: "heavy float",
        description:
            `heavyFloatModel() defaults: x float32 [${spec.shape.join(", ")}] (wire int32, ${spec.decimals} decimals) ` +
            `through 8 dense 1024x1024 MatMul + Add + Relu layers to y float32 [${out.shape.join(", ")}] (wire int64)`,
        sampleSeconds: SAMPLE_SECONDS.heavy,
        targetRatio: TARGET_RATIOS.heavy,
        model,
        input: encodeTensors([{ dtype: DType.INT32, shape: [...spec.shape], data: Array.from(ints, BigInt) }]),
        feeds: {
            [spec.name]: new ort.Tensor(
                "float32",
                Float32Array.from(ints, (v) => v / scale),
                [...spec.shape],
            ),
        },
    };
}

function tinyWorkload(): Workload {
    const model = tinyIntegerModel();
    const values = [1, -2, 300, 4];
    return {
        label: "tiny int",
        description: "tinyIntegerModel(): x int32 [1, 4] → y int32 [1, 4], sum int32 [1, 1]",
        sampleSeconds: SAMPLE_SECONDS.tiny,
        targetRatio: TARGET_RATIOS.tiny,
        model,
        input: encodeTensors([{ dtype: DType.INT32, shape: [1, 4], data: values.map(BigInt) }]),
        feeds: { x: new ort.Tensor("int32", Int32Array.from(values), [1, 4]) },
    };
}

/** Sequential bare loop: runs/s over `n` runs. */
async function bareRate(session: ort.InferenceSession, feeds: Record<string, ort.Tensor>, n: number): Promise<number> {
    const start = performance.now();
    for (let i = 0; i < n; i++) await session.run(feeds);
    return (n * 1000) / (performance.now() - start);
}

/**
 * Sequential loop of the executor's per-run work without the executor (inference.ts `executeModel` on the bench's
 * thread: decode and check the wire input, run, check, encode and hash the output): runs/s over `n` runs. The
 * most an executor running one model at a time on one thread can reach.
 */
async function workRate(model: LoadedModel, input: Uint8Array, n: number): Promise<number> {
    const start = performance.now();
    for (let i = 0; i < n; i++) {
        const outcome = await executeModel(model, input, 60_000);
        if (outcome.kind !== "result" || outcome.resultCode !== 0)
            throw new Error(`work loop: ${JSON.stringify(outcome)}`);
    }
    return (n * 1000) / (performance.now() - start);
}

/** `n` executor runs with IN_FLIGHT kept in flight: runs/s. Every run must return OK (no fast failures). */
async function executorRate(executor: Executor, input: Uint8Array, n: number): Promise<number> {
    let issued = 0;
    const lane = async (): Promise<void> => {
        while (issued < n) {
            issued++;
            const result = await executor.run("m", input);
            if (result.resultCode !== 0) {
                throw new Error(`executor returned result code ${result.resultCode}: ${result.reason ?? ""}`);
            }
        }
    };
    const start = performance.now();
    await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, n) }, lane));
    return (n * 1000) / (performance.now() - start);
}

export interface ExecutorResult {
    model: string;
    description: string;
    runsPerSample: number;
    bareRunsPerSec: number;
    /** The executor's per-run work in a sequential loop without the executor (`workRate`). */
    workRunsPerSec: number;
    /** Median over rounds of (work-only runs/s ÷ bare runs/s): the share of the bare loop that work leaves. */
    workRatio: number;
    executorC2RunsPerSec: number;
    executorC1RunsPerSec: number;
    /** Median over rounds of (executor runs/s ÷ bare runs/s of the same round). */
    ratioC2: number;
    ratioC1: number;
    ratioC2Rounds: number[];
    ratioC1Rounds: number[];
    /** Cores' worth of CPU other processes used during the measured rounds (mean, and per round). */
    otherCores: number | undefined;
    otherCoresRounds: (number | undefined)[];
    targetRatio: number;
    targetMetC2: boolean;
    targetMetC1: boolean;
    /** Where each executor ran the model at the end ("inline" or "worker"), and how many times it moved. */
    placementC2: string;
    placementC1: string;
    placementMovesC2: number;
    placementMovesC1: number;
}

async function benchExecutor(w: Workload): Promise<ExecutorResult> {
    const bare = await ort.InferenceSession.create(w.model.onnx);
    const work = await loadModel("m", w.model.onnx, w.model.manifest, undefined);
    const moves = { c2: 0, c1: 0 };
    const executors = {
        c2: new Executor({ concurrency: 2, timeoutMs: 60_000, onPlacement: () => moves.c2++ }),
        c1: new Executor({ concurrency: 1, timeoutMs: 60_000, onPlacement: () => moves.c1++ }),
    };
    try {
        for (const executor of Object.values(executors)) await executor.load("m", w.model.onnx, w.model.manifest);

        // Warm-up, and calibrate the run count so one measurement takes about `sampleSeconds`.
        let warm = 0;
        const warmStart = performance.now();
        while (performance.now() - warmStart < WARMUP_SECONDS * 1000) {
            await bare.run(w.feeds);
            warm++;
        }
        const warmRate = (warm * 1000) / (performance.now() - warmStart);
        const n = Math.max(20, Math.round(warmRate * w.sampleSeconds));
        for (const executor of Object.values(executors)) await executorRate(executor, w.input, Math.ceil(n / 4));

        const kinds = ["bare", "work", "c2", "c1"] as const;
        const rates: Record<(typeof kinds)[number], number[]> = { bare: [], work: [], c2: [], c1: [] };
        const otherRounds: (number | undefined)[] = [];
        const first = cpuMark();
        for (let r = 0; r < ROUNDS; r++) {
            const roundStart = cpuMark();
            // Rotate the order so none of the four always runs first (or right after the same one).
            for (let k = 0; k < kinds.length; k++) {
                const kind = kinds[(k + r) % kinds.length]!;
                const rate =
                    kind === "bare"
                        ? await bareRate(bare, w.feeds, n)
                        : kind === "work"
                          ? await workRate(work, w.input, n)
                          : await executorRate(executors[kind], w.input, n);
                rates[kind].push(rate);
            }
            const other = otherCores(roundStart, cpuMark());
            otherRounds.push(other);
            console.log(
                `  ${w.label} round ${r + 1}/${ROUNDS}: bare ${fmt(rates.bare[r]!, 1)}/s, work only ${fmt(rates.work[r]!, 1)}/s, executor c=2 ${fmt(rates.c2[r]!, 1)}/s, ` +
                    `c=1 ${fmt(rates.c1[r]!, 1)}/s (other processes: ${other === undefined ? "?" : fmt(other, 2)} cores)`,
            );
        }
        const otherAll = otherCores(first, cpuMark());
        const ratios = (kind: "work" | "c2" | "c1") => rates[kind].map((rate, i) => rate / rates.bare[i]!);
        const ratioC2 = median(ratios("c2"));
        const ratioC1 = median(ratios("c1"));
        return {
            model: w.label,
            description: w.description,
            runsPerSample: n,
            bareRunsPerSec: round(median(rates.bare), 1),
            workRunsPerSec: round(median(rates.work), 1),
            workRatio: round(median(ratios("work")), 3),
            executorC2RunsPerSec: round(median(rates.c2), 1),
            executorC1RunsPerSec: round(median(rates.c1), 1),
            ratioC2: round(ratioC2, 3),
            ratioC1: round(ratioC1, 3),
            ratioC2Rounds: ratios("c2").map((x) => round(x, 3)),
            ratioC1Rounds: ratios("c1").map((x) => round(x, 3)),
            otherCores: otherAll,
            otherCoresRounds: otherRounds,
            targetRatio: w.targetRatio,
            targetMetC2: ratioC2 >= w.targetRatio,
            targetMetC1: ratioC1 >= w.targetRatio,
            placementC2: executors.c2.placement("m") ?? "?",
            placementC1: executors.c1.placement("m") ?? "?",
            placementMovesC2: moves.c2,
            placementMovesC1: moves.c1,
        };
    } finally {
        await Promise.allSettled([executors.c2.close(), executors.c1.close()]);
        await Promise.allSettled([bare.release(), work.session.release()]);
    }
}

// ---------------------------------------------------------------------------------------------------------------
// (b) End to end
// ---------------------------------------------------------------------------------------------------------------

/** The in-process hardhat network served over HTTP, counting the JSON-RPC calls it answers and their time. */
interface CountingRpcServer {
    url: string;
    reset(): void;
    snapshot(): {
        calls: Record<string, number>;
        totalCalls: number;
        busyMs: number;
        busyMsByMethod: Record<string, number>;
    };
    close(): Promise<void>;
}

async function startCountingRpcServer(): Promise<CountingRpcServer> {
    const inner = hre.network.provider;
    let calls: Record<string, number> = {};
    let busyMsByMethod: Record<string, number> = {};
    const request = async (args: RequestArguments): Promise<unknown> => {
        calls[args.method] = (calls[args.method] ?? 0) + 1;
        const start = performance.now();
        try {
            return await inner.request(args);
        } finally {
            busyMsByMethod[args.method] = (busyMsByMethod[args.method] ?? 0) + performance.now() - start;
        }
    };
    const provider = new Proxy(inner, {
        get(target, prop) {
            if (prop === "request") return request;
            const value: unknown = Reflect.get(target, prop, target);
            return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        },
    }) as EIP1193Provider;
    const server = await startRpcServer(provider);
    return {
        url: server.url,
        reset() {
            calls = {};
            busyMsByMethod = {};
        },
        snapshot() {
            const sum = (xs: Record<string, number>): number => Object.values(xs).reduce((a, b) => a + b, 0);
            return {
                calls: { ...calls },
                totalCalls: sum(calls),
                busyMs: sum(busyMsByMethod),
                busyMsByMethod: { ...busyMsByMethod },
            };
        },
        close: () => server.close(),
    };
}

/**
 * An HTTP proxy in front of `target` that holds every request for `latencyMs()` before forwarding it: an endpoint
 * a round trip away (a JSON-RPC batch is one request, so it pays the latency once). Counts the round trips.
 */
interface LatencyProxy {
    url: string;
    latencyMs: number;
    roundTrips: number;
    close(): Promise<void>;
}

async function startLatencyProxy(target: string): Promise<LatencyProxy> {
    const server = createServer((req, res) => {
        void (async () => {
            const chunks: Buffer[] = [];
            for await (const chunk of req) chunks.push(chunk as Buffer);
            proxy.roundTrips++;
            if (proxy.latencyMs > 0) await sleep(proxy.latencyMs);
            const answer = await fetch(target, {
                method: "POST",
                headers: { "content-type": "application/json" },
                body: Buffer.concat(chunks),
            });
            const text = await answer.text();
            res.writeHead(answer.status, { "content-type": "application/json" }).end(text);
        })().catch(() => req.socket.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const proxy: LatencyProxy = {
        url: `http://127.0.0.1:${port}`,
        latencyMs: 0,
        roundTrips: 0,
        close: () =>
            new Promise((resolve) => {
                server.closeAllConnections();
                server.close(() => resolve());
            }),
    };
    return proxy;
}

/** Samples RSS every RSS_SAMPLE_MS from now until stop(). */
function startRssSampler(): { baseline: number; stop(): number } {
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const timer = setInterval(() => {
        peak = Math.max(peak, process.memoryUsage().rss);
    }, RSS_SAMPLE_MS);
    return {
        baseline,
        stop() {
            clearInterval(timer);
            peak = Math.max(peak, process.memoryUsage().rss);
            return peak;
        },
    };
}

export interface E2EResult {
    batching: boolean;
    requests: number;
    /** What the proxy added to every HTTP request to the chain. */
    rpcLatencyMs: number;
    mining: Scenario["mining"];
    /** HTTP requests the node made (a JSON-RPC batch is one). */
    rpcRoundTrips: number;
    queueSeconds: number;
    startupSeconds: number;
    submitSeconds: number;
    finalizeSeconds: number;
    submitPerSec: number;
    finalizePerSec: number;
    settledPerSec: number;
    /** requests ÷ (submit s − start-up s + finalize s): the rate once the node runs, which start-up does not blur. */
    servedPerSec: number;
    /** Transactions the operator sent (nonce difference), in all and per phase. */
    operatorTransactions: number;
    submitTransactions: number;
    finalizeTransactions: number;
    /** Main-loop rounds the node completed in each phase. */
    submitRounds: number;
    finalizeRounds: number;
    rpcCalls: number;
    rpcCallsByMethod: Record<string, number>;
    /** Milliseconds hardhat spent answering each method (the node's calls only). */
    rpcMsByMethod: Record<string, number>;
    /** Share of the node's run spent inside the in-process hardhat provider answering the node's RPC calls. */
    chainBusyShare: number;
    /** Cores' worth of CPU other processes used while the node ran. */
    otherCores: number | undefined;
    rssBeforeStartMiB: number;
    peakRssMiB: number;
    peakRssDeltaMiB: number;
}

async function benchEndToEnd(rpc: CountingRpcServer, proxy: LatencyProxy, scenario: Scenario): Promise<E2EResult> {
    const n = scenario.requests;
    const label =
        `${n} requests, batching ${scenario.batching ? "on" : "off"}, RPC latency ${scenario.latencyMs} ms, ` +
        `${scenario.mining === "auto" ? "automine" : `a block every ${INTERVAL_MINING_MS} ms`}`;
    const tiny = tinyIntegerModel();
    const startBlock = await ethers.provider.getBlockNumber();
    const d = await deployForNode([tiny], { windowSeconds: WINDOW_SECONDS });
    try {
        const [modelId] = d.modelIds as [string];
        // deployForNode stakes 1,000 tokens and every submitted result locks 1 token of collateral until it is
        // finalized: top the stake up so 1,000 results in flight never run into the limit.
        const operatorSigner = d.operators[0]!;
        const extra = BigInt(n) * TOKEN;
        await d.token.mint(OPERATOR.address, extra);
        await d.token.connect(operatorSigner).approve(await d.staking.getAddress(), extra);
        await d.staking.connect(operatorSigner).stake(extra);

        const queueStart = performance.now();
        for (let i = 0; i < n; i++) {
            const input = encodeTensors([{ dtype: DType.INT32, shape: [1, 4], data: [BigInt(i), -2n, 300n, 4n] }]);
            await request(d, modelId, input, { deadlineIn: DEADLINE_IN_SECONDS });
        }
        const queueSeconds = (performance.now() - queueStart) / 1000;
        console.log(`  ${label}: queued in ${fmt(queueSeconds, 1)} s; starting the node`);

        const config = await nodeConfig(d, proxy.url, {
            chain: { startBlock, pollIntervalMs: POLL_INTERVAL_MS, confirmations: 0 },
            batching: scenario.batching ? { enabled: true, ...BATCHING } : { enabled: false },
        });
        const nonceBefore = await ethers.provider.getTransactionCount(OPERATOR.address);
        if (scenario.mining === "interval") {
            await hre.network.provider.send("evm_setAutomine", [false]);
            await hre.network.provider.send("evm_setIntervalMining", [INTERVAL_MINING_MS]);
        }
        rpc.reset();
        proxy.latencyMs = scenario.latencyMs;
        proxy.roundTrips = 0;
        const rss = startRssSampler();
        const cpuStart = cpuMark();
        const t0 = performance.now();
        let node: RunningNode | undefined;
        let rssPeak: number | undefined;
        try {
            node = await startNode(config, { wallet: OPERATOR, logger: silentLogger(), noHttp: true });
            const running = node;
            const startupSeconds = (performance.now() - t0) / 1000;
            let rounds = 0;
            let countRounds = true;
            void (async () => {
                while (countRounds) {
                    await running.nextRound();
                    rounds++;
                }
            })();
            const failures = (): string | undefined => {
                const outcomes = running.store.outcomes();
                return Object.keys(outcomes).length > 0
                    ? `the node ended requests early: ${JSON.stringify(outcomes)}`
                    : undefined;
            };
            await waitUntil(`${n} results submitted`, () => running.store.countByState().submitted === n, failures);
            const submitSeconds = (performance.now() - t0) / 1000;
            const submitRounds = rounds;
            const nonceSubmitted = await ethers.provider.getTransactionCount(OPERATOR.address);

            await passChallengeWindow(WINDOW_SECONDS + 1);
            const t1 = performance.now();
            await waitUntil(
                `${n} callbacks delivered`,
                async () => (await d.recorder.totalCallbacks()) === BigInt(n),
                () => {
                    const outcomes = running.store.outcomes();
                    const bad = Object.entries(outcomes).filter(([outcome]) => outcome !== "finalized");
                    return bad.length > 0 ? `the node ended requests early: ${JSON.stringify(outcomes)}` : undefined;
                },
            );
            const finalizeSeconds = (performance.now() - t1) / 1000;
            const nodeSeconds = (performance.now() - t0) / 1000;
            const finalizeRounds = rounds - submitRounds;
            const rpcStats = rpc.snapshot();
            const roundTrips = proxy.roundTrips;
            const other = otherCores(cpuStart, cpuMark());
            countRounds = false;
            await node.stop();
            rssPeak = rss.stop();

            const nonceAfter = await ethers.provider.getTransactionCount(OPERATOR.address);
            const result: E2EResult = {
                batching: scenario.batching,
                requests: n,
                rpcLatencyMs: scenario.latencyMs,
                mining: scenario.mining,
                rpcRoundTrips: roundTrips,
                queueSeconds: round(queueSeconds, 1),
                startupSeconds: round(startupSeconds, 2),
                submitSeconds: round(submitSeconds, 2),
                finalizeSeconds: round(finalizeSeconds, 2),
                submitPerSec: round(n / submitSeconds, 1),
                finalizePerSec: round(n / finalizeSeconds, 1),
                settledPerSec: round(n / (submitSeconds + finalizeSeconds), 1),
                servedPerSec: round(n / (submitSeconds - startupSeconds + finalizeSeconds), 1),
                operatorTransactions: nonceAfter - nonceBefore,
                submitTransactions: nonceSubmitted - nonceBefore,
                finalizeTransactions: nonceAfter - nonceSubmitted,
                submitRounds,
                finalizeRounds,
                rpcCalls: rpcStats.totalCalls,
                rpcCallsByMethod: Object.fromEntries(Object.entries(rpcStats.calls).sort(([, a], [, b]) => b - a)),
                rpcMsByMethod: Object.fromEntries(
                    Object.entries(rpcStats.busyMsByMethod)
                        .sort(([, a], [, b]) => b - a)
                        .map(([method, ms]) => [method, Math.round(ms)]),
                ),
                chainBusyShare: round(rpcStats.busyMs / 1000 / nodeSeconds, 3),
                otherCores: other,
                rssBeforeStartMiB: round(rss.baseline / MIB, 1),
                peakRssMiB: round(rssPeak / MIB, 1),
                peakRssDeltaMiB: round((rssPeak - rss.baseline) / MIB, 1),
            };
            console.log(
                `  ${label}: submit ${fmt(submitSeconds, 2)} s, finalize ${fmt(finalizeSeconds, 2)} s, ` +
                    `${fmt(result.settledPerSec, 1)} settled/s, ${result.operatorTransactions} txs, ` +
                    `peak RSS +${fmt(result.peakRssDeltaMiB, 1)} MiB`,
            );
            return result;
        } finally {
            await node?.stop();
            if (rssPeak === undefined) rss.stop();
        }
    } finally {
        if (scenario.mining === "interval") {
            await hre.network.provider.send("evm_setIntervalMining", [0]);
            await hre.network.provider.send("evm_setAutomine", [true]);
        }
        rmSync(d.dir, { recursive: true, force: true });
    }
}

/** settled/s once running (servedPerSec) at a latency against the same batching, requests and mining at 0 ms. */
export interface LatencyComparison {
    batching: boolean;
    requests: number;
    latencyMs: number;
    mining: Scenario["mining"];
    servedPerSec: number;
    baselineServedPerSec: number;
    share: number;
    /** Set for the target latency (LATENCY_TARGET): whether the share reaches the target. */
    targetMet?: boolean;
}

function latencyComparison(results: readonly E2EResult[]): LatencyComparison[] {
    const out: LatencyComparison[] = [];
    for (const e of results) {
        if (e.rpcLatencyMs === 0) continue;
        const base = results.find(
            (b) =>
                b.rpcLatencyMs === 0 && b.batching === e.batching && b.requests === e.requests && b.mining === e.mining,
        );
        if (base === undefined) continue;
        const share = round(e.servedPerSec / base.servedPerSec, 2);
        out.push({
            batching: e.batching,
            requests: e.requests,
            latencyMs: e.rpcLatencyMs,
            mining: e.mining,
            servedPerSec: e.servedPerSec,
            baselineServedPerSec: base.servedPerSec,
            share,
            ...(e.rpcLatencyMs === LATENCY_TARGET.latencyMs ? { targetMet: share >= LATENCY_TARGET.share } : {}),
        });
    }
    return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------------------------

interface Machine {
    cpus: number;
    cpuModel: string;
    memoryGiB: number;
    node: string;
    onnxruntime: string;
    date: string;
    /** 1-minute load average when each part started: other processes compete for the same cores. */
    loadAverage: { executor: number; endToEnd: number; end: number };
}

function miningLabel(mining: Scenario["mining"]): string {
    return mining === "auto" ? "auto" : `${INTERVAL_MINING_MS / 1000} s`;
}

function markdown(result: {
    machine: Machine;
    executor: ExecutorResult[];
    endToEnd: E2EResult[];
    latency: LatencyComparison[];
    runtimeSeconds: number;
}): string {
    const m = result.machine;
    const yes = (met: boolean): string => (met ? "yes" : "**no**");
    const load = m.loadAverage;
    const lines = [
        "# Operator node (bench/node.ts)",
        "",
        ...quickLines(OPTIONS, QUICK_SCOPE),
        `Machine: ${m.cpus} cores (${m.cpuModel}), ${m.memoryGiB} GiB RAM, Node ${m.node}, onnxruntime-node ${m.onnxruntime}. ` +
            `Date: ${m.date}. Whole benchmark: ${fmt(result.runtimeSeconds, 0)} s. Regenerate with \`npm run bench:node\`.`,
        `1-minute load average at the start of (a), of (b) and at the end: ${[load.executor, load.endToEnd, load.end].map((x) => fmt(x, 2)).join(", ")}`,
        `(the bench itself accounts for about one; the **other CPU** columns measure what other processes took from the`,
        `${m.cpus} cores: machine busy time from /proc/stat minus this process's CPU time, per second of wall time). Run under`,
        "`hardhat run`: TypeScript through ts-node, also in any worker threads the node starts, which adds to start-up",
        "time and memory compared with compiled JavaScript.",
        "",
        "## (a) Executor throughput vs bare onnxruntime",
        "",
        "- **bare runs/s**: a sequential `await session.run(feeds)` loop on an onnxruntime-node session created with",
        "  default options in the bench's own thread, fed ready-made tensors equivalent to the wire input.",
        "- **work only runs/s**: the executor's per-run work without the executor, in a sequential loop on the bench's",
        "  thread (`executeModel` of inference.ts: decode and check the wire input, run, check, encode and hash the",
        "  output); **work ÷ bare** is its share of the bare loop: the most an executor running one model at a time on",
        "  one thread can reach. For a small model the work around the run costs about as much as the run itself.",
        "- **executor c=N runs/s**: `Executor.run(modelId, wireBytes)` with `concurrency` N (2 is the node's default) and",
        `  default \`intraOpNumThreads\`, ${IN_FLIGHT} runs kept in flight; includes everything \`run\` does (decoding the wire`,
        "  input, the run wherever the executor runs it, checking, encoding and hashing the output). Every run must be OK.",
        "- **runs on**: where each executor (c=2 / c=1) ran the model at the end of the rounds, inline on the main thread",
        "  or in its worker threads (it decides from measured run times), and how many times it moved meanwhile.",
        `- **ratio**: executor runs/s ÷ bare runs/s, computed per round; the median of ${ROUNDS} rounds is reported (each`,
        "  round measures bare, work only, c=2 and c=1 once, in rotating order, for the same number of runs; warm-up",
        "  first).",
        `  Target ≥ ${TARGET_RATIOS.heavy} for the heavy model, ≥ ${TARGET_RATIOS.tiny} for the tiny one.`,
        "- **other CPU**: cores' worth of CPU other processes used during the rounds (see above); high values make the",
        "  ratios noisy.",
        "",
        "| model | bare runs/s | work only runs/s | work ÷ bare | executor c=2 runs/s | ratio c=2 | executor c=1 runs/s | ratio c=1 | target | met (c=2 / c=1) | runs on (moves) | other CPU |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | ---: |",
        ...result.executor.map(
            (e) =>
                `| ${e.model} | ${fmt(e.bareRunsPerSec, 1)} | ${fmt(e.workRunsPerSec, 1)} | ${fmt(e.workRatio, 3)} | ` +
                `${fmt(e.executorC2RunsPerSec, 1)} | ${fmt(e.ratioC2, 3)} | ` +
                `${fmt(e.executorC1RunsPerSec, 1)} | ${fmt(e.ratioC1, 3)} | ≥ ${e.targetRatio} | ` +
                `${yes(e.targetMetC2)} / ${yes(e.targetMetC1)} | ` +
                `${e.placementC2} (${e.placementMovesC2}) / ${e.placementC1} (${e.placementMovesC1}) | ` +
                `${e.otherCores === undefined ? "n/a" : fmt(e.otherCores, 2)} |`,
        ),
        "",
        "Runs/s are medians over the rounds. Per model:",
        "",
        ...result.executor.map(
            (e) =>
                `- ${e.model}: ${e.description}; ${e.runsPerSample.toLocaleString("en-US")} runs per measurement; ` +
                `per-round ratios c=2 [${e.ratioC2Rounds.join(", ")}], c=1 [${e.ratioC1Rounds.join(", ")}].`,
        ),
        "",
        "## (b) Requests settled end to end (tiny integer model, local hardhat chain)",
        "",
        "Requests are queued from a RecordingConsumer while no node runs; then a node is started in-process",
        `(\`startNode\`, poll ${POLL_INTERVAL_MS} ms, 0 confirmations, inference concurrency 2, one operator) against the`,
        "in-process hardhat chain served over HTTP, through a proxy that holds each HTTP request for the scenario's",
        "**RPC latency** before forwarding it (a JSON-RPC batch is one request). The node's RPC client batches calls",
        "made together (`chain.rpcBatchSize`, default 50). **mining**: `auto`, one block per transaction (Hardhat's",
        `default; the node then sends one transaction at a time), or \`${INTERVAL_MINING_MS / 1000} s\`, a block every`,
        `${INTERVAL_MINING_MS / 1000} s whatever arrives, like a real chain (what a remote endpoint serves), set after the requests are queued.`,
        "",
        "- **start-up s**: `startNode` until it resolved (model fetch, verification and load included).",
        "- **submit s**: from calling `startNode` until the node's store counts every request submitted on chain;",
        "  **submit/s** = requests ÷ submit s.",
        "- **finalize s**: after the challenge window is passed (`evm_increaseTime` + `evm_mine`), until the consumer has",
        "  received every callback; **finalize/s** = requests ÷ finalize s.",
        "- **settled/s** = requests ÷ (submit s + finalize s); **settled/s running** = requests ÷ (submit s − start-up s +",
        "  finalize s), the rate once the node runs (start-up, seconds on a loaded machine, does not blur it).",
        "- **operator txs**: transactions the operator sent (nonce difference), as submit + finalize.",
        "- **loop rounds**: rounds of the node's main loop (poll; sleep until the next poll or a finished inference) in the submit and finalize",
        "  phases.",
        "- **RPC calls**: JSON-RPC calls the node made (counted at the HTTP server); **round trips**: HTTP requests",
        "  carrying them (counted at the proxy). **chain busy**: share of the node's",
        "  wall time spent inside hardhat answering them.",
        "- **other CPU**: cores' worth of CPU other processes used while the node ran (see above).",
        `- **peak RSS Δ / peak RSS**: RSS sampled every ${RSS_SAMPLE_MS} ms from just before \`startNode\` until the node`,
        "  stopped; Δ is the peak minus the RSS just before `startNode`. The hardhat chain runs in the same process, so",
        "  these figures include the chain's own growth while it mines the node's transactions (and the bench itself);",
        "  the absolute peak also grows from scenario to scenario as the chain accumulates blocks.",
        "",
        "| batching | requests | mining | RPC latency ms | start-up s | submit s | submit/s | finalize s | finalize/s | settled/s | settled/s running | operator txs | loop rounds | RPC calls | round trips | chain busy | other CPU | peak RSS Δ MiB | peak RSS MiB |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ...result.endToEnd.map(
            (e) =>
                `| ${e.batching ? `on (${BATCHING.maxSize}, ${BATCHING.maxWaitMs} ms)` : "off"} | ${fmt(e.requests)} | ` +
                `${miningLabel(e.mining)} | ${fmt(e.rpcLatencyMs)} | ` +
                `${fmt(e.startupSeconds, 2)} | ${fmt(e.submitSeconds, 2)} | ${fmt(e.submitPerSec, 1)} | ` +
                `${fmt(e.finalizeSeconds, 2)} | ${fmt(e.finalizePerSec, 1)} | ${fmt(e.settledPerSec, 1)} | ` +
                `${fmt(e.servedPerSec, 1)} | ` +
                `${fmt(e.operatorTransactions)} (${fmt(e.submitTransactions)} + ${fmt(e.finalizeTransactions)}) | ` +
                `${fmt(e.submitRounds)} + ${fmt(e.finalizeRounds)} | ${fmt(e.rpcCalls)} | ${fmt(e.rpcRoundTrips)} | ` +
                `${fmt(e.chainBusyShare * 100, 0)}% | ` +
                `${e.otherCores === undefined ? "n/a" : fmt(e.otherCores, 2)} | ` +
                `${fmt(e.peakRssDeltaMiB, 1)} | ${fmt(e.peakRssMiB, 1)} |`,
        ),
        "",
        ...(result.latency.length === 0
            ? []
            : [
                  "### Throughput under RPC latency",
                  "",
                  `settled/s running with every HTTP request to the chain held for the latency, as a share of the same at 0 ms (same`,
                  `batching, requests and mining). Target (issue 12): at ${LATENCY_TARGET.latencyMs} ms, at least ${LATENCY_TARGET.share} of the 0 ms figure.`,
                  "",
                  "| batching | requests | mining | RPC latency ms | settled/s running | at 0 ms | share | target met |",
                  "| --- | ---: | --- | ---: | ---: | ---: | ---: | --- |",
                  ...result.latency.map(
                      (l) =>
                          `| ${l.batching ? "on" : "off"} | ${fmt(l.requests)} | ${miningLabel(l.mining)} | ${fmt(l.latencyMs)} | ${fmt(l.servedPerSec, 1)} | ` +
                          `${fmt(l.baselineServedPerSec, 1)} | ${fmt(l.share, 2)} | ` +
                          `${l.targetMet === undefined ? "(no target)" : yes(l.targetMet)} |`,
                  ),
                  "",
              ]),
        "Adjustments to the test harness's defaults: the model's challenge window is the registry's maximum",
        `(${WINDOW_SECONDS.toLocaleString("en-US")} s) because hardhat moves chain time one second per block when blocks come`,
        "faster than one per second, so a 600 s window would expire in the middle of a 1,000-request submit phase; the",
        "operator's stake is topped up by one token per request so locked collateral never runs out; request",
        `deadlines are ${DEADLINE_IN_SECONDS.toLocaleString("en-US")} s. Hardhat's default block gas limit (30M) was enough.`,
        "",
    ];
    return lines.join("\n");
}

// ---------------------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
    const started = performance.now();
    const cpuList = cpus();
    const loadAverage = { executor: round(loadavg()[0] ?? 0, 2), endToEnd: 0, end: 0 };

    console.log("(a) executor vs bare onnxruntime");
    const executor: ExecutorResult[] = [];
    for (const workload of [heavyWorkload(), tinyWorkload()]) executor.push(await benchExecutor(workload));

    console.log("(b) end to end");
    loadAverage.endToEnd = round(loadavg()[0] ?? 0, 2);
    const rpc = await startCountingRpcServer();
    const proxy = await startLatencyProxy(rpc.url);
    const endToEnd: E2EResult[] = [];
    try {
        for (const scenario of SCENARIOS) endToEnd.push(await benchEndToEnd(rpc, proxy, scenario));
    } finally {
        await proxy.close();
        await rpc.close();
    }
    const latency = latencyComparison(endToEnd);
    loadAverage.end = round(loadavg()[0] ?? 0, 2);

    const machine: Machine = {
        cpus: cpuList.length,
        cpuModel: cpuList[0]?.model.trim() ?? "unknown",
        memoryGiB: round(totalmem() / 1024 ** 3, 1),
        node: process.version,
        onnxruntime: ort.env.versions.node ?? "unknown",
        date: new Date().toISOString(),
        loadAverage,
    };
    const result = {
        ...quickFields(OPTIONS, QUICK_SCOPE),
        generatedBy: "npm run bench:node",
        machine,
        /** Which executor implementation was measured: the hash of its sources (EXECUTOR_SOURCES). */
        executorSourceSha256: EXECUTOR_SOURCES.reduce(
            (hash, file) => hash.update(readFileSync(file)),
            createHash("sha256"),
        ).digest("hex"),
        settings: {
            executor: {
                rounds: ROUNDS,
                inFlight: IN_FLIGHT,
                sampleSeconds: SAMPLE_SECONDS,
                targetRatios: TARGET_RATIOS,
            },
            endToEnd: {
                pollIntervalMs: POLL_INTERVAL_MS,
                confirmations: 0,
                inferenceConcurrency: 2,
                batching: BATCHING,
                deadlineInSeconds: DEADLINE_IN_SECONDS,
                challengeWindowSeconds: WINDOW_SECONDS,
                rssSampleMs: RSS_SAMPLE_MS,
                latencyTarget: LATENCY_TARGET,
            },
        },
        executor,
        endToEnd,
        latency,
        runtimeSeconds: round((performance.now() - started) / 1000, 1),
    };
    mkdirSync(OPTIONS.outDir, { recursive: true });
    writeFileSync(join(OPTIONS.outDir, "node.json"), JSON.stringify(result, null, 2) + "\n");
    const md = markdown(result);
    writeFileSync(join(OPTIONS.outDir, "node.md"), md);
    console.log(md);
}

main().catch((err: unknown) => {
    console.error(`bench/node.ts failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exitCode = 1;
});
