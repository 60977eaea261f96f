import { expect } from "chai";
import { keccak256, toUtf8Bytes } from "ethers";
import { onnx } from "onnx-proto";
import * as ort from "onnxruntime-node";
import {
    MANIFEST_METADATA_KEY,
    ManifestError,
    ModelFormatError,
    embedManifest,
    extractManifest,
    manifestHash,
    parseManifest,
    readOnnxMetadata,
    wireDType,
} from "../../../oracle/src/protocol/manifest";
import { MAX_DECIMALS } from "../../../oracle/src/protocol/fixedPoint";
import { buildOnnxModel } from "../../../oracle/src/toolkit/onnxGraph";
import { DType } from "../../../oracle/src/protocol/tensorCodec";
import { PermanentError } from "../../../oracle/src/internal/errors";

const EXAMPLE = JSON.stringify({
    version: 1,
    inputs: [{ name: "features", dtype: "int32", shape: [1, 4], onnxType: "float32", decimals: 4 }],
    outputs: [{ name: "score", dtype: "int64", shape: [1, 1], onnxType: "float32", decimals: 6 }],
});

/** A manifest with one input and one output, overridable per field. */
function manifestWith(input: Record<string, unknown>, extra: Record<string, unknown> = {}): string {
    return JSON.stringify({
        version: 1,
        inputs: [{ name: "x", dtype: "int32", shape: [1, 4], ...input }],
        outputs: [{ name: "y", dtype: "int32", shape: [1] }],
        ...extra,
    });
}

/** The error `fn` throws, asserted to be a ManifestError with `code`. */
function manifestError(fn: () => unknown, code = "INVALID_MANIFEST"): ManifestError {
    try {
        fn();
    } catch (err) {
        expect(err).to.be.instanceOf(ManifestError);
        expect(err).to.be.instanceOf(PermanentError);
        expect((err as ManifestError).code).to.equal(code);
        return err as ManifestError;
    }
    throw new Error("expected a ManifestError");
}

/** A small valid ONNX model (y = Relu(x)), with optional metadata. */
function reluModel(metadata?: Record<string, string>): Uint8Array {
    return buildOnnxModel({
        inputs: [{ name: "x", type: "float32", shape: [1, 4] }],
        outputs: [{ name: "y", type: "float32", shape: [1, 4] }],
        nodes: [{ opType: "Relu", inputs: ["x"], outputs: ["y"] }],
        ...(metadata === undefined ? {} : { metadata }),
    });
}

