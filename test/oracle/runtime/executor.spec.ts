import { expect } from "chai";
import { keccak256 } from "ethers";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { PermanentError, RetryableError, shouldRetry } from "../../../oracle/src/internal/errors";
import {
    EMPTY_OUTPUT_HASH,
    Executor,
    InferenceTimeoutError,
    ResultCode,
    simulateWorkerCrash,
    type ExecutionResult,
    type InferenceOutcome,
} from "../../../oracle/src/runtime/executor";
import { float32ToFixed } from "../../../oracle/src/protocol/fixedPoint";
import { ModelFormatError, parseManifest, type Manifest } from "../../../oracle/src/protocol/manifest";
import { buildOnnxModel } from "../../../oracle/src/toolkit/onnxGraph";
import { slowModel } from "./slowModel";
import {
    DType,
    DTYPES,
    decodeTensors,
    encodeTensors,
    encodeTensorsTyped,
    type Tensor,
} from "../../../oracle/src/protocol/tensorCodec";
import {
    TINY_BIAS,
    TINY_WEIGHTS,
    failingModel,
    heavyFloatModel,
    multiIOFloatModel,
    seededRandom,
    tinyIntegerModel,
} from "../../../models/examples";

const INT32 = DTYPES.get(DType.INT32)!;
const INT64 = DTYPES.get(DType.INT64)!;

const tiny = tinyIntegerModel();
const multi = multiIOFloatModel();
const failing = failingModel();

/**
 * A model whose one run takes a few hundred ms on one core (about 17 GFLOP): long enough to tell a thread that
 * blocks from one that does not, and a timeout that stops a run from one that waits for it.
 */
const HEAVY = { layers: 8, width: 512, batch: 4096 };

/** The heavy model's input: every feature in [-1, 1] (4 decimals). */
function heavyInput(): Uint8Array {
    const data = new Int32Array(HEAVY.batch * HEAVY.width);
    for (let i = 0; i < data.length; i++) data[i] = ((i * 7_919) % 20_001) - 10_000;
    return encodeTensorsTyped([{ dtype: DType.INT32, shape: [HEAVY.batch, HEAVY.width], data }]);
}

function tinyInput(values: bigint[], shape = [1, 4], dtype = DType.INT32): Uint8Array {
    return encodeTensors([{ dtype, shape, data: values }]);
}

function multiInput(features: bigint[], scale: bigint): Uint8Array {
    return encodeTensors([
        { dtype: DType.INT32, shape: [1, 4], data: features },
        { dtype: DType.INT32, shape: [1, 1], data: [scale] },
    ]);
}

/** The tiny model's outputs computed in the test: y = x * w + b, sum = Σ y. */
function tinyExpected(x: bigint[]): Tensor[] {
    const y = x.map((v, i) => v * BigInt(TINY_WEIGHTS[i]!) + BigInt(TINY_BIAS[i]!));
    return [
        { dtype: DType.INT32, shape: [1, 4], data: y },
        { dtype: DType.INT32, shape: [1, 1], data: [y.reduce((a, b) => a + b, 0n)] },
    ];
}

/** The float32 unit in the last place of `x`. */
function ulp32(x: number): number {
    return 2 ** (Math.floor(Math.log2(Math.max(Math.abs(x), 2 ** -126))) - 23);
}

/**
 * The multi-IO model computed in the test, independently of the executor: inputs scaled as fixedToFloat32 does,
 * the dot product in float64, outputs converted with the reference float32ToFixed.
 */
function multiExpected(features: bigint[], scale: bigint): { score: number; activations: bigint[] } {
    const f = features.map((v) => Math.fround(Number(v) / 1e4));
    const s = Math.fround(Number(scale) / 1e2);
    const { weights, bias } = multi.params;
    const dot = f.reduce((sum, v, i) => sum + v * weights[i]!, 0);
    return {
        score: dot * s + bias,
        // One float32 multiplication is correctly rounded on every machine: exact to predict.
        activations: f.map((v) => float32ToFixed(Math.max(0, Math.fround(v * s)), 4, INT32)),
    };
}

function expectRejected(result: ExecutionResult, code: number, reason: RegExp, what?: string): void {
    expect(result.resultCode, what).to.equal(code);
    expect(result.output, what).to.be.instanceOf(Uint8Array).with.length(0);
    expect(result.outputHash, what).to.equal(EMPTY_OUTPUT_HASH).and.to.equal(keccak256("0x"));
    expect(result.reason, what).to.match(reason);
}

