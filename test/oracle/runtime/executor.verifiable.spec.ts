/**
 * Verifiable (REEXECUTION) models in the executor: loaded only when they are in the verifiable subset and their
 * program hashes to the registered one; every run answers with the reference interpreter's result, whatever
 * onnxruntime computes (its int8 kernels can saturate int16 pair sums on CPUs without VNNI).
 */
import { expect } from "chai";
import { keccak256, ZeroHash } from "ethers";
import * as ort from "onnxruntime-node";
import { PermanentError, shouldRetry } from "../../../oracle/src/internal/errors";
import { Executor, ResultCode } from "../../../oracle/src/runtime/executor";
import { executeModel, loadModel } from "../../../oracle/src/runtime/inference";
import { parseManifest, embedManifest, type Manifest } from "../../../oracle/src/protocol/manifest";
import { buildOnnxModel } from "../../../oracle/src/toolkit/onnxGraph";
import { DType, decodeTensors, encodeTensors, encodeTensorsTyped } from "../../../oracle/src/protocol/tensorCodec";
import { loadVerifiableModel, runVerifiable } from "../../../oracle/src/verify/execute";
import { disputeGasBound } from "../../../oracle/src/verify/disputeGas";
import { compileModel } from "../../../oracle/src/verify/program";
import { formatManifestJson, integerMlpModel, seededRandom, tinyIntegerModel } from "../../../models/examples";

const K = 64;
const N = 4;

interface SaturatingModel {
    onnx: Uint8Array;
    manifest: Manifest;
    weights: Int8Array;
    programHash: string;
}

/**
 * y = MatMulInteger(a, w): a uint8 [1, K], w int8 [K, N] constant. With a = 255 and w = -128 everywhere, every
 * pair of products sums to -65,280, beyond int16: what `vpmaddubsw` (AVX2/AVX-512 without VNNI) saturates to
 * -32,768. The exact sums fit int32 easily, so the model is in the verifiable subset.
 */
function saturatingModel(weight: (i: number) => number): SaturatingModel {
    const weights = Int8Array.from({ length: K * N }, (_, i) => weight(i));
    const graph = buildOnnxModel({
        inputs: [{ name: "a", type: "uint8", shape: [1, K] }],
        outputs: [{ name: "y", type: "int32", shape: [1, N] }],
        nodes: [{ opType: "MatMulInteger", inputs: ["a", "w"], outputs: ["y"] }],
        initializers: [{ name: "w", dims: [K, N], data: weights }],
    });
    const manifestJson = formatManifestJson(
        [{ name: "a", dtype: "uint8", shape: [1, K] }],
        [{ name: "y", dtype: "int32", shape: [1, N] }],
    );
    const manifest = parseManifest(manifestJson);
    const onnx = embedManifest(graph, manifestJson);
    return { onnx, manifest, weights, programHash: compileModel(onnx, manifest).programHash };
}

const input = (values: readonly number[]): Uint8Array =>
    encodeTensors([{ dtype: DType.UINT8, shape: [1, K], data: values.map(BigInt) }]);

/** Inputs that provoke saturation (255 against -128 weights), plus ordinary and edge ones. */
function saturatingInputs(): Uint8Array[] {
    const random = seededRandom(7);
    return [
        input(new Array<number>(K).fill(255)),
        input(Array.from({ length: K }, (_, i) => (i % 2 === 0 ? 255 : 254))),
        input(Array.from({ length: K }, (_, i) => (i < K / 2 ? 255 : 0))),
        input(Array.from({ length: K }, () => 200 + Math.floor(random() * 56))),
        input(new Array<number>(K).fill(0)),
    ];
}

