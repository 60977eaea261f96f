import { expect } from "chai";
import fc from "fast-check";
import { onnx } from "onnx-proto";
import { integerMlpModel } from "../../../models/examples";
import { type InitializerSpec, type NodeSpec } from "../../../oracle/src/toolkit/onnxGraph";
import { runGraph, type IntTensor } from "../../../oracle/src/verify/reference";
import { analyseModel, MAX_OPSET, MIN_OPSET, SubsetError } from "../../../oracle/src/verify/subset";
import { loadVerifiableModel, runVerifiable } from "../../../oracle/src/verify/execute";
import { DType, encodeTensors } from "../../../oracle/src/protocol/tensorCodec";
import { graphModel } from "./graphs";

function subsetError(fn: () => unknown): SubsetError {
    try {
        fn();
    } catch (err) {
        expect(err).to.be.instanceOf(SubsetError);
        return err as SubsetError;
    }
    expect.fail("expected a SubsetError");
}

const i32 = (name: string, dims: number[], data: number[]): InitializerSpec => ({
    name,
    dims,
    data: Int32Array.from(data),
});

/** The model with its ModelProto edited (what buildOnnxModel cannot write: a missing opset_import, ...). */
function edited(model: Uint8Array, edit: (proto: onnx.ModelProto) => void): Uint8Array {
    const proto = onnx.ModelProto.decode(model);
    edit(proto);
    return onnx.ModelProto.encode(proto).finish();
}

/** y = x + c over int32 [2, 2] + [2] (c an initializer), in opset `opset`, with `attributes` on the Add. */
function addModel(opset?: number, attributes: NodeSpec["attributes"] = {}): Uint8Array {
    return graphModel({
        inputs: [{ name: "x", type: "int32", shape: [2, 2], range: [-100, 100] }],
        outputs: [{ name: "y", type: "int32", shape: [2, 2] }],
        initializers: [i32("c", [2], [1, 2])],
        nodes: [
            {
                opType: "Add",
                name: "add1",
                inputs: ["x", "c"],
                outputs: ["y"],
                attributes,
            },
        ],
        ...(opset === undefined ? {} : { opset }),
    });
}