/** The error the promise rejects with, asserted to be a PermanentError with `code`. */
async function rejection(promise: Promise<unknown>, code: string): Promise<PermanentError> {
    try {
        await promise;
    } catch (err) {
        expect(err).to.be.instanceOf(PermanentError);
        expect((err as PermanentError).code).to.equal(code);
        return err as PermanentError;
    }
    throw new Error(`expected a PermanentError ${code}`);
}

describe("oracle/runtime/executor", function () {
    // One executor (two worker threads) for the tests that do not need their own: starting workers and loading
    // the heavy model into each takes a while.
    let executor: Executor;
    let outcomes: InferenceOutcome[];
    let heavy: ReturnType<typeof heavyFloatModel>;
    let heavyBytes: Uint8Array;

    before(async function () {
        executor = new Executor({
            concurrency: 2,
            timeoutMs: 10_000,
            // One core per run on any machine, so that a heavy run is long wherever the tests run.
            intraOpNumThreads: 1,
            onInference: (_id, _s, o) => outcomes.push(o),
        });
        heavy = heavyFloatModel(HEAVY);
        heavyBytes = heavyInput();
        await Promise.all([
            executor.load("tiny", tiny.onnx, tiny.manifest),
            executor.load("multi", multi.onnx, multi.manifest),
            executor.load("failing", failing.onnx, failing.manifest),
            executor.load("heavy", heavy.onnx, heavy.manifest),
        ]);
    });
    beforeEach(function () {
        outcomes = [];
    });
    after(async function () {
        await executor.close();
    });

    it("uses the result codes of contracts/libraries/ResultCodes.sol", function () {
        const solidity = readFileSync(join(__dirname, "../../../contracts/libraries/ResultCodes.sol"), "utf8");
        const constants = Object.fromEntries(
            [...solidity.matchAll(/uint8 internal constant (\w+) = (\d+);/g)].map((m) => [m[1], Number(m[2])]),
        );
        expect(constants).to.deep.equal({ ...ResultCode });
        expect(ResultCode).to.include({ OK: 0, INVALID_INPUT: 1, MODEL_ERROR: 2 });
    });

    describe("load", function () {
        it("loads a model once; loading it again, even concurrently, is a no-op", async function () {
            expect(executor.has("tiny")).to.be.true;
            expect(executor.has("other")).to.be.false;
            await Promise.all([
                executor.load("tiny", tiny.onnx, tiny.manifest),
                executor.load("again", tiny.onnx, tiny.manifest),
                executor.load("again", tiny.onnx, tiny.manifest),
            ]);
            expect(executor.has("again")).to.be.true;
            expect((await executor.run("again", tinyInput([1n, 2n, 3n, 4n]))).resultCode).to.equal(ResultCode.OK);
        });

        it("refuses bytes onnxruntime cannot load (ModelFormatError MODEL_FORMAT)", async function () {
            const unknownOp = buildOnnxModel({
                inputs: [{ name: "x", type: "int32", shape: [1, 4] }],
                outputs: [{ name: "y", type: "int32", shape: [1, 4] }],
                nodes: [{ opType: "NoSuchOperator", inputs: ["x"], outputs: ["y"] }],
            });
            for (const bytes of [unknownOp, Uint8Array.from([1, 2, 3])]) {
                const err = await rejection(executor.load("bad", bytes, tiny.manifest), "MODEL_FORMAT");
                expect(err).to.be.instanceOf(ModelFormatError);
                expect(err.message).to.contain("onnxruntime cannot load it");
            }
            expect(executor.has("bad")).to.be.false;
        });

        it("refuses a manifest that does not fit the graph (ModelFormatError MODEL_FORMAT)", async function () {
            const tinyWith = (patch: (m: { inputs: object[]; outputs: object[] }) => void): Manifest => {
                const json = JSON.parse(tiny.manifestJson) as { inputs: object[]; outputs: object[] };
                patch(json);
                return parseManifest(JSON.stringify(json));
            };
            const cases: [string, Uint8Array, Manifest, RegExp][] = [
                [
                    "an input name the graph lacks",
                    tiny.onnx,
                    tinyWith((m) => (m.inputs[0] = { name: "input", dtype: "int32", shape: [1, 4] })),
                    /no graph input "input" \(graph inputs: x\)/,
                ],
                [
                    "an output name the graph lacks",
                    tiny.onnx,
                    tinyWith((m) => m.outputs.push({ name: "extra", dtype: "int32", shape: [1] })),
                    /no graph output "extra"/,
                ],
                [
                    "a graph input the manifest never feeds",
                    failing.onnx,
                    parseManifest(
                        JSON.stringify({
                            version: 1,
                            inputs: [{ name: "x", dtype: "int32", shape: [1, 4] }],
                            outputs: [{ name: "y", dtype: "int32", shape: [1, 4] }],
                        }),
                    ),
                    /graph input "shape" is not in the manifest/,
                ],
                [
                    "another element type",
                    tiny.onnx,
                    tinyWith(
                        (m) =>
                            (m.inputs[0] = {
                                name: "x",
                                dtype: "int32",
                                shape: [1, 4],
                                onnxType: "float32",
                                decimals: 2,
                            }),
                    ),
                    /input "x" is int32, the manifest says float32/,
                ],
                [
                    "another shape",
                    tiny.onnx,
                    tinyWith((m) => (m.outputs[1] = { name: "sum", dtype: "int32", shape: [1] })),
                    /output "sum" has shape \[1, 1\], the manifest says \[1\]/,
                ],
            ];
            for (const [what, onnx, manifest, message] of cases) {
                const err = await rejection(executor.load(what, onnx, manifest), "MODEL_FORMAT");
                expect(err.message, what).to.match(message);
                expect(executor.has(what)).to.be.false;
            }
        });
    });

    describe("run", function () {
        it("computes the integer model exactly (OK, canonical output, its hash)", async function () {
            for (const x of [
                [1n, -2n, 300n, 4n],
                [0n, 0n, 0n, -7n],
                [-100_000n, 100_000n, 123_456n, -654_321n],
            ]) {
                const result = await executor.run("tiny", tinyInput(x));
                expect(result.resultCode).to.equal(ResultCode.OK);
                expect(result.reason).to.be.undefined;
                expect(Buffer.from(result.output).toString("hex")).to.equal(
                    Buffer.from(encodeTensors(tinyExpected(x))).toString("hex"),
                );
                expect(result.outputHash).to.equal(keccak256(result.output));
                expect(result.inferenceMs).to.be.at.least(0);
            }
            expect(outcomes).to.deep.equal(["ok", "ok", "ok"]);
        });

        it("answers the float model with the fixed point of an exact float computation", async function () {
            // Features k/16 and scale k/4 with weights k/64: every float32 step is exact, on any machine.
            const features = [6_250n, -3_125n, 625n, 12_500n]; // 0.625, -0.3125, 0.0625, 1.25
            const scale = 150n; // 1.5
            const result = await executor.run("multi", multiInput(features, scale));
            expect(result.resultCode).to.equal(ResultCode.OK);
            const { score, activations } = multiExpected(features, scale);
            expect(Math.fround(score)).to.equal(score); // the reference itself is exact
            const expected = encodeTensors([
                { dtype: DType.INT64, shape: [1, 1], data: [float32ToFixed(score, 6, INT64)] },
                { dtype: DType.INT32, shape: [1, 4], data: activations },
            ]);
            expect(Buffer.from(result.output).toString("hex")).to.equal(Buffer.from(expected).toString("hex"));
            expect(activations).to.deep.equal([9_375n, 0n, 938n, 18_750n]); // 0.9375, 0, 0.09375 -> 938 (half-even), 1.875
        });

        it("answers the float model on random inputs within float32 rounding of the reference", async function () {
            const random = seededRandom(42);
            const int = (bound: number): bigint => BigInt(Math.round((2 * random() - 1) * bound));
            for (let i = 0; i < 40; i++) {
                const features = [int(50_000), int(50_000), int(50_000), int(50_000)];
                const scale = int(300);
                const result = await executor.run("multi", multiInput(features, scale));
                expect(result.resultCode).to.equal(ResultCode.OK);
                const [score, activations] = decodeTensors(result.output) as [Tensor, Tensor];
                const want = multiExpected(features, scale);
                expect(score.dtype).to.equal(DType.INT64);
                expect(score.shape).to.deep.equal([1, 1]);
                // MatMul may sum in another order or fuse multiply-adds: allow a few float32 ulps.
                const tolerance = 4 * ulp32(want.score) * 1e6 + 1;
                expect(Math.abs(Number(score.data[0]!) - want.score * 1e6)).to.be.at.most(tolerance);
                expect(activations).to.deep.equal({ dtype: DType.INT32, shape: [1, 4], data: want.activations });
            }
        });

        it("answers malformed or mismatching input with INVALID_INPUT and empty output", async function () {
            const valid = tinyInput([1n, 2n, 3n, 4n]);
            const cases: [string, string, Uint8Array, RegExp][] = [
                ["tiny", "empty bytes", new Uint8Array(0), /TRUNCATED/],
                ["tiny", "garbage", Uint8Array.from([0xde, 0xad, 0xbe, 0xef]), /UNSUPPORTED_VERSION/],
                ["tiny", "a truncated tensor", valid.subarray(0, valid.length - 1), /TRUNCATED/],
                ["tiny", "a trailing byte", Uint8Array.from([...valid, 0]), /TRAILING_BYTES/],
                ["tiny", "no tensors", Uint8Array.from([1, 0]), /the input holds 0 tensors, the model takes 1/],
                [
                    "tiny",
                    "two tensors",
                    encodeTensors([...decodeTensors(valid), ...decodeTensors(valid)]),
                    /holds 2 tensors, the model takes 1/,
                ],
                [
                    "tiny",
                    "int64 instead of int32",
                    tinyInput([1n, 2n, 3n, 4n], [1, 4], DType.INT64),
                    /is INT64, the model takes int32/,
                ],
                [
                    "tiny",
                    "shape [1, 3]",
                    tinyInput([1n, 2n, 3n], [1, 3]),
                    /has shape \[1, 3\], the model takes \[1, 4\]/,
                ],
                ["tiny", "shape [4]", tinyInput([1n, 2n, 3n, 4n], [4]), /has shape \[4\]/],
                ["tiny", "shape [1, 4, 1]", tinyInput([1n, 2n, 3n, 4n], [1, 4, 1]), /has shape \[1, 4, 1\]/],
                ["tiny", "a bool element of 2", Uint8Array.from([1, 1, 9, 1, 0, 0, 0, 1, 2]), /INVALID_BOOL/],
                [
                    "multi",
                    "inputs in the wrong order",
                    encodeTensors([
                        { dtype: DType.INT32, shape: [1, 1], data: [100n] },
                        { dtype: DType.INT32, shape: [1, 4], data: [1n, 2n, 3n, 4n] },
                    ]),
                    /input 0 \("features"\) has shape \[1, 1\]/,
                ],
            ];
            for (const [model, what, input, reason] of cases) {
                const result = await executor.run(model, input);
                expectRejected(result, ResultCode.INVALID_INPUT, reason, what);
            }
            expect(outcomes)
                .to.have.length(cases.length)
                .and.to.satisfy((o: string[]) => o.every((x) => x === "invalid_input"));
        });

        it("answers a model failing on well-formed input with MODEL_ERROR and empty output", async function () {
            const ok = await executor.run("failing", failing.goodInput);
            expect(ok.resultCode).to.equal(ResultCode.OK);
            expect(decodeTensors(ok.output)).to.deep.equal([
                { dtype: DType.INT32, shape: [1, 4], data: [1n, 2n, 3n, 4n] },
            ]);

            // onnxruntime throws inside Reshape.
            expectRejected(
                await executor.run("failing", failing.badInput),
                ResultCode.MODEL_ERROR,
                /^onnxruntime: .*Reshape/,
            );
            // The model runs but its output has another shape than the manifest's.
            const reshaped = encodeTensors([
                { dtype: DType.INT32, shape: [1, 4], data: [1n, 2n, 3n, 4n] },
                { dtype: DType.INT64, shape: [2], data: [2n, 2n] },
            ]);
            expectRejected(
                await executor.run("failing", reshaped),
                ResultCode.MODEL_ERROR,
                /output "y" has shape \[2, 2\], the manifest says \[1, 4\]/,
            );
            // A float output outside the wire dtype: 200000 * 2 * 2e7 is far beyond int64 at 6 decimals.
            const huge = multiInput([2_000_000_000n, 2_000_000_000n, 2_000_000_000n, 2_000_000_000n], 2_000_000_000n);
            expectRejected(await executor.run("multi", huge), ResultCode.MODEL_ERROR, /outside \[/);
            expect(outcomes).to.deep.equal(["ok", "model_error", "model_error", "model_error"]);
        });

        it("refuses a model that is not loaded (MODEL_NOT_LOADED)", async function () {
            await rejection(executor.run("unknown", tinyInput([1n, 2n, 3n, 4n])), "MODEL_NOT_LOADED");
        });
    });

    describe("concurrency", function () {
        for (const concurrency of [1, 3]) {
            it(`never holds more than ${concurrency} executions at once, and uses all ${concurrency} slots`, async function () {
                const seen: number[] = [];
                const bounded: Executor = new Executor({
                    concurrency,
                    timeoutMs: 10_000,
                    // Called while the execution still holds its slot.
                    onInference: () => seen.push(bounded.active),
                });
                try {
                    await bounded.load("multi", multi.onnx, multi.manifest);
                    const inputs = Array.from({ length: 12 }, (_, i) => multiInput([BigInt(i), 2n, 3n, 4n], 100n));
                    const running = inputs.map((input) => bounded.run("multi", input));
                    await Promise.resolve();
                    expect(bounded.active + bounded.queued).to.equal(12);
                    const results = await Promise.all(running);
                    expect(seen).to.have.length(12);
                    expect(Math.max(...seen)).to.equal(concurrency);
                    expect(bounded.active).to.equal(0);
                    // Same answers as one at a time.
                    for (const [i, result] of results.entries()) {
                        expect(result.output).to.deep.equal((await executor.run("multi", inputs[i]!)).output);
                    }
                } finally {
                    await bounded.close();
                }
            });
        }
    });

    describe("timeout", function () {
        it("throws InferenceTimeoutError while a run over timeoutMs is still going, replaces its worker, serves on", async function () {
            const { inferenceMs: heavyMs, resultCode } = await executor.run("heavy", heavyBytes);
            expect(resultCode).to.equal(ResultCode.OK);
            const timeoutMs = Math.max(10, Math.round(heavyMs / 5));
            const timed: InferenceOutcome[] = [];
            const impatient = new Executor({
                concurrency: 1,
                timeoutMs,
                // As many threads as a worker of `executor` has, so its run takes about heavyMs too.
                intraOpNumThreads: 1,
                onInference: (_id, _s, outcome) => timed.push(outcome),
            });
            try {
                await impatient.load("heavy", heavy.onnx, heavy.manifest);
                await impatient.load("tiny", tiny.onnx, tiny.manifest);
                const started = performance.now();
                const err = await rejection(impatient.run("heavy", heavyBytes), "INFERENCE_TIMEOUT");
                const waitedMs = performance.now() - started;
                expect(err).to.be.instanceOf(InferenceTimeoutError);
                expect(err).to.not.be.instanceOf(RetryableError);
                expect(err.message).to.contain(`longer than the ${timeoutMs} ms limit`);
                // The run needs about heavyMs: the error came while it was still going, not when it returned.
                expect(waitedMs).to.be.below(heavyMs / 2);
                expect(timed).to.deep.equal(["timeout"]);
                expect(impatient.active).to.equal(0);

                // The slot was given back (concurrency 1: a leaked slot would hang the next run forever) and the
                // worker taken out of service was replaced by one with every model loaded.
                const x = [1n, 2n, 3n, 4n];
                const ok = await impatient.run("tiny", tinyInput(x));
                expect(ok.resultCode).to.equal(ResultCode.OK);
                expect(ok.output).to.deep.equal(encodeTensors(tinyExpected(x)));
                await rejection(impatient.run("heavy", heavyBytes), "INFERENCE_TIMEOUT");
                expect(timed).to.deep.equal(["timeout", "ok", "timeout"]);
                expect(impatient.active + impatient.queued).to.equal(0);
            } finally {
                await impatient.close();
            }
        });
    });

    describe("worker threads", function () {
        const TICK_MS = 5;

        it("keeps the main event loop responsive while a worker runs a long inference", async function () {
            const ticks: number[] = [];
            const started = performance.now();
            const interval = setInterval(() => ticks.push(performance.now()), TICK_MS);
            let result: ExecutionResult;
            try {
                result = await executor.run("heavy", heavyBytes);
            } finally {
                clearInterval(interval);
            }
            const ended = performance.now();
            expect(result.resultCode).to.equal(ResultCode.OK);
            // Long enough to tell: a run on the main thread would leave one gap as long as the run.
            expect(result.inferenceMs).to.be.above(10 * TICK_MS);
            const times = [started, ...ticks, ended];
            const gaps = times.slice(1).map((t, i) => t - times[i]!);
            expect(Math.max(...gaps)).to.be.below(result.inferenceMs / 2);
            expect(ticks.length).to.be.at.least(result.inferenceMs / TICK_MS / 4);
        });

        it("runs two executions at the same time in two workers (concurrency 2)", async function () {
            // Each interval: from when its worker started (answer time minus the worker's own inferenceMs) to
            // when the answer reached the main thread.
            const runs = await Promise.all(
                [0, 1].map(async () => {
                    const result = await executor.run("heavy", heavyBytes);
                    const end = performance.now();
                    return { result, start: end - result.inferenceMs, end };
                }),
            );
            const [a, b] = runs as [(typeof runs)[0], (typeof runs)[0]];
            expect(a.result.resultCode).to.equal(ResultCode.OK);
            expect(b.result.output).to.deep.equal(a.result.output);
            // One after the other, the intervals would be disjoint (but for the sub-ms hop back to this thread).
            const overlapMs = Math.min(a.end, b.end) - Math.max(a.start, b.start);
            expect(overlapMs).to.be.above(Math.min(a.result.inferenceMs, b.result.inferenceMs) / 2);
        });

        it("fails the run of a worker that crashes with a retryable error, and replaces the worker", async function () {
            // Both workers exit with an error code before their next request: the two runs posted now (one to
            // each idle worker) are in flight when their workers die.
            simulateWorkerCrash(executor, 0);
            simulateWorkerCrash(executor, 1);
            const errors = await Promise.all(
                [executor.run("tiny", tinyInput([1n, 2n, 3n, 4n])), executor.run("heavy", heavyBytes)].map((run) =>
                    run.then(
                        () => expect.fail("the run should fail"),
                        (e: unknown) => e,
                    ),
                ),
            );
            for (const err of errors) {
                expect(err).to.be.instanceOf(RetryableError);
                expect((err as RetryableError).code).to.equal("INFERENCE_WORKER_EXITED");
                expect((err as RetryableError).message).to.match(
                    /the inference worker went away during the run: .*code 70/,
                );
                expect(shouldRetry(err)).to.be.true;
            }
            expect(outcomes).to.deep.equal([]);
            expect(executor.active).to.equal(0);
            // The replacements have every model.
            const x = [5n, 6n, 7n, 8n];
            const results = await Promise.all([
                executor.run("tiny", tinyInput(x)),
                executor.run("multi", multiInput(x, 100n)),
                executor.run("heavy", heavyBytes),
            ]);
            expect(results.map((r) => r.resultCode)).to.deep.equal([ResultCode.OK, ResultCode.OK, ResultCode.OK]);
            expect(results[0]!.output).to.deep.equal(encodeTensors(tinyExpected(x)));
        });
    });

    describe("close", function () {
        it("waits for the runs in flight, then refuses new work (EXECUTOR_CLOSED)", async function () {
            const slow = slowModel(256, 4);
            const closing = new Executor({ concurrency: 1, timeoutMs: 10_000 });
            await closing.load("slow", slow.onnx, slow.manifest);
            const input = encodeTensors([{ dtype: DType.INT32, shape: [1, 1], data: [10n] }]);
            const events: string[] = [];
            const runs = [0, 1, 2].map((i) =>
                closing.run("slow", input).then((result) => {
                    events.push(`run ${i}: ${result.resultCode}`);
                    return result;
                }),
            );
            const closed = closing.close().then(() => events.push("closed"));
            await rejection(closing.run("slow", input), "EXECUTOR_CLOSED");
            await rejection(closing.load("other", tiny.onnx, tiny.manifest), "EXECUTOR_CLOSED");
            await Promise.all([...runs, closed]);
            expect(events).to.deep.equal(["run 0: 0", "run 1: 0", "run 2: 0", "closed"]);
            expect(closing.has("slow")).to.be.false;
            await rejection(closing.run("slow", input), "EXECUTOR_CLOSED");
        });
    });
});
