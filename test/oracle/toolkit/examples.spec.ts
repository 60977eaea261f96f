import { expect } from "chai";
import { keccak256 } from "ethers";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as prettier from "prettier";
import { Executor, ResultCode } from "../../../oracle/src/runtime/executor";
import { extractManifest, manifestHash } from "../../../oracle/src/protocol/manifest";
import { DType, decodeTensors, encodeTensors } from "../../../oracle/src/protocol/tensorCodec";
import {
    failingModel,
    heavyFloatModel,
    multiIOFloatModel,
    seededRandom,
    tinyIntegerModel,
    type ExampleModel,
} from "../../../models/examples";

const MODELS_DIR = join(__dirname, "../../../models");

describe("models/examples", function () {
    const builders: [string, () => ExampleModel][] = [
        ["tiny-int", tinyIntegerModel],
        ["multi-io-float", multiIOFloatModel],
        ["failing", failingModel],
        ["heavy (small)", () => heavyFloatModel({ layers: 2, width: 8, batch: 2, outputWidth: 3 })],
    ];

    it("build the same bytes every time, with the manifest embedded under its hash", function () {
        for (const [name, build] of builders) {
            const a = build();
            const b = build();
            expect(keccak256(a.onnx), name).to.equal(keccak256(b.onnx));
            expect(extractManifest(a.onnx, manifestHash(a.manifestJson)), name).to.deep.equal(a.manifest);
        }
    });

    it("match the committed models/*.onnx and *.manifest.json (rerun models/build.ts after a change)", function () {
        for (const [name, model] of [
            ["tiny-int", tinyIntegerModel()],
            ["multi-io-float", multiIOFloatModel()],
        ] as const) {
            const onnx = readFileSync(join(MODELS_DIR, `${name}.onnx`));
            expect(keccak256(onnx), `${name}.onnx`).to.equal(keccak256(model.onnx));
            const manifest = readFileSync(join(MODELS_DIR, `${name}.manifest.json`), "utf8");
            expect(manifest, `${name}.manifest.json`).to.equal(model.manifestJson);
            expect(manifestHash(manifest)).to.equal(manifestHash(model.manifestJson));
        }
    });

    it("write manifests that prettier leaves as they are (so the committed JSON passes format:check)", async function () {
        const options = (await prettier.resolveConfig(join(MODELS_DIR, "x.manifest.json"))) ?? {};
        for (const [name, build] of builders) {
            const { manifestJson } = build();
            const formatted = await prettier.format(manifestJson, { ...options, parser: "json" });
            expect(formatted, name).to.equal(manifestJson);
        }
    });

    it("heavyFloatModel has the asked-for shape and keeps its outputs bounded", async function () {
        const model = heavyFloatModel({ layers: 3, width: 64, batch: 4, outputWidth: 2 });
        expect(model.manifest.inputs).to.deep.equal([
            { name: "x", dtype: "int32", shape: [4, 64], onnxType: "float32", decimals: 4 },
        ]);
        expect(model.manifest.outputs).to.deep.equal([
            { name: "y", dtype: "int64", shape: [4, 2], onnxType: "float32", decimals: 4 },
        ]);
        const defaults = heavyFloatModel().manifest;
        expect(defaults.inputs[0]!.shape).to.deep.equal([16, 1024]);
        expect(defaults.outputs[0]!.shape).to.deep.equal([16, 4]);

        const executor = new Executor({ concurrency: 1, timeoutMs: 60_000 });
        try {
            await executor.load("heavy", model.onnx, model.manifest);
            const random = seededRandom(7);
            // Inputs at the edges of what a caller would send (±10.0) and at the int32 extremes.
            for (const bound of [100_000, 2 ** 31 - 1]) {
                const data = Array.from({ length: 4 * 64 }, () => BigInt(Math.round((2 * random() - 1) * bound)));
                const result = await executor.run(
                    "heavy",
                    encodeTensors([{ dtype: DType.INT32, shape: [4, 64], data }]),
                );
                expect(result.resultCode, result.reason).to.equal(ResultCode.OK);
                const [y] = decodeTensors(result.output);
                expect(y!.shape).to.deep.equal([4, 2]);
            }
        } finally {
            await executor.close();
        }
    });

    it("failingModel passes with goodInput and fails inside onnxruntime with badInput", async function () {
        const model = failingModel();
        const executor = new Executor({ concurrency: 1, timeoutMs: 60_000 });
        try {
            await executor.load("failing", model.onnx, model.manifest);
            expect((await executor.run("failing", model.goodInput)).resultCode).to.equal(ResultCode.OK);
            const bad = await executor.run("failing", model.badInput);
            expect(bad.resultCode).to.equal(ResultCode.MODEL_ERROR);
            expect(bad.reason).to.match(/^onnxruntime: /);
        } finally {
            await executor.close();
        }
    });
});
