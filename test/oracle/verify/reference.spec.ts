import { expect } from "chai";
import { onnx } from "onnx-proto";
import { buildOnnxModel } from "../../../oracle/src/toolkit/onnxGraph";
import {
    add,
    argMax,
    cast,
    clip,
    div,
    flatten,
    gather,
    intTensor,
    matMulInteger,
    max,
    min,
    mul,
    ReferenceExecutionError,
    relu,
    reshape,
    runGraph,
    sub,
    type IntDType,
    type IntTensor,
} from "../../../oracle/src/verify/reference";

const T = (dtype: IntDType, shape: number[], data: (number | bigint)[]): IntTensor => intTensor(dtype, shape, data);
const I32 = (shape: number[], data: (number | bigint)[]) => T("int32", shape, data);
const I64 = (shape: number[], data: (number | bigint)[]) => T("int64", shape, data);
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

function expectTensor(actual: IntTensor, dtype: IntDType, shape: number[], data: (number | bigint)[]): void {
    expect(actual.dtype).to.equal(dtype);
    expect(actual.shape).to.deep.equal(shape);
    expect(actual.data).to.deep.equal(data.map((v) => BigInt(v)));
}

function expectCode(fn: () => unknown, code: string, messagePart: string | RegExp): void {
    let thrown: unknown;
    try {
        fn();
    } catch (err) {
        thrown = err;
    }
    expect(thrown).to.be.instanceOf(ReferenceExecutionError);
    const err = thrown as ReferenceExecutionError;
    expect(err.code).to.equal(code);
    if (typeof messagePart === "string") expect(err.message).to.contain(messagePart);
    else expect(err.message).to.match(messagePart);
}

