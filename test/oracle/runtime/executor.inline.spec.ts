/**
 * Inline runs: a model measured faster than the hop to a worker runs on the main thread, with the same results.
 * The policies here take timing out of the assertions: `promoteBelow: Infinity` sends inline any model within
 * `maxRunMs` (5 ms here: the tiny model runs in µs, the slow one below in tens of ms on any machine),
 * `demoteAbove: Infinity` keeps it there, `demoteAbove: 0` counts any inline run as too slow.
 */
import { expect } from "chai";
import {
    Executor,
    ResultCode,
    type ExecutionResult,
    type InlinePolicy,
    type Placement,
} from "../../../oracle/src/runtime/executor";
import { parseManifest, type Manifest } from "../../../oracle/src/protocol/manifest";
import { buildOnnxModel } from "../../../oracle/src/toolkit/onnxGraph";
import { slowModel } from "./slowModel";
import { DType, encodeTensors } from "../../../oracle/src/protocol/tensorCodec";
import { compileModel } from "../../../oracle/src/verify/program";
import { failingModel, integerMlpModel, multiIOFloatModel, tinyIntegerModel } from "../../../models/examples";

const tiny = tinyIntegerModel();
const multi = multiIOFloatModel();
const failing = failingModel();
const mlp = integerMlpModel({ widths: [4, 8, 3] });
const mlpHash = compileModel(mlp.onnx, mlp.manifest).programHash;

const tinyInput = (values: bigint[], shape = [1, 4]): Uint8Array =>
    encodeTensors([{ dtype: DType.INT32, shape, data: values }]);
const multiInput = (features: bigint[], scale: bigint): Uint8Array =>
    encodeTensors([
        { dtype: DType.INT32, shape: [1, 4], data: features },
        { dtype: DType.INT32, shape: [1, 1], data: [scale] },
    ]);
const mlpInput = (values: bigint[]): Uint8Array => encodeTensors([{ dtype: DType.INT8, shape: [1, 4], data: values }]);

/** x int64 [1] → Range(0, x, 1) → ReduceSum → y int64 [1]: fast, but its work grows with the value of x. */
function rangeModel(): { onnx: Uint8Array; manifest: Manifest } {
    const onnx = buildOnnxModel({
        inputs: [{ name: "x", type: "int64", shape: [1] }],
        outputs: [{ name: "y", type: "int64", shape: [1] }],
        initializers: [
            { name: "zero", dims: [], data: BigInt64Array.of(0n) },
            { name: "one", dims: [], data: BigInt64Array.of(1n) },
        ],
        nodes: [
            { opType: "Squeeze", inputs: ["x"], outputs: ["limit"] },
            { opType: "Range", inputs: ["zero", "limit", "one"], outputs: ["r"] },
            { opType: "ReduceSum", inputs: ["r"], outputs: ["y"], attributes: { keepdims: { int: 1 } } },
        ],
    });
    const manifest = parseManifest(
        JSON.stringify({
            version: 1,
            inputs: [{ name: "x", dtype: "int64", shape: [1] }],
            outputs: [{ name: "y", dtype: "int64", shape: [1] }],
        }),
    );
    return { onnx, manifest };
}

/** A result without its timing, which differs from run to run. */
function untimed(result: ExecutionResult): Omit<ExecutionResult, "inferenceMs"> {
    const { inferenceMs: _, ...rest } = result;
    return { ...rest, output: Uint8Array.from(result.output) }; // a plain Uint8Array either way
}

/**
 * An executor with inline runs under `policy`, and what it said about placements. Windows of 4 samples: a model
 * is measured after 4 OK runs (and again after each further one).
 */
function inlineExecutor(policy: Partial<InlinePolicy>): {
    executor: Executor;
    moves: [string, Placement, string][];
} {
    const moves: [string, Placement, string][] = [];
    const executor = new Executor({
        concurrency: 2,
        timeoutMs: 30_000,
        inline: { samples: 4, maxRunMs: 5, ...policy },
        onPlacement: (modelId, placement, why) => moves.push([modelId, placement, why]),
    });
    return { executor, moves };
}