describe("verify/subset (analyseModel)", function () {
    it("accepts an integer MLP and counts its ops and multiply-accumulates", function () {
        const analysis = analyseModel(integerMlpModel({ widths: [6, 5, 4, 3], batch: 2 }).onnx);
        expect(analysis.macs).to.equal(2 * (6 * 5 + 5 * 4 + 4 * 3));
        expect(analysis.opCounts).to.deep.equal({
            MatMulInteger: 3,
            Add: 3,
            Relu: 2,
            Div: 2,
            Clip: 2,
            Cast: 2,
            ArgMax: 1,
        });
        expect(analysis.outputs.map((o) => [o.name, o.dtype, o.shape])).to.deep.equal([
            ["label", "int64", [2]],
            ["scores", "int32", [2, 3]],
        ]);
        // ArgMax's interval is the index range of the reduced axis.
        expect(analysis.outputs[0]!.lo).to.deep.equal([0n, 0n]);
        expect(analysis.outputs[0]!.hi).to.deep.equal([2n, 2n]);
    });

    it("computes exact MatMulInteger bounds from the weights and the declared input range", function () {
        const model = graphModel({
            inputs: [{ name: "x", type: "int8", shape: [1, 2], range: [-3, 5] }],
            outputs: [{ name: "y", type: "int32", shape: [1, 2] }],
            initializers: [{ name: "w", dims: [2, 2], data: Int8Array.from([2, -1, -4, 3]) }],
            nodes: [{ opType: "MatMulInteger", inputs: ["x", "w"], outputs: ["y"] }],
        });
        const [y] = analyseModel(model).outputs;
        // Column 0: x0 * 2 in [-6, 10], x1 * -4 in [-20, 12]; column 1: x0 * -1 in [-5, 3], x1 * 3 in [-9, 15].
        expect(y!.lo).to.deep.equal([-26n, -14n]);
        expect(y!.hi).to.deep.equal([22n, 18n]);
    });

    const refusals: [string, () => Uint8Array, string, RegExp][] = [
        [
            "an opset-6 Add with the legacy broadcast = 1, axis = 0 (c would add per row, not per column)",
            () => addModel(6, { broadcast: { int: 1 }, axis: { int: 0 } }),
            "UNSUPPORTED_OPSET",
            /^the model's ai\.onnx opset is 6; the subset follows opsets 14 to 26 \(older operator definitions differ/,
        ],
        [
            "an opset-11 ArgMax with select_last_index (the attribute appears at 12)",
            () =>
                graphModel({
                    inputs: [{ name: "x", type: "int8", shape: [1, 3] }],
                    outputs: [{ name: "y", type: "int64", shape: [1, 1] }],
                    nodes: [
                        {
                            opType: "ArgMax",
                            inputs: ["x"],
                            outputs: ["y"],
                            attributes: { axis: { int: 1 }, select_last_index: { int: 1 } },
                        },
                    ],
                    opset: 11,
                }),
            "UNSUPPORTED_OPSET",
            /^the model's ai\.onnx opset is 11; the subset follows opsets 14 to 26/,
        ],
        [
            "an opset-6 Clip with its bounds as attributes (inputs only from 11)",
            () =>
                graphModel({
                    inputs: [{ name: "x", type: "int32", shape: [3] }],
                    outputs: [{ name: "y", type: "int32", shape: [3] }],
                    nodes: [
                        {
                            opType: "Clip",
                            inputs: ["x"],
                            outputs: ["y"],
                            attributes: { min: { float: -1 }, max: { float: 1 } },
                        },
                    ],
                    opset: 6,
                }),
            "UNSUPPORTED_OPSET",
            /^the model's ai\.onnx opset is 6; the subset follows opsets 14 to 26/,
        ],
        [
            "opset 13, below the first with int8 Add and integer Relu",
            () => addModel(13),
            "UNSUPPORTED_OPSET",
            /^the model's ai\.onnx opset is 13; the subset follows opsets 14 to 26/,
        ],
        [
            "an opset newer than the subset has been checked against",
            () => addModel(27),
            "UNSUPPORTED_OPSET",
            /^the model's ai\.onnx opset is 27; the subset follows opsets 14 to 26 \(newer ones have not been checked/,
        ],
        [
            "a model with no opset_import",
            () => edited(addModel(), (proto) => (proto.opsetImport = [])),
            "UNSUPPORTED_OPSET",
            /^the model must import one opset of the default domain \(ai\.onnx\), its opset_import has nothing$/,
        ],
        [
            "a model importing only another domain",
            () =>
                edited(
                    addModel(),
                    (proto) =>
                        (proto.opsetImport = [
                            onnx.OperatorSetIdProto.create({
                                domain: "ai.onnx.ml",
                                version: 3,
                            }),
                        ]),
                ),
            "UNSUPPORTED_OPSET",
            /its opset_import has ai\.onnx\.ml 3$/,
        ],
        [
            'a model importing the default domain twice (as "" and as ai.onnx)',
            () =>
                edited(addModel(), (proto) =>
                    proto.opsetImport.push(onnx.OperatorSetIdProto.create({ domain: "ai.onnx", version: 13 })),
                ),
            "UNSUPPORTED_OPSET",
            /its opset_import has "" 17, ai\.onnx 13$/,
        ],
        [
            "a node of another imported domain",
            () =>
                edited(addModel(), (proto) => {
                    proto.opsetImport.push(
                        onnx.OperatorSetIdProto.create({
                            domain: "com.microsoft",
                            version: 1,
                        }),
                    );
                    proto.graph!.node![0]!.domain = "com.microsoft";
                }),
            "UNSUPPORTED_OP",
            /^node 0 \(add1\) \(Add\): domain com\.microsoft is not in the verifiable subset/,
        ],
        [
            "an attribute the op does not have (the legacy broadcast on an opset-17 Add)",
            () => addModel(17, { broadcast: { int: 1 } }),
            "UNSUPPORTED_ATTRIBUTE",
            /^node 0 \(add1\) \(Add\): attribute "broadcast" is not part of the subset \(Add takes none\)$/,
        ],
        [
            "an unknown attribute on an op that has some",
            () =>
                graphModel({
                    inputs: [{ name: "x", type: "int8", shape: [1, 3] }],
                    outputs: [{ name: "y", type: "int64", shape: [1] }],
                    nodes: [
                        {
                            opType: "ArgMax",
                            name: "am",
                            inputs: ["x"],
                            outputs: ["y"],
                            attributes: {
                                axis: { int: 1 },
                                keepdims: { int: 0 },
                                stable: { int: 1 },
                            },
                        },
                    ],
                }),
            "UNSUPPORTED_ATTRIBUTE",
            /^node 0 \(am\) \(ArgMax\): attribute "stable" is not part of the subset \(ArgMax takes axis, keepdims, select_last_index\)$/,
        ],
        [
            "an attribute of the wrong type (a FLOAT axis)",
            () =>
                graphModel({
                    inputs: [{ name: "x", type: "int8", shape: [1, 3] }],
                    outputs: [{ name: "y", type: "int64", shape: [1, 1] }],
                    nodes: [
                        {
                            opType: "ArgMax",
                            inputs: ["x"],
                            outputs: ["y"],
                            attributes: { axis: { float: 1 } },
                        },
                    ],
                }),
            "UNSUPPORTED_ATTRIBUTE",
            /\(ArgMax\): attribute "axis" is FLOAT, the subset takes INT$/,
        ],
        [
            "an ONNX attribute the subset does not implement: Reshape allowzero = 1",
            () =>
                graphModel({
                    inputs: [{ name: "x", type: "int32", shape: [2, 1] }],
                    outputs: [{ name: "y", type: "int32", shape: [2] }],
                    initializers: [{ name: "s", dims: [1], data: BigInt64Array.from([2n]) }],
                    nodes: [
                        {
                            opType: "Reshape",
                            inputs: ["x", "s"],
                            outputs: ["y"],
                            attributes: { allowzero: { int: 1 } },
                        },
                    ],
                }),
            "UNSUPPORTED_ATTRIBUTE",
            /\(Reshape\): attribute "allowzero" = 1 is not part of the subset \(it takes 0\)$/,
        ],
        [
            "an ONNX attribute the subset does not implement: Cast saturate (opset 19+, float8 only)",
            () =>
                graphModel({
                    inputs: [{ name: "x", type: "int8", shape: [2] }],
                    outputs: [{ name: "y", type: "int32", shape: [2] }],
                    nodes: [
                        {
                            opType: "Cast",
                            inputs: ["x"],
                            outputs: ["y"],
                            attributes: { to: { int: 6 }, saturate: { int: 1 } },
                        },
                    ],
                    opset: 19,
                }),
            "UNSUPPORTED_ATTRIBUTE",
            /\(Cast\): attribute "saturate" is not part of the subset \(Cast takes to\)$/,
        ],
        [
            "a Constant given by value_int instead of a value tensor",
            () =>
                graphModel({
                    inputs: [{ name: "x", type: "int64", shape: [1], range: [0, 10] }],
                    outputs: [{ name: "y", type: "int64", shape: [1] }],
                    nodes: [
                        {
                            opType: "Constant",
                            inputs: [],
                            outputs: ["c"],
                            attributes: { value_int: { int: 3 } },
                        },
                        { opType: "Add", inputs: ["x", "c"], outputs: ["y"] },
                    ],
                }),
            "UNSUPPORTED_ATTRIBUTE",
            /^node 0 \(Constant_0\) \(Constant\): attribute "value_int" is not part of the subset \(Constant takes value\)$/,
        ],
        [
            "an attribute given twice",
            () =>
                edited(
                    graphModel({
                        inputs: [{ name: "x", type: "int8", shape: [1, 3] }],
                        outputs: [{ name: "y", type: "int64", shape: [1, 1] }],
                        nodes: [
                            {
                                opType: "ArgMax",
                                inputs: ["x"],
                                outputs: ["y"],
                                attributes: { axis: { int: 1 } },
                            },
                        ],
                    }),
                    (proto) => {
                        const attributes = proto.graph!.node![0]!.attribute!;
                        attributes.push(onnx.AttributeProto.create({ ...attributes[0]!, i: 0 }));
                    },
                ),
            "INVALID_NODE",
            /\(ArgMax\): attribute "axis" is given twice$/,
        ],
        [
            "an int64 Relu (onnxruntime has no kernel for it: the node could not load the model)",
            () =>
                graphModel({
                    inputs: [{ name: "x", type: "int64", shape: [2] }],
                    outputs: [{ name: "y", type: "int64", shape: [2] }],
                    nodes: [{ opType: "Relu", name: "r", inputs: ["x"], outputs: ["y"] }],
                }),
            "UNSUPPORTED_DTYPE",
            /^node 0 \(r\) \(Relu\): "x" is int64; Relu takes int8, int32$/,
        ],
        [
            "an int32 MatMulInteger B",
            () =>
                graphModel({
                    inputs: [{ name: "a", type: "int8", shape: [1, 2] }],
                    outputs: [{ name: "y", type: "int32", shape: [1, 2] }],
                    initializers: [i32("w", [2, 2], [1, 2, 3, 4])],
                    nodes: [{ opType: "MatMulInteger", inputs: ["a", "w"], outputs: ["y"] }],
                }),
            "UNSUPPORTED_DTYPE",
            /\(MatMulInteger\): B is int32; MatMulInteger's B takes int8, uint8$/,
        ],
        [
            "a Cast to float (to = 1)",
            () =>
                graphModel({
                    inputs: [{ name: "x", type: "int32", shape: [2] }],
                    outputs: [{ name: "y", type: "int32", shape: [2] }],
                    nodes: [
                        {
                            opType: "Cast",
                            inputs: ["x"],
                            outputs: ["y"],
                            attributes: { to: { int: 1 } },
                        },
                    ],
                }),
            "UNSUPPORTED_DTYPE",
            /\(Cast\): the target type 1 is outside the subset; Cast's to takes int8 \(3\), uint8 \(2\), int32 \(6\), int64 \(7\)$/,
        ],
        [
            "an op outside the subset, naming the node and the op",
            () =>
                graphModel({
                    inputs: [{ name: "x", type: "int32", shape: [2] }],
                    outputs: [{ name: "y", type: "int32", shape: [2] }],
                    nodes: [{ opType: "Neg", name: "negate", inputs: ["x"], outputs: ["y"] }],
                }),
            "UNSUPPORTED_OP",
            /^node 0 \(negate\) \(Neg\): op Neg is not in the verifiable subset/,
        ],
        [
            "a non-constant MatMulInteger B",
            () =>
                graphModel({
                    inputs: [
                        { name: "a", type: "int8", shape: [1, 2] },
                        { name: "b", type: "int8", shape: [2, 2] },
                    ],
                    outputs: [{ name: "y", type: "int32", shape: [1, 2] }],
                    nodes: [
                        {
                            opType: "MatMulInteger",
                            name: "mm",
                            inputs: ["a", "b"],
                            outputs: ["y"],
                        },
                    ],
                }),
            "NOT_CONSTANT",
            /node 0 \(mm\) \(MatMulInteger\): B must be a constant/,
        ],
        [
            "a runtime divisor",
            () =>
                graphModel({
                    inputs: [
                        { name: "a", type: "int32", shape: [2], range: [0, 10] },
                        { name: "b", type: "int32", shape: [2], range: [1, 10] },
                    ],
                    outputs: [{ name: "y", type: "int32", shape: [2] }],
                    nodes: [{ opType: "Div", inputs: ["a", "b"], outputs: ["y"] }],
                }),
            "NOT_CONSTANT",
            /node 0 \(Div_0\) \(Div\): the divisor B must be a constant/,
        ],
        [
            "a divisor with a zero",
            () =>
                graphModel({
                    inputs: [{ name: "a", type: "int32", shape: [2] }],
                    outputs: [{ name: "y", type: "int32", shape: [2] }],
                    initializers: [i32("d", [2], [3, 0])],
                    nodes: [{ opType: "Div", inputs: ["a", "d"], outputs: ["y"] }],
                }),
            "INVALID_NODE",
            /divisor element 1 is zero/,
        ],
        [
            "an Add that can overflow int8, naming the element and its interval",
            () =>
                graphModel({
                    inputs: [{ name: "a", type: "int8", shape: [2] }],
                    outputs: [{ name: "y", type: "int8", shape: [2] }],
                    initializers: [{ name: "one", dims: [], data: Int8Array.from([1]) }],
                    nodes: [
                        {
                            opType: "Add",
                            name: "inc",
                            inputs: ["a", "one"],
                            outputs: ["y"],
                        },
                    ],
                }),
            "OVERFLOW",
            /node 0 \(inc\) \(Add\): element 0 of "y" can reach \[-127, 128\], outside int8 \[-128, 127\]/,
        ],
        [
            "a Cast that could wrap",
            () =>
                graphModel({
                    inputs: [{ name: "a", type: "int32", shape: [1], range: [-200, 200] }],
                    outputs: [{ name: "y", type: "int8", shape: [1] }],
                    nodes: [
                        {
                            opType: "Cast",
                            inputs: ["a"],
                            outputs: ["y"],
                            attributes: { to: { int: 3 } },
                        },
                    ],
                }),
            "OVERFLOW",
            /\(Cast\): element 0 of "y" can reach \[-200, 200\], outside int8/,
        ],
        [
            "a Gather index that may leave its axis",
            () =>
                graphModel({
                    inputs: [{ name: "i", type: "int64", shape: [1], range: [-1, 3] }],
                    outputs: [{ name: "y", type: "int32", shape: [1] }],
                    initializers: [i32("table", [3], [10, 20, 30])],
                    nodes: [{ opType: "Gather", inputs: ["table", "i"], outputs: ["y"] }],
                }),
            "OVERFLOW",
            /index 0 can reach \[-1, 3\], outside \[-3, 2\]/,
        ],
        [
            "a float input",
            () =>
                graphModel({
                    inputs: [{ name: "x", type: "float32", shape: [1] }],
                    outputs: [{ name: "y", type: "float32", shape: [1] }],
                    nodes: [{ opType: "Relu", inputs: ["x"], outputs: ["y"] }],
                }),
            "MANIFEST",
            /./,
        ],
        [
            "an int16 input",
            () =>
                graphModel({
                    inputs: [{ name: "x", type: "int16", shape: [1] }],
                    outputs: [{ name: "y", type: "int16", shape: [1] }],
                    nodes: [{ opType: "Relu", inputs: ["x"], outputs: ["y"] }],
                }),
            "UNSUPPORTED_DTYPE",
            /manifest input 0 \("x"\) is int16/,
        ],
        [
            "a manifest output the graph computes with another shape",
            () =>
                graphModel({
                    inputs: [{ name: "x", type: "int32", shape: [2] }],
                    outputs: [{ name: "y", type: "int32", shape: [1, 2] }],
                    nodes: [{ opType: "Relu", inputs: ["x"], outputs: ["y"] }],
                }),
            "MANIFEST",
            /manifest output 0 \("y"\) has shape \[1, 2\], the graph computes \[2\]/,
        ],
    ];
    for (const [what, build, code, message] of refusals) {
        it(`rejects ${what} (${code})`, function () {
            let model: Uint8Array;
            try {
                model = build();
            } catch (err) {
                // A float input fails the manifest itself for verifiable use; that is still a refusal.
                expect(code).to.equal("MANIFEST");
                expect(String(err)).to.match(message);
                return;
            }
            const err = subsetError(() => analyseModel(model));
            expect(err.code).to.equal(code);
            expect(err.message).to.match(message);
        });
    }

    it(`accepts the ends of the opset range (${MIN_OPSET} and ${MAX_OPSET}) and the "ai.onnx" spelling of the domain`, function () {
        expect([MIN_OPSET, MAX_OPSET]).to.deep.equal([14, 26]);
        for (const opset of [MIN_OPSET, MAX_OPSET])
            expect(analyseModel(addModel(opset)).opCounts).to.deep.equal({ Add: 1 });
        const spelled = edited(addModel(), (proto) => (proto.opsetImport[0]!.domain = "ai.onnx"));
        expect(analyseModel(spelled).nodes).to.have.length(1);
    });

    it("names the node, the op and the attribute, and keeps node and op on the error", function () {
        const err = subsetError(() => analyseModel(addModel(17, { axis: { int: 0 } })));
        expect([err.code, err.node, err.op]).to.deep.equal(["UNSUPPORTED_ATTRIBUTE", "node 0 (add1)", "Add"]);
    });

    it("folds a Constant node into a value the reference evaluates too (runVerifiable answers OK)", function () {
        const model = graphModel({
            inputs: [{ name: "x", type: "int32", shape: [2], range: [-100, 100] }],
            outputs: [{ name: "y", type: "int32", shape: [2] }],
            nodes: [
                {
                    opType: "Constant",
                    inputs: [],
                    outputs: ["c"],
                    attributes: { value: { tensor: i32("c", [2], [11, -22]) } },
                },
                { opType: "Add", inputs: ["x", "c"], outputs: ["y"] },
            ],
        });
        expect(analyseModel(model).outputs[0]!.hi).to.deep.equal([111n, 78n]);
        const result = runVerifiable(
            loadVerifiableModel(model),
            encodeTensors([{ dtype: DType.INT32, shape: [2], data: [1n, 2n] }]),
        );
        expect(result.resultCode).to.equal(0);
        expect(result.output).to.deep.equal(encodeTensors([{ dtype: DType.INT32, shape: [2], data: [12n, -20n] }]));
    });

    it("rejects constants the program format cannot hold: rank above 8, an empty dim (TOO_LARGE)", function () {
        const gather = (dims: number[]) =>
            graphModel({
                inputs: [{ name: "i", type: "int64", shape: [], range: [0, 1] }],
                outputs: [{ name: "y", type: "int32", shape: dims.slice(1) }],
                initializers: [i32("t", dims, new Array<number>(dims.reduce((a, b) => a * b, 1)).fill(1))],
                nodes: [{ opType: "Gather", inputs: ["t", "i"], outputs: ["y"] }],
            });
        const rank9 = subsetError(() => analyseModel(gather([2, 1, 1, 1, 1, 1, 1, 1, 3])));
        expect(rank9.code).to.equal("TOO_LARGE");
        expect(rank9.message).to.match(/initializer t: rank 9 is above 8/);
        const empty = graphModel({
            inputs: [{ name: "x", type: "int32", shape: [2] }],
            outputs: [{ name: "y", type: "int32", shape: [2] }],
            initializers: [i32("c", [0], [])],
            nodes: [
                { opType: "Relu", inputs: ["x"], outputs: ["y"] },
                { opType: "Add", inputs: ["x", "c"], outputs: ["dead"] },
            ],
        });
        expect(subsetError(() => analyseModel(empty)).message).to.match(/initializer c: dim 0 is 0/);
    });

    it("uses the declared range: x * x passes for |x| <= 46340 and fails over the whole int32", function () {
        const square = (range?: [number, number]) =>
            graphModel({
                inputs: [{ name: "x", type: "int32", shape: [1], ...(range ? { range } : {}) }],
                outputs: [{ name: "y", type: "int32", shape: [1] }],
                nodes: [{ opType: "Mul", inputs: ["x", "x"], outputs: ["y"] }],
            });
        expect(analyseModel(square([-46340, 46340])).outputs[0]!.hi).to.deep.equal([46340n * 46340n]);
        expect(subsetError(() => analyseModel(square())).code).to.equal("OVERFLOW");
    });

    it("accepts a Cast once a Clip bounds its input", function () {
        const model = graphModel({
            inputs: [{ name: "a", type: "int32", shape: [1] }],
            outputs: [{ name: "y", type: "int8", shape: [1] }],
            initializers: [i32("lo", [], [-128]), i32("hi", [], [127])],
            nodes: [
                { opType: "Clip", inputs: ["a", "lo", "hi"], outputs: ["c"] },
                {
                    opType: "Cast",
                    inputs: ["c"],
                    outputs: ["y"],
                    attributes: { to: { int: 3 } },
                },
            ],
        });
        expect(analyseModel(model).outputs[0]!.lo).to.deep.equal([-128n]);
    });

    it("is sound: every output of random in-range inputs lies inside its interval (fast-check)", function () {
        this.timeout(60_000);
        fc.assert(
            fc.property(
                fc.array(fc.integer({ min: 1, max: 12 }), {
                    minLength: 2,
                    maxLength: 4,
                }),
                fc.integer({ min: 1, max: 3 }),
                fc.integer(),
                fc.infiniteStream(fc.integer({ min: -128, max: 127 })),
                (widths, batch, seed, values) => {
                    const model = integerMlpModel({ widths, batch, seed });
                    const analysis = analyseModel(model.onnx);
                    const n = batch * widths[0]!;
                    const x: IntTensor = {
                        dtype: "int8",
                        shape: [batch, widths[0]!],
                        data: [...values.take(n)].map(BigInt),
                    };
                    const outputs = runGraph(model.onnx, { x });
                    for (const facts of analysis.outputs) {
                        outputs[facts.name]!.data.forEach((v, i) => {
                            expect(v >= facts.lo[i]! && v <= facts.hi[i]!, `${facts.name}[${i}] = ${v}`).to.equal(true);
                        });
                    }
                },
            ),
            { numRuns: 150 },
        );
    });
});