describe("verify/reference", function () {
    describe("MatMulInteger", function () {
        it("computes the ONNX documentation example (uint8, a_zero_point 12, b_zero_point 0)", function () {
            const a = T("uint8", [4, 3], [11, 7, 3, 10, 6, 2, 9, 5, 1, 8, 4, 0]);
            const b = T("uint8", [3, 2], [1, 4, 2, 5, 3, 6]);
            const y = matMulInteger(a, b, T("uint8", [], [12]), T("uint8", [], [0]));
            expectTensor(y, "int32", [4, 2], [-38, -83, -44, -98, -50, -113, -56, -128]);
        });

        it("applies a per-column b_zero_point (N-vector of a 2-D B, or [..., 1, N])", function () {
            const a = T("int8", [2, 2], [1, 2, 3, 4]);
            const b = T("uint8", [2, 2], [10, 20, 30, 40]);
            // B - [10, 20] per column = [[0, 0], [20, 20]]; A - 1 = [[0, 1], [2, 3]].
            const want = [20, 20, 60, 60];
            expectTensor(matMulInteger(a, b, T("int8", [], [1]), T("uint8", [2], [10, 20])), "int32", [2, 2], want);
            expectTensor(matMulInteger(a, b, T("int8", [1], [1]), T("uint8", [1, 2], [10, 20])), "int32", [2, 2], want);
            const b3 = T("uint8", [2, 2, 1], [5, 6, 7, 9]);
            // Batch 0: B - 5 = [[0], [1]]; batch 1: B - 7 = [[0], [2]]; A = [[1, 2], [3, 4]].
            const y = matMulInteger(a, b3, undefined, T("uint8", [2, 1, 1], [5, 7]));
            expectTensor(y, "int32", [2, 2, 1], [2, 4, 4, 8]);
        });

        it("refuses the zero-point shapes onnxruntime rejects (per-row a_zero_point, N-vector for a batched B)", function () {
            const a = T("int8", [2, 2], [1, 2, 3, 4]);
            const b = T("uint8", [2, 2], [10, 20, 30, 40]);
            expectCode(
                () => matMulInteger(a, b, T("int8", [2], [1, 3])),
                "UNSUPPORTED_INPUT",
                "a_zero_point of shape [2]",
            );
            expectCode(() => matMulInteger(a, b, T("int8", [2, 1], [1, 3])), "UNSUPPORTED_INPUT", "a_zero_point");
            const b3 = T("uint8", [2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8]);
            expectCode(
                () => matMulInteger(a, b3, undefined, T("uint8", [2], [1, 2])),
                "UNSUPPORTED_INPUT",
                "b_zero_point of shape [2]",
            );
            expectCode(
                () => matMulInteger(a, b3, undefined, T("uint8", [1, 1, 2], [1, 2])),
                "UNSUPPORTED_INPUT",
                "b_zero_point",
            );
            expectCode(() => matMulInteger(a, b, T("uint8", [], [1])), "INVALID_ARGUMENT", "a_zero_point is uint8");
        });

        it("multiplies int8 extremes and broadcasts a batch", function () {
            const a = T("int8", [2, 1, 2], [-128, -128, 127, -128]);
            const b = T("int8", [2, 1], [-128, 127]);
            expectTensor(matMulInteger(a, b), "int32", [2, 1, 1], [-128 * -128 + -128 * 127, 127 * -128 + -128 * 127]);
        });

        it("drops the promoted dim of 1-D operands", function () {
            const y = matMulInteger(T("uint8", [3], [1, 2, 3]), T("uint8", [3], [4, 5, 6]));
            expectTensor(y, "int32", [], [32]);
        });
    });

    describe("Add / Sub / Mul / Div", function () {
        it("broadcast [2, 3] with [3] and with a scalar", function () {
            const a = I32([2, 3], [1, 2, 3, 4, 5, 6]);
            expectTensor(add(a, I32([3], [10, 20, 30])), "int32", [2, 3], [11, 22, 33, 14, 25, 36]);
            expectTensor(sub(a, I32([], [1])), "int32", [2, 3], [0, 1, 2, 3, 4, 5]);
            expectTensor(mul(I32([2, 1], [2, 3]), I32([1, 3], [1, 2, 3])), "int32", [2, 3], [2, 4, 6, 3, 6, 9]);
        });

        it("reach the int32 extremes exactly without overflow", function () {
            expectTensor(add(I32([1], [2147483646]), I32([1], [1])), "int32", [1], [2147483647]);
            expectTensor(sub(I32([1], [-2147483647]), I32([1], [1])), "int32", [1], [-2147483648]);
        });

        it("divide truncating toward zero", function () {
            const y = div(I32([4], [7, -7, 7, -7]), I32([4], [2, 2, -2, -2]));
            expectTensor(y, "int32", [4], [3, -3, -3, 3]);
            expectTensor(div(I64([1], [-(2n ** 63n) + 1n]), I64([], [2])), "int64", [1], [-(2n ** 62n) + 1n]);
        });

        it("throw INTEGER_OVERFLOW naming the op instead of wrapping", function () {
            expectCode(() => add(I32([1], [2147483647]), I32([1], [1])), "INTEGER_OVERFLOW", /^Add: result 2147483648/);
            expectCode(() => sub(I64([1], [-(2n ** 63n)]), I64([1], [1])), "INTEGER_OVERFLOW", "Sub");
            expectCode(() => mul(I32([1], [65536]), I32([1], [65536])), "INTEGER_OVERFLOW", "Mul");
            expectCode(() => div(I32([1], [-2147483648]), I32([1], [-1])), "INTEGER_OVERFLOW", "Div");
            expectCode(() => sub(T("uint8", [1], [0]), T("uint8", [1], [1])), "INTEGER_OVERFLOW", "Sub: result -1");
            expectCode(() => mul(T("int8", [1], [-128]), T("int8", [1], [-1])), "INTEGER_OVERFLOW", "Mul: result 128");
        });

        it("throws DIVISION_BY_ZERO", function () {
            expectCode(() => div(I32([2], [1, 2]), I32([2], [1, 0])), "DIVISION_BY_ZERO", "Div");
        });

        it("rejects shapes that do not broadcast", function () {
            expectCode(() => add(I32([2], [1, 2]), I32([3], [1, 2, 3])), "INVALID_ARGUMENT", "do not broadcast");
        });
    });

    describe("Relu / Clip / Max / Min", function () {
        it("Relu zeroes negatives", function () {
            expectTensor(relu(T("int8", [4], [-128, -1, 0, 127])), "int8", [4], [0, 0, 0, 127]);
        });

        it("Clip follows the ONNX examples (min -1, max 1; one bound omitted; min > max gives max)", function () {
            const x = T("int8", [3], [-2, 0, 2]);
            expectTensor(clip(x, T("int8", [], [-1]), T("int8", [], [1])), "int8", [3], [-1, 0, 1]);
            expectTensor(clip(x, T("int8", [], [0])), "int8", [3], [0, 0, 2]);
            expectTensor(clip(x, undefined, T("int8", [], [0])), "int8", [3], [-2, 0, 0]);
            expectTensor(clip(x), "int8", [3], [-2, 0, 2]);
            expectTensor(clip(x, T("int8", [], [5]), T("int8", [], [1])), "int8", [3], [1, 1, 1]);
        });

        it("Max and Min follow the ONNX examples and broadcast", function () {
            const a = I32([3], [3, 2, 1]);
            const b = I32([3], [1, 4, 4]);
            const c = I32([3], [2, 5, 3]);
            expectTensor(max(a, b, c), "int32", [3], [3, 5, 4]);
            expectTensor(min(a, b, c), "int32", [3], [1, 2, 1]);
            expectTensor(max(a), "int32", [3], [3, 2, 1]);
            expectTensor(
                max(T("uint8", [2, 1], [0, 255]), T("uint8", [3], [1, 128, 254])),
                "uint8",
                [2, 3],
                [1, 128, 254, 255, 255, 255],
            );
        });
    });

    describe("ArgMax", function () {
        const data = I32([2, 2], [2, 1, 3, 10]);

        it("follows the keepdims / no-keepdims / negative axis examples", function () {
            expectTensor(argMax(data, 1, true), "int64", [2, 1], [0, 1]);
            expectTensor(argMax(data, 0, true), "int64", [1, 2], [1, 1]);
            expectTensor(argMax(data, 1, false), "int64", [2], [0, 1]);
            expectTensor(argMax(data, -1, true), "int64", [2, 1], [0, 1]);
        });

        it("picks the first or, with select_last_index, the last of equal maxima", function () {
            const ties = I32([2, 2], [2, 2, 3, 10]);
            expectTensor(argMax(ties, 1, true, false), "int64", [2, 1], [0, 1]);
            expectTensor(argMax(ties, 1, true, true), "int64", [2, 1], [1, 1]);
            expectTensor(argMax(T("int8", [4], [5, 7, 7, 1]), 0, false, true), "int64", [], [2]);
        });
    });

    describe("Reshape / Flatten", function () {
        const x = I32([2, 3, 4], range(24));

        it("Reshape follows the ONNX examples, including 0 (copy) and -1 (infer)", function () {
            const cases: [number[], number[]][] = [
                [
                    [4, 2, 3],
                    [4, 2, 3],
                ],
                [
                    [2, 12],
                    [2, 12],
                ],
                [
                    [2, 3, 2, 2],
                    [2, 3, 2, 2],
                ],
                [[24], [24]],
                [
                    [2, -1, 2],
                    [2, 6, 2],
                ],
                [
                    [-1, 2, 3, 4],
                    [1, 2, 3, 4],
                ],
                [
                    [2, 0, 4, 1],
                    [2, 3, 4, 1],
                ],
                [
                    [2, 0, 1, -1],
                    [2, 3, 1, 4],
                ],
            ];
            for (const [shape, want] of cases) {
                expectTensor(reshape(x, I64([shape.length], shape)), "int32", want, range(24));
            }
        });

        it("Reshape rejects two -1 and a wrong element count", function () {
            expectCode(() => reshape(x, I64([2], [-1, -1])), "INVALID_ARGUMENT", "more than one -1");
            expectCode(() => reshape(x, I64([2], [5, 5])), "INVALID_ARGUMENT", "does not hold 24");
        });

        it("Flatten follows the ONNX axis examples (0 .. rank and negative)", function () {
            const y = I32([2, 3, 4, 5], range(120));
            const want = [
                [1, 120],
                [2, 60],
                [6, 20],
                [24, 5],
                [120, 1],
            ];
            want.forEach((shape, axis) => expectTensor(flatten(y, axis), "int32", shape, range(120)));
            expectTensor(flatten(y, -1), "int32", [24, 5], range(120));
            expectTensor(flatten(y, -4), "int32", [1, 120], range(120));
            expectTensor(flatten(y), "int32", [2, 60], range(120));
        });
    });

    describe("Cast", function () {
        it("wraps out-of-range integers like C static_cast (two's-complement truncation)", function () {
            expectTensor(cast(I32([4], [300, 200, -1, -129]), "uint8"), "uint8", [4], [44, 200, 255, 127]);
            expectTensor(cast(I32([4], [300, 200, -1, -129]), "int8"), "int8", [4], [44, -56, -1, 127]);
            expectTensor(cast(I64([2], [2n ** 31n, -(2n ** 32n) - 5n]), "int32"), "int32", [2], [-(2 ** 31), -5]);
            expectTensor(cast(T("uint8", [2], [255, 128]), "int8"), "int8", [2], [-1, -128]);
            expectTensor(cast(T("int8", [2], [-1, -128]), "int64"), "int64", [2], [-1, -128]);
        });
    });

    describe("Gather", function () {
        it("follows the axis-0 example", function () {
            const data = I32([3, 2], [10, 12, 23, 34, 45, 57]);
            const y = gather(data, I64([2, 2], [0, 1, 1, 2]), 0);
            expectTensor(y, "int32", [2, 2, 2], [10, 12, 23, 34, 23, 34, 45, 57]);
        });

        it("follows the axis-1 example", function () {
            const data = I32([3, 3], [10, 12, 19, 23, 34, 39, 45, 57, 59]);
            const y = gather(data, I32([1, 2], [0, 2]), 1);
            expectTensor(y, "int32", [3, 1, 2], [10, 19, 23, 39, 45, 59]);
        });

        it("accepts negative indices and rejects out-of-range ones", function () {
            const data = T("int8", [10], range(10));
            expectTensor(gather(data, I64([3], [0, -9, -10])), "int8", [3], [0, 1, 0]);
            expectTensor(gather(data, I64([], [-1])), "int8", [], [9]);
            expectCode(() => gather(data, I64([1], [10])), "INVALID_ARGUMENT", "out of range");
            expectCode(() => gather(data, I64([1], [-11])), "INVALID_ARGUMENT", "out of range");
        });
    });

    describe("runGraph", function () {
        // x (int64 ids [2]) -> Gather(table int8 [4, 3]) -> MatMulInteger(W int8 [3, 2], zp 1) -> Add(bias) -> Relu
        // -> ArgMax(axis 1, keepdims 0).
        const model = buildOnnxModel({
            inputs: [{ name: "ids", type: "int64", shape: [2] }],
            outputs: [
                { name: "y", type: "int32", shape: [2, 2] },
                { name: "cls", type: "int64", shape: [2] },
            ],
            initializers: [
                { name: "table", dims: [4, 3], data: Int8Array.from([1, 2, 3, -1, -2, -3, 4, 0, 4, 5, 5, 5]) },
                { name: "w", dims: [3, 2], data: Int8Array.from([2, 1, 1, 2, 1, 1]) },
                { name: "wzp", dims: [], data: Int8Array.from([1]) },
                { name: "bias", dims: [2], data: Int32Array.from([-3, 1]) },
            ],
            nodes: [
                { opType: "Gather", inputs: ["table", "ids"], outputs: ["rows"], attributes: { axis: { int: 0 } } },
                { opType: "MatMulInteger", inputs: ["rows", "w", "", "wzp"], outputs: ["acc"] },
                { opType: "Add", inputs: ["acc", "bias"], outputs: ["biased"] },
                { opType: "Relu", inputs: ["biased"], outputs: ["y"] },
                {
                    opType: "ArgMax",
                    inputs: ["y"],
                    outputs: ["cls"],
                    attributes: { axis: { int: 1 }, keepdims: { int: 0 } },
                },
            ],
        });

        it("executes the nodes in order with initializers (bytes or decoded ModelProto)", function () {
            // rows = [[4, 0, 4], [-1, -2, -3]]; W - 1 = [[1, 0], [0, 1], [0, 0]]; acc = [[4, 0], [-1, -2]];
            // + bias = [[1, 1], [-4, -1]]; Relu = [[1, 1], [0, 0]]; ArgMax = [0, 0].
            for (const m of [model, onnx.ModelProto.decode(model)]) {
                const out = runGraph(m, { ids: I64([2], [2, -3]) });
                expect(Object.keys(out)).to.deep.equal(["y", "cls"]);
                expectTensor(out.y!, "int32", [2, 2], [1, 1, 0, 0]);
                expectTensor(out.cls!, "int64", [2], [0, 0]);
            }
        });

        it("reads Cast's `to` attribute and Clip's optional inputs", function () {
            const m = buildOnnxModel({
                inputs: [{ name: "x", type: "int32", shape: [3] }],
                outputs: [{ name: "y", type: "uint8", shape: [3] }],
                initializers: [{ name: "hi", dims: [], data: Int32Array.from([300]) }],
                nodes: [
                    { opType: "Clip", inputs: ["x", "", "hi"], outputs: ["c"] },
                    { opType: "Cast", inputs: ["c"], outputs: ["y"], attributes: { to: { int: 2 } } },
                ],
            });
            expectTensor(runGraph(m, { x: I32([3], [-1, 256, 1000]) }).y!, "uint8", [3], [255, 0, 44]);
        });

        it("rejects an op outside the subset with UNSUPPORTED_OP naming the node and op", function () {
            const m = buildOnnxModel({
                inputs: [{ name: "x", type: "int32", shape: [2] }],
                outputs: [{ name: "y", type: "int32", shape: [2] }],
                nodes: [
                    { opType: "Relu", inputs: ["x"], outputs: ["r"] },
                    { opType: "Abs", inputs: ["r"], outputs: ["y"], name: "my_abs" },
                ],
            });
            expectCode(() => runGraph(m, { x: I32([2], [1, 2]) }), "UNSUPPORTED_OP", "node 1 (my_abs): op Abs");
        });

        it("reports overflow and division by zero with the node", function () {
            const m = buildOnnxModel({
                inputs: [
                    { name: "a", type: "int32", shape: [1] },
                    { name: "b", type: "int32", shape: [1] },
                ],
                outputs: [{ name: "y", type: "int32", shape: [1] }],
                nodes: [
                    { opType: "Mul", inputs: ["a", "b"], outputs: ["m"], name: "scale" },
                    { opType: "Div", inputs: ["m", "b"], outputs: ["y"], name: "unscale" },
                ],
            });
            expectTensor(runGraph(m, { a: I32([1], [7]), b: I32([1], [-3]) }).y!, "int32", [1], [7]);
            expectCode(
                () => runGraph(m, { a: I32([1], [2 ** 30]), b: I32([1], [2]) }),
                "INTEGER_OVERFLOW",
                "node 0 (scale): Mul: result 2147483648",
            );
            expectCode(
                () => runGraph(m, { a: I32([1], [5]), b: I32([1], [0]) }),
                "DIVISION_BY_ZERO",
                "node 1 (unscale): Div",
            );
        });
    });
});