/** Runs `input` (an OK input) until the model's placement is `want`; fails after `max` runs. */
async function runUntil(executor: Executor, modelId: string, input: Uint8Array, want: Placement, max = 40) {
    for (let i = 0; i < max && executor.placement(modelId) !== want; i++) {
        expect((await executor.run(modelId, input)).resultCode).to.equal(ResultCode.OK);
        // Going inline loads the model on the main thread first: let that finish.
        await new Promise((resolve) => setImmediate(resolve));
    }
    expect(executor.placement(modelId), modelId).to.equal(want);
}

describe("oracle/runtime/executor (inline runs)", function () {
    this.timeout(120_000);

    it("serves a small model inline after a window of worker runs, and keeps a slow one in the workers", async function () {
        const { executor, moves } = inlineExecutor({ promoteBelow: Infinity, demoteAbove: Infinity });
        const slow = slowModel(512, 8); // about 2 x 512^3 x 8 flops (2 GFLOP): tens of ms or more per run, far over maxRunMs
        try {
            await executor.load("tiny", tiny.onnx, tiny.manifest);
            await executor.load("slow", slow.onnx, slow.manifest);
            expect(executor.placement("tiny")).to.equal("worker");
            await runUntil(executor, "tiny", tinyInput([1n, 2n, 3n, 4n]), "inline");
            expect(moves).to.have.length(1);
            expect(moves[0]!.slice(0, 2)).to.deep.equal(["tiny", "inline"]);
            expect(moves[0]![2]).to.match(/^median run .* ms \(90th percentile .* ms\) against a hop budget of/);

            const slowInput = encodeTensors([{ dtype: DType.INT32, shape: [1, 1], data: [10n] }]);
            for (let i = 0; i < 6; i++) expect((await executor.run("slow", slowInput)).resultCode).to.equal(0);
            expect(executor.placement("slow")).to.equal("worker");
            expect(moves).to.have.length(1);
        } finally {
            await executor.close();
        }
    });

    it("answers the same bytes inline as in a worker, error results and their reasons included", async function () {
        const workers = new Executor({ concurrency: 2, timeoutMs: 30_000, inline: false });
        const { executor: inline } = inlineExecutor({
            promoteBelow: Infinity,
            demoteAbove: Infinity,
            maxRunMs: 10_000, // this test is about results; a busy machine cannot send a model back
        });
        try {
            for (const executor of [workers, inline]) {
                await executor.load("tiny", tiny.onnx, tiny.manifest);
                await executor.load("multi", multi.onnx, multi.manifest);
                await executor.load("failing", failing.onnx, failing.manifest);
                await executor.load("mlp", mlp.onnx, mlp.manifest, { verifiable: { programHash: mlpHash } });
            }
            const ok: [string, Uint8Array][] = [
                ["tiny", tinyInput([1n, 2n, 3n, 4n])],
                ["multi", multiInput([6_250n, -3_125n, 625n, 12_500n], 150n)],
                ["failing", failing.goodInput],
                ["mlp", mlpInput([1n, -2n, 3n, -4n])],
            ];
            for (const [modelId, input] of ok) {
                await runUntil(inline, modelId, input, "inline");
                await runUntil(workers, modelId, input, "worker", 8);
            }
            const valid = tinyInput([1n, 2n, 3n, 4n]);
            const cases: [string, Uint8Array][] = [
                ...ok,
                ["tiny", tinyInput([-100_000n, 100_000n, 123_456n, -654_321n])],
                ["tiny", Buffer.from([0, ...valid, 0]).subarray(1, valid.length + 1)], // a view into a larger buffer
                ["multi", multiInput([-20_000n, 15_000n, 0n, 7n], -250n)],
                ["mlp", mlpInput([127n, -128n, 0n, 5n])],
                // INVALID_INPUT
                ["tiny", new Uint8Array(0)],
                ["tiny", valid.subarray(0, valid.length - 1)],
                ["tiny", tinyInput([1n, 2n, 3n], [1, 3])],
                ["mlp", tinyInput([1n, 2n, 3n, 4n])],
                // MODEL_ERROR: onnxruntime throws; an output of another shape; a float output out of range
                ["failing", failing.badInput],
                [
                    "failing",
                    encodeTensors([
                        { dtype: DType.INT32, shape: [1, 4], data: [1n, 2n, 3n, 4n] },
                        { dtype: DType.INT64, shape: [2], data: [2n, 2n] },
                    ]),
                ],
                ["multi", multiInput([2_000_000_000n, 2_000_000_000n, 2_000_000_000n, 2_000_000_000n], 2_000_000_000n)],
            ];
            const codes = new Set<number>();
            for (const [modelId, input] of cases) {
                const [a, b] = await Promise.all([workers.run(modelId, input), inline.run(modelId, input)]);
                expect(untimed(b), modelId).to.deep.equal(untimed(a));
                codes.add(a.resultCode);
            }
            expect([...codes].sort()).to.deep.equal([ResultCode.OK, ResultCode.INVALID_INPUT, ResultCode.MODEL_ERROR]);
            for (const input of [mlpInput([9n, 8n, -7n, 6n]), tinyInput([1n, 2n, 3n, 4n])]) {
                const [a, b] = await Promise.all([workers.reference("mlp", input), inline.reference("mlp", input)]);
                expect({ ...b, inferenceMs: 0 }).to.deep.equal({ ...a, inferenceMs: 0 });
            }
            for (const [modelId] of ok) expect(inline.placement(modelId), modelId).to.equal("inline");
        } finally {
            await Promise.all([workers.close(), inline.close()]);
        }
    });

    it("sends an inline model back to the workers when its inline runs are slower than the policy allows, and measures it afresh", async function () {
        const { executor, moves } = inlineExecutor({ promoteBelow: Infinity, demoteAbove: 0 });
        try {
            await executor.load("tiny", tiny.onnx, tiny.manifest);
            const x = [5n, 6n, 7n, 8n];
            await runUntil(executor, "tiny", tinyInput(x), "inline");
            // A window of inline runs, each of which is more than 0 times the hop budget.
            await runUntil(executor, "tiny", tinyInput(x), "worker");
            expect(moves.map(([, placement]) => placement)).to.deep.equal(["inline", "worker"]);
            expect(moves[1]![2]).to.match(/^median inline run .* ms against a hop budget of/);
            // Served on, in the workers, then inline again after a fresh window.
            const result = await executor.run("tiny", tinyInput(x));
            expect(result.resultCode).to.equal(ResultCode.OK);
            await runUntil(executor, "tiny", tinyInput(x), "inline");
            expect(moves.map(([, placement]) => placement)).to.deep.equal(["inline", "worker", "inline"]);
        } finally {
            await executor.close();
        }
    });

    it("keeps a fast model whose work depends on its input's values in the workers, and says why", async function () {
        const { executor, moves } = inlineExecutor({ promoteBelow: Infinity });
        const range = rangeModel();
        try {
            await executor.load("range", range.onnx, range.manifest);
            const input = encodeTensors([{ dtype: DType.INT64, shape: [1], data: [4n] }]);
            for (let i = 0; i < 40 && moves.length === 0; i++) {
                expect((await executor.run("range", input)).resultCode).to.equal(ResultCode.OK);
                await new Promise((resolve) => setImmediate(resolve));
            }
            expect(executor.placement("range")).to.equal("worker");
            expect(moves).to.have.length(1);
            expect(moves[0]!.slice(0, 2)).to.deep.equal(["range", "worker"]);
            expect(moves[0]![2]).to.match(
                /fast enough to run inline .*, but its run time can depend on its input's values: node 1 \(Range/,
            );
        } finally {
            await executor.close();
        }
    });
});