describe("oracle/protocol/manifest", function () {
    describe("parseManifest", function () {
        it("parses the documented example", function () {
            const manifest = parseManifest(EXAMPLE);
            expect(manifest).to.deep.equal({
                version: 1,
                inputs: [{ name: "features", dtype: "int32", shape: [1, 4], onnxType: "float32", decimals: 4 }],
                outputs: [{ name: "score", dtype: "int64", shape: [1, 1], onnxType: "float32", decimals: 6 }],
            });
            expect(wireDType(manifest.inputs[0]!)).to.equal(DType.INT32);
            expect(wireDType(manifest.outputs[0]!)).to.equal(DType.INT64);
            expect(Object.isFrozen(manifest) && Object.isFrozen(manifest.inputs[0]!.shape)).to.be.true;
        });

        it("defaults onnxType to the wire dtype and accepts every wire dtype, scalars and rank 8", function () {
            for (const dtype of ["uint8", "int8", "uint16", "int16", "int32", "int64", "bool", "uint32"]) {
                const manifest = parseManifest(manifestWith({ dtype, shape: [] }));
                expect(manifest.inputs[0]).to.deep.equal({ name: "x", dtype, shape: [], onnxType: dtype });
            }
            const rank8 = parseManifest(manifestWith({ shape: [1, 2, 1, 2, 1, 2, 1, 2] }));
            expect(rank8.inputs[0]!.shape).to.have.length(8);
            // No inputs is allowed (a constant model); at least one output is not optional.
            expect(parseManifest(manifestWith({}, { inputs: [] })).inputs).to.deep.equal([]);
        });

        it("accepts float32 on every integer wire dtype with decimals from 0 to MAX_DECIMALS", function () {
            for (const dtype of ["uint8", "int8", "uint16", "int16", "int32", "int64", "uint32"]) {
                for (const decimals of [0, MAX_DECIMALS]) {
                    const spec = parseManifest(manifestWith({ dtype, onnxType: "float32", decimals })).inputs[0]!;
                    expect(spec.decimals).to.equal(decimals);
                }
            }
        });

        const refusals: [string, string, RegExp][] = [
            [
                "float32 without decimals",
                manifestWith({ onnxType: "float32" }),
                /^Invalid manifest: inputs\[0\]\.decimals: required when onnxType is float32$/,
            ],
            [
                "decimals on an integer tensor",
                manifestWith({ decimals: 2 }),
                /inputs\[0\]\.decimals: only allowed when onnxType is float32/,
            ],
            [
                "an integer onnxType other than the wire dtype",
                manifestWith({ onnxType: "int64" }),
                /inputs\[0\]\.onnxType: an integer or bool onnxType must equal dtype \(int32\), got int64/,
            ],
            [
                "float32 on a bool wire dtype",
                manifestWith({ dtype: "bool", onnxType: "float32", decimals: 0 }),
                /inputs\[0\]\.dtype: a float32 tensor needs an integer wire dtype, not bool/,
            ],
            [
                "decimals above MAX_DECIMALS",
                manifestWith({ onnxType: "float32", decimals: 19 }),
                /inputs\[0\]\.decimals/,
            ],
            ["fractional decimals", manifestWith({ onnxType: "float32", decimals: 1.5 }), /inputs\[0\]\.decimals/],
            ["an unknown dtype", manifestWith({ dtype: "float32" }), /inputs\[0\]\.dtype: Invalid option/],
            ["an unknown onnxType", manifestWith({ onnxType: "float64" }), /inputs\[0\]\.onnxType/],
            ["a zero dim", manifestWith({ shape: [1, 0] }), /inputs\[0\]\.shape\[1\]/],
            ["a symbolic dim", manifestWith({ shape: ["batch", 4] }), /inputs\[0\]\.shape\[0\]/],
            ["a fractional dim", manifestWith({ shape: [1.5] }), /inputs\[0\]\.shape\[0\]/],
            [
                "rank 9",
                manifestWith({ shape: [1, 1, 1, 1, 1, 1, 1, 1, 1] }),
                /inputs\[0\]\.shape: rank must be at most 8/,
            ],
            [
                "more than 2^24 elements",
                manifestWith({ shape: [4096, 4097] }),
                /inputs\[0\]\.shape: 16781312 elements, the tensor encoding holds at most 16777216/,
            ],
            ["an empty name", manifestWith({ name: "" }), /inputs\[0\]\.name: must be a non-empty string/],
            ["an unknown tensor field", manifestWith({ scale: 3 }), /inputs\[0\]\.scale: unknown field/],
            [
                "an unknown top-level field",
                manifestWith({}, { model: "x" }),
                /^Invalid manifest: model: unknown field$/,
            ],
            ["version 2", manifestWith({}, { version: 2 }), /version/],
            ["no outputs", manifestWith({}, { outputs: [] }), /outputs: at least one output is required/],
            [
                "a missing shape",
                JSON.stringify({ version: 1, inputs: [], outputs: [{ name: "y", dtype: "int8" }] }),
                /outputs\[0\]\.shape/,
            ],
            [
                "duplicate input names",
                JSON.stringify({
                    version: 1,
                    inputs: [
                        { name: "a", dtype: "int8", shape: [1] },
                        { name: "a", dtype: "int8", shape: [2] },
                    ],
                    outputs: [{ name: "a", dtype: "int8", shape: [1] }],
                }),
                /inputs\[1\]\.name: duplicate name "a" \(also inputs\[0\]\)/,
            ],
            [
                "duplicate output names",
                JSON.stringify({
                    version: 1,
                    inputs: [],
                    outputs: [
                        { name: "y", dtype: "int8", shape: [1] },
                        { name: "y", dtype: "int8", shape: [1] },
                    ],
                }),
                /outputs\[1\]\.name: duplicate name "y"/,
            ],
            ["not JSON", "{ version: 1", /^Invalid manifest: not JSON: /],
            ["a JSON array", "[]", /^Invalid manifest: /],
        ];
        for (const [what, json, message] of refusals) {
            it(`refuses ${what}`, function () {
                expect(manifestError(() => parseManifest(json)).message).to.match(message);
            });
        }

        describe("range", function () {
            const withRange = (dtype: string, range: unknown, where: "inputs" | "outputs" = "inputs") =>
                JSON.stringify({
                    version: 1,
                    inputs: where === "inputs" ? [{ name: "x", dtype, shape: [2], range }] : [],
                    outputs: [{ name: "y", dtype, shape: [2], ...(where === "outputs" ? { range } : {}) }],
                });

            it("parses a declared input range into bigints, decimal strings included", function () {
                expect(parseManifest(withRange("int8", [-5, 7])).inputs[0]!.range).to.deep.equal([-5n, 7n]);
                const big = parseManifest(withRange("int64", ["-9223372036854775808", "9007199254740993"]));
                expect(big.inputs[0]!.range).to.deep.equal([-(2n ** 63n), 9007199254740993n]);
                expect(parseManifest(withRange("uint8", [0, 255])).inputs[0]!.range).to.deep.equal([0n, 255n]);
            });

            const bad: [string, string, RegExp][] = [
                ["min above max", withRange("int8", [3, 2]), /inputs\[0\]\.range: min 3 is above max 2/],
                ["a range beyond the dtype", withRange("int8", [-129, 0]), /not within the int8 range \[-128, 127\]/],
                ["a range on a bool", withRange("bool", [0, 1]), /a bool tensor takes no range/],
                ["a range on an output", withRange("int8", [0, 1], "outputs"), /outputs\[0\]\.range: only inputs/],
                ["an unsafe number", withRange("int64", [0, 2 ** 60]), /range\[1\]/],
                ["a non-integer string", withRange("int32", ["1.5", "2"]), /range\[0\]/],
            ];
            for (const [what, json, message] of bad) {
                it(`refuses ${what}`, function () {
                    expect(manifestError(() => parseManifest(json)).message).to.match(message);
                });
            }
        });

        it("names every bad field at once", function () {
            const json = JSON.stringify({
                version: 1,
                inputs: [{ name: "x", dtype: "int32", shape: [1], onnxType: "float32" }],
                outputs: [{ name: "y", dtype: "int32", shape: [1], decimals: 3 }],
            });
            const { message } = manifestError(() => parseManifest(json));
            expect(message).to.contain("inputs[0].decimals: required when onnxType is float32");
            expect(message).to.contain("outputs[0].decimals: only allowed when onnxType is float32");
        });
    });

    describe("manifestHash", function () {
        it("is keccak256 of the exact UTF-8 string, whitespace and all", function () {
            expect(manifestHash(EXAMPLE)).to.equal(keccak256(toUtf8Bytes(EXAMPLE)));
            const pretty = JSON.stringify(JSON.parse(EXAMPLE), null, 2);
            expect(manifestHash(pretty)).to.not.equal(manifestHash(EXAMPLE));
            expect(parseManifest(pretty)).to.deep.equal(parseManifest(EXAMPLE));
            // Non-ASCII names hash their UTF-8 bytes.
            const unicode = manifestWith({ name: "größe" });
            expect(manifestHash(unicode)).to.equal(keccak256(Buffer.from(unicode, "utf8")));
        });
    });

    describe("readOnnxMetadata", function () {
        it("returns the model's metadata_props", function () {
            const metadata = readOnnxMetadata(reluModel({ author: "verity", [MANIFEST_METADATA_KEY]: EXAMPLE }));
            expect([...metadata.entries()]).to.deep.equal([
                ["author", "verity"],
                [MANIFEST_METADATA_KEY, EXAMPLE],
            ]);
            expect(readOnnxMetadata(reluModel()).size).to.equal(0);
        });

        it("refuses bytes that are not an ONNX model (ModelFormatError MODEL_FORMAT)", function () {
            const notModels = [
                new Uint8Array(0),
                Uint8Array.from([0xde, 0xad, 0xbe, 0xef]),
                new TextEncoder().encode("this is not an onnx model"),
                onnx.ModelProto.encode({ irVersion: 8 }).finish(), // decodes, but has no graph
            ];
            for (const bytes of notModels) {
                expect(() => readOnnxMetadata(bytes))
                    .to.throw(ModelFormatError, /not an ONNX model/)
                    .with.property("code", "MODEL_FORMAT");
            }
        });

        it("refuses a key that appears twice", function () {
            const model = reluModel({ [MANIFEST_METADATA_KEY]: EXAMPLE });
            const again = onnx.ModelProto.encode({
                metadataProps: [{ key: MANIFEST_METADATA_KEY, value: EXAMPLE }],
            }).finish();
            const doubled = Buffer.concat([model, again]);
            expect(() => readOnnxMetadata(doubled)).to.throw(ModelFormatError, /appears twice/);
        });
    });

    describe("embedManifest and extractManifest", function () {
        it("round-trips: the embedded manifest is extracted under its hash, and the model still runs", async function () {
            const model = embedManifest(reluModel({ author: "verity" }), EXAMPLE);
            expect(extractManifest(model, manifestHash(EXAMPLE))).to.deep.equal(parseManifest(EXAMPLE));
            // The hash is compared case-insensitively.
            expect(extractManifest(model, manifestHash(EXAMPLE).toUpperCase().replace("0X", "0x"))).to.deep.equal(
                parseManifest(EXAMPLE),
            );
            expect(readOnnxMetadata(model).get("author")).to.equal("verity");
            const session = await ort.InferenceSession.create(model);
            const { y } = await session.run({ x: new ort.Tensor("float32", Float32Array.of(-1, 2, -3, 4), [1, 4]) });
            expect(Array.from(y!.data as Float32Array)).to.deep.equal([0, 2, 0, 4]);
            await session.release();
        });

        it("replaces an existing manifest, keeping the other entries and their order", function () {
            const other = manifestWith({});
            const once = embedManifest(reluModel({ a: "1", [MANIFEST_METADATA_KEY]: EXAMPLE, b: "2" }), other);
            const decoded = onnx.ModelProto.decode(once);
            expect(decoded.metadataProps.map((e) => [e.key, e.value])).to.deep.equal([
                ["a", "1"],
                ["b", "2"],
                [MANIFEST_METADATA_KEY, other],
            ]);
            // Embedding the same manifest again changes nothing.
            expect(Buffer.from(embedManifest(once, other)).equals(Buffer.from(once))).to.be.true;
        });

        it("keeps fields the bundled ONNX schema does not know, byte for byte", function () {
            // Field 99 of ModelProto, length-delimited "future": unknown to onnx-proto 8 (ONNX 1.10). The tag
            // (99 << 3) | 2 = 794 is the two-byte varint 0x9a 0x06.
            const unknownField = Uint8Array.from([0x9a, 0x06, 6, ...new TextEncoder().encode("future")]);
            const model = Buffer.concat([reluModel(), unknownField]);
            const embedded = embedManifest(model, EXAMPLE);
            expect(Buffer.from(embedded).includes(Buffer.from(unknownField))).to.be.true;
            expect(Buffer.from(embedded.subarray(0, model.length)).equals(model)).to.be.true;
        });

        it("refuses to embed an invalid manifest or into bytes that are not a model", function () {
            manifestError(() => embedManifest(reluModel(), manifestWith({ onnxType: "float32" })));
            expect(() => embedManifest(Uint8Array.from([1, 2, 3]), EXAMPLE)).to.throw(ModelFormatError);
        });

        it("says so when the model carries no manifest (MANIFEST_NOT_FOUND)", function () {
            const err = manifestError(() => extractManifest(reluModel(), manifestHash(EXAMPLE)), "MANIFEST_NOT_FOUND");
            expect(err.message).to.contain(`"${MANIFEST_METADATA_KEY}"`);
        });

        it("refuses a manifest that is not the registered one, naming both hashes (MANIFEST_HASH_MISMATCH)", function () {
            const other = manifestWith({});
            const model = embedManifest(reluModel(), other);
            const err = manifestError(() => extractManifest(model, manifestHash(EXAMPLE)), "MANIFEST_HASH_MISMATCH");
            expect(err.message).to.contain(`expected ${manifestHash(EXAMPLE)}`);
            expect(err.message).to.contain(`actual ${manifestHash(other)}`);
        });

        it("refuses an embedded manifest that matches its hash but does not parse (INVALID_MANIFEST)", function () {
            const bad = manifestWith({ onnxType: "float32" });
            const model = reluModel({ [MANIFEST_METADATA_KEY]: bad });
            const err = manifestError(() => extractManifest(model, manifestHash(bad)));
            expect(err.message).to.contain("inputs[0].decimals");
        });
    });
});