/** onnxruntime's own answer, outside the executor: what an operator without the reference check would submit. */
async function rawOnnxruntime(model: SaturatingModel, values: Uint8Array): Promise<{ outputHash: string }> {
    const session = await ort.InferenceSession.create(model.onnx);
    try {
        const a = new ort.Tensor("uint8", values, [1, K]);
        const out = (await session.run({ a })).y as ort.Tensor;
        const output = encodeTensorsTyped([{ dtype: DType.INT32, shape: [1, N], data: out.data as Int32Array }]);
        return { outputHash: keccak256(output) };
    } finally {
        await session.release();
    }
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

describe("oracle/runtime/executor (verifiable models)", function () {
    this.timeout(120_000);
    let executor: Executor;
    const minus128 = saturatingModel(() => -128);
    const mixed = saturatingModel((i) => (i % 3 === 0 ? 127 : -128));

    before(function () {
        executor = new Executor({ concurrency: 1, timeoutMs: 30_000 });
    });

    after(async function () {
        await executor.close();
    });

    it("answers with the reference result on inputs that provoke int8 saturation (uint8 255 × int8 -128)", async function () {
        for (const [name, model] of [
            ["all -128", minus128],
            ["mixed", mixed],
        ] as const) {
            await executor.load(name, model.onnx, model.manifest, { verifiable: { programHash: model.programHash } });
            expect(executor.isVerifiable(name)).to.equal(true);
            const reference = loadVerifiableModel(model.onnx, model.manifest);
            for (const [i, bytes] of saturatingInputs().entries()) {
                const want = runVerifiable(reference, bytes);
                const got = await executor.run(name, bytes);
                expect(got.resultCode, `${name} input ${i}`).to.equal(ResultCode.OK);
                expect(got.outputHash, `${name} input ${i}`).to.equal(want.outputHash);
                expect(Buffer.from(got.output).equals(Buffer.from(want.output)), `${name} input ${i}`).to.equal(true);
                // Whether onnxruntime saturates depends on the CPU (VNNI computes exactly): when it does, the
                // mismatch is reported with onnxruntime's answer; when it does not, nothing is.
                const raw = await rawOnnxruntime(model, Uint8Array.from(decodeTensors(bytes)[0]!.data, Number));
                if (raw.outputHash === want.outputHash) expect(got.referenceMismatch).to.equal(undefined);
                else expect(got.referenceMismatch).to.deep.equal({ resultCode: 0, outputHash: raw.outputHash });
            }
        }
        // What was submitted for a = 255 everywhere is the exact sum, 64 × 255 × -128, which a kernel saturating
        // each pair at -32,768 would give as 32 × -32,768.
        const allMax = await executor.run("all -128", saturatingInputs()[0]!);
        expect(decodeTensors(allMax.output)[0]!.data).to.deep.equal(new Array<bigint>(N).fill(BigInt(K * 255 * -128)));
    });

    it("answers malformed input exactly as the reference does (INVALID_INPUT, empty output, the same reason)", async function () {
        await executor.load("all -128", minus128.onnx, minus128.manifest, {
            verifiable: { programHash: minus128.programHash },
        });
        const reference = loadVerifiableModel(minus128.onnx, minus128.manifest);
        for (const bytes of [
            Uint8Array.from([1, 2, 3]),
            encodeTensors([{ dtype: DType.INT8, shape: [1, K], data: new Array<bigint>(K).fill(1n) }]),
            encodeTensors([{ dtype: DType.UINT8, shape: [1, K - 1], data: new Array<bigint>(K - 1).fill(1n) }]),
        ]) {
            const got = await executor.run("all -128", bytes);
            const want = runVerifiable(reference, bytes);
            expect(got.resultCode).to.equal(ResultCode.INVALID_INPUT);
            expect({ resultCode: got.resultCode, outputHash: got.outputHash }).to.deep.equal({
                resultCode: want.resultCode,
                outputHash: want.outputHash,
            });
            expect(got.referenceMismatch).to.equal(undefined);
            // One check of the input for both (protocol/inputCheck.ts): the same words for the same fault.
            expect(got.reason).to.be.a("string").and.equal(want.reason);
        }
    });

    it("runs the integer MLP example as the reference does; `reference` gives the same without onnxruntime", async function () {
        const mlp = integerMlpModel({ widths: [4, 8, 3] });
        const programHash = compileModel(mlp.onnx, mlp.manifest).programHash;
        await executor.load("mlp", mlp.onnx, mlp.manifest, { verifiable: { programHash } });
        const reference = loadVerifiableModel(mlp.onnx, mlp.manifest);
        const random = seededRandom(11);
        for (let i = 0; i < 20; i++) {
            const x = Array.from({ length: 4 }, () => BigInt(Math.floor(random() * 256) - 128));
            const bytes = encodeTensors([{ dtype: DType.INT8, shape: [1, 4], data: x }]);
            const want = runVerifiable(reference, bytes);
            const run = await executor.run("mlp", bytes);
            const ref = await executor.reference("mlp", bytes);
            expect(run.outputHash).to.equal(want.outputHash);
            expect(ref.outputHash).to.equal(want.outputHash);
            expect(ref.resultCode).to.equal(want.resultCode);
            expect(Buffer.from(ref.output).equals(Buffer.from(want.output))).to.equal(true);
        }
    });

    it("refuses for good a model whose program does not hash to the registered programHash", async function () {
        const err = await rejection(
            executor.load("wrong program", minus128.onnx, minus128.manifest, {
                verifiable: { programHash: mixed.programHash },
            }),
            "PROGRAM_HASH_MISMATCH",
        );
        expect(shouldRetry(err)).to.equal(false);
        expect(err.message).to.include(minus128.programHash).and.to.include(mixed.programHash);
        expect(executor.has("wrong program")).to.equal(false);
        await rejection(executor.run("wrong program", input(new Array<number>(K).fill(1))), "MODEL_NOT_LOADED");
    });

    it("refuses for good a model whose worst-case dispute exceeds the resolver's maxDisputeGas (DISPUTE_TOO_EXPENSIVE)", async function () {
        const mlp = integerMlpModel({ widths: [4, 8, 3] });
        const { program, programHash } = compileModel(mlp.onnx, mlp.manifest);
        const disputeGas = disputeGasBound(program);
        const err = await rejection(
            executor.load("too dear", mlp.onnx, mlp.manifest, {
                verifiable: { programHash, maxDisputeGas: disputeGas - 1n },
            }),
            "DISPUTE_TOO_EXPENSIVE",
        );
        expect(shouldRetry(err)).to.equal(false);
        expect(err.message)
            .to.include(`${disputeGas} gas`)
            .and.to.include(`maxDisputeGas (${disputeGas - 1n})`);
        expect(executor.has("too dear")).to.equal(false);
        // At the bound exactly, it is served.
        await executor.load("just fits", mlp.onnx, mlp.manifest, {
            verifiable: { programHash, maxDisputeGas: disputeGas },
        });
        expect(executor.isVerifiable("just fits")).to.equal(true);
    });

    it("refuses for good a model registered for re-execution but outside the verifiable subset", async function () {
        const tiny = tinyIntegerModel(); // ReduceSum and int32 inputs: not in the subset
        const err = await rejection(
            executor.load("tiny", tiny.onnx, tiny.manifest, { verifiable: { programHash: ZeroHash } }),
            "MODEL_NOT_VERIFIABLE",
        );
        expect(shouldRetry(err)).to.equal(false);
        expect(err.message).to.match(/outside the verifiable subset/);
        expect(executor.has("tiny")).to.equal(false);
    });

    it("`reference` refuses a model that was not loaded as verifiable", async function () {
        await executor.load("plain", minus128.onnx, minus128.manifest);
        expect(executor.isVerifiable("plain")).to.equal(false);
        await rejection(executor.reference("plain", input(new Array<number>(K).fill(1))), "MODEL_NOT_VERIFIABLE");
        // A plain model's run is onnxruntime's alone, with no reference check.
        expect((await executor.run("plain", input(new Array<number>(K).fill(1)))).referenceMismatch).to.equal(
            undefined,
        );
    });
});

describe("oracle/runtime/inference (reference check)", function () {
    this.timeout(60_000);

    it("submits the reference result and reports onnxruntime's when they disagree (injected disagreement)", async function () {
        const served = saturatingModel(() => -128);
        // Same inputs and outputs, other weights: its reference result differs from onnxruntime's on `served`.
        const other = saturatingModel((i) => (i % 2 === 0 ? 127 : -1));
        const model = await loadModel("m", served.onnx, served.manifest, 1, { programHash: served.programHash });
        try {
            const disagreeing = { ...model, reference: loadVerifiableModel(other.onnx, other.manifest) };
            const bytes = saturatingInputs()[0]!;
            const onnxOnly = await executeModel({ ...model, reference: undefined }, bytes, 30_000);
            const outcome = await executeModel(disagreeing, bytes, 30_000);
            const want = runVerifiable(disagreeing.reference, bytes);
            if (outcome.kind !== "result" || onnxOnly.kind !== "result") throw new Error("expected results");
            expect(want.outputHash).not.to.equal(onnxOnly.outputHash);
            expect(outcome.resultCode).to.equal(want.resultCode);
            expect(outcome.outputHash).to.equal(want.outputHash);
            expect(Buffer.from(outcome.output).equals(Buffer.from(want.output))).to.equal(true);
            expect(outcome.referenceMismatch).to.deep.equal({
                resultCode: onnxOnly.resultCode,
                outputHash: onnxOnly.outputHash,
            });

            // Agreement: onnxruntime's result as it is, no mismatch.
            const agreeing = await executeModel(model, bytes, 30_000);
            if (agreeing.kind !== "result") throw new Error("expected a result");
            expect(agreeing.referenceMismatch).to.equal(undefined);
            expect(agreeing.outputHash).to.equal(
                runVerifiable(loadVerifiableModel(served.onnx, served.manifest), bytes).outputHash,
            );
        } finally {
            await model.session.release();
        }
    });
});
