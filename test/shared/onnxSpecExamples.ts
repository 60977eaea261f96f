/**
 * "ONNX's semantics, not ours": cases of the verifiable subset whose expected outputs come from the ONNX operator
 * specification's own examples, i.e. the node test cases of the onnx repository (onnx/backend/test/case/node/<op>.py,
 * also rendered in docs/Operators.md and onnx.ai/onnx/operators) and, for Cast, the rule and example in the
 * operator's doc text. Each case names its source in `source` and, in `note`, how it departs from it.
 *
 * How the cases were taken from the sources:
 * - Examples with fixed data are transcribed as they are. Where the example is float32 with integral values (e.g.
 *   Clip's [-2, 0, 2] -> [-1, 0, 1]), the same integers are used in an integer dtype of the subset.
 * - Examples with random data (np.random.randn, randint, uniform, random_sample) use fixed integer data instead,
 *   within the draw's range where the source gives one (e.g. randint(24) -> [0, 23]). Their expected outputs were
 *   computed with the numpy expression the example itself writes (x + y, x // y, np.clip, np.take, np.reshape,
 *   argmax_use_numpy...) and pasted here as literals; never with Verity's own code.
 *
 * Which inputs are constants: the subset wants MatMulInteger's B and zero points, Div's divisor, Clip's bounds,
 * Reshape's shape and Gather's data to be initializers (`constant: true`); everything else is a graph input, fed in
 * the order of `inputs`. A case with `outsideSubset` is deliberately outside the subset (e.g. a runtime divisor): the
 * reference interpreter and onnxruntime still compute the spec's output, but `compileModel` must refuse it.
 *
 * Graph inputs may carry a declared `range` (the manifest's `range`): the subset's static overflow check needs it
 * where a whole-dtype input could overflow (Add / Sub / Mul, Gather's indices, a narrowing Cast). The case's data
 * always lies inside it.
 */
import { buildOnnxModel, type AttributeValue, type InitializerData } from "../../oracle/src/toolkit/onnxGraph";
import { embedManifest } from "../../oracle/src/protocol/manifest";
import { DType, encodeTensors, type Tensor } from "../../oracle/src/protocol/tensorCodec";
import type { SubsetErrorCode, SubsetOp } from "../../oracle/src/verify/subset";

/** Element types of the cases (the subset's). */
export type SpecDType = "int8" | "uint8" | "int32" | "int64";

/** Tensor-codec (and ONNX) dtype codes: uint8 2, int8 3, int32 6, int64 7. */
export const SPEC_DTYPE_CODES: Readonly<Record<SpecDType, DType>> = {
    uint8: DType.UINT8,
    int8: DType.INT8,
    int32: DType.INT32,
    int64: DType.INT64,
};

/** One input of the case's node. */
export interface SpecInput {
    name: string;
    dtype: SpecDType;
    shape: number[];
    /** Row-major elements. */
    data: (number | bigint)[];
    /** An initializer (true) or a graph input fed at run time (false). */
    constant: boolean;
    /** Graph inputs only: the inclusive range declared in the manifest; the whole dtype when absent. */
    range?: readonly [number | bigint, number | bigint];
}

/** The expected output of the case's node (its only graph output). */
export interface SpecOutput {
    name: string;
    dtype: SpecDType;
    shape: number[];
    data: (number | bigint)[];
}

/** A one-node model from an ONNX spec example, with the spec's expected output. */
export interface SpecCase {
    /** The ONNX test name (plus what this case changes, when several cases share one). Unique. */
    name: string;
    op: SubsetOp;
    /** Where the example is: repository, file, function and test name. */
    source: string;
    /** How the case departs from the source (dtype transcription, fixed data for a random draw, ...). */
    note: string;
    inputs: SpecInput[];
    /** The node's input list when it differs from `inputs`' names ("" for an omitted optional input). */
    nodeInputs?: string[];
    attributes?: Record<string, AttributeValue>;
    output: SpecOutput;
    /** Deliberately outside the verifiable subset: `compileModel` must throw SubsetError `code`. */
    outsideSubset?: { code: SubsetErrorCode; reason: string };
    /** Why onnxruntime (CPU provider, 1.30) cannot run the case, when it cannot. */
    ortSkip?: string;
}

export const ONNX_SPEC_CASES: readonly SpecCase[] = [
    {
        name: "test_matmulinteger",
        op: "MatMulInteger",
        source: "onnx/onnx onnx/backend/test/case/node/matmulinteger.py MatMulInteger.export (test_matmulinteger); the same example is in docs/Operators.md#MatMulInteger",
        note: "Literal example. a_zero_point and b_zero_point are 1-element 1-D tensors, as in the source.",
        inputs: [
            { name: "A", dtype: "uint8", shape: [4, 3], data: [11, 7, 3, 10, 6, 2, 9, 5, 1, 8, 4, 0], constant: false },
            { name: "B", dtype: "uint8", shape: [3, 2], data: [1, 4, 2, 5, 3, 6], constant: true },
            { name: "a_zero_point", dtype: "uint8", shape: [1], data: [12], constant: true },
            { name: "b_zero_point", dtype: "uint8", shape: [1], data: [0], constant: true },
        ],
        output: { name: "Y", dtype: "int32", shape: [4, 2], data: [-38, -83, -44, -98, -50, -113, -56, -128] },
    },
    {
        name: "test_matmulinteger (B as a graph input)",
        op: "MatMulInteger",
        source: "onnx/onnx onnx/backend/test/case/node/matmulinteger.py MatMulInteger.export (test_matmulinteger); the same example is in docs/Operators.md#MatMulInteger",
        note: "The literal example with B fed at run time: outside the subset, which takes B only as a constant.",
        inputs: [
            { name: "A", dtype: "uint8", shape: [4, 3], data: [11, 7, 3, 10, 6, 2, 9, 5, 1, 8, 4, 0], constant: false },
            { name: "B", dtype: "uint8", shape: [3, 2], data: [1, 4, 2, 5, 3, 6], constant: false },
            { name: "a_zero_point", dtype: "uint8", shape: [1], data: [12], constant: true },
            { name: "b_zero_point", dtype: "uint8", shape: [1], data: [0], constant: true },
        ],
        output: { name: "Y", dtype: "int32", shape: [4, 2], data: [-38, -83, -44, -98, -50, -113, -56, -128] },
        outsideSubset: { code: "NOT_CONSTANT", reason: "B must be a constant" },
    },
    {
        name: "test_add_uint8",
        op: "Add",
        source: "onnx/onnx onnx/backend/test/case/node/add.py test_add_uint8 (in Add.export_add_uint8 or, in versions that also test int8 to uint64, in Add.export)",
        note: "x, y are np.random.randint(24, size=(3, 4, 5), dtype=np.uint8) in the source: fixed values in [0, 23] here (declared as the inputs' range), expected = x + y.",
        inputs: [
            {
                name: "x",
                dtype: "uint8",
                shape: [3, 4, 5],
                data: [
                    0, 5, 10, 15, 20, 1, 6, 11, 16, 21, 2, 7, 12, 17, 22, 3, 8, 13, 18, 23, 4, 9, 14, 19, 0, 5, 10, 15,
                    20, 1, 6, 11, 16, 21, 2, 7, 12, 17, 22, 3, 8, 13, 18, 23, 4, 9, 14, 19, 0, 5, 10, 15, 20, 1, 6, 11,
                    16, 21, 2, 7,
                ],
                constant: false,
                range: [0, 23],
            },
            {
                name: "y",
                dtype: "uint8",
                shape: [3, 4, 5],
                data: [
                    3, 10, 17, 0, 7, 14, 21, 4, 11, 18, 1, 8, 15, 22, 5, 12, 19, 2, 9, 16, 23, 6, 13, 20, 3, 10, 17, 0,
                    7, 14, 21, 4, 11, 18, 1, 8, 15, 22, 5, 12, 19, 2, 9, 16, 23, 6, 13, 20, 3, 10, 17, 0, 7, 14, 21, 4,
                    11, 18, 1, 8,
                ],
                constant: false,
                range: [0, 23],
            },
        ],
        output: {
            name: "sum",
            dtype: "uint8",
            shape: [3, 4, 5],
            data: [
                3, 15, 27, 15, 27, 15, 27, 15, 27, 39, 3, 15, 27, 39, 27, 15, 27, 15, 27, 39, 27, 15, 27, 39, 3, 15, 27,
                15, 27, 15, 27, 15, 27, 39, 3, 15, 27, 39, 27, 15, 27, 15, 27, 39, 27, 15, 27, 39, 3, 15, 27, 15, 27,
                15, 27, 15, 27, 39, 3, 15,
            ],
        },
    },
    {
        name: "test_add_int8",
        op: "Add",
        source: "onnx/onnx onnx/backend/test/case/node/add.py Add.export (test_add_int8)",
        note: "x, y are np.random.randint(24, size=(3, 4, 5), dtype=np.int8) in the source: fixed values in [0, 23] here (declared as the inputs' range), expected = x + y.",
        inputs: [
            {
                name: "x",
                dtype: "int8",
                shape: [3, 4, 5],
                data: [
                    4, 15, 2, 13, 0, 11, 22, 9, 20, 7, 18, 5, 16, 3, 14, 1, 12, 23, 10, 21, 8, 19, 6, 17, 4, 15, 2, 13,
                    0, 11, 22, 9, 20, 7, 18, 5, 16, 3, 14, 1, 12, 23, 10, 21, 8, 19, 6, 17, 4, 15, 2, 13, 0, 11, 22, 9,
                    20, 7, 18, 5,
                ],
                constant: false,
                range: [0, 23],
            },
            {
                name: "y",
                dtype: "int8",
                shape: [3, 4, 5],
                data: [
                    1, 14, 3, 16, 5, 18, 7, 20, 9, 22, 11, 0, 13, 2, 15, 4, 17, 6, 19, 8, 21, 10, 23, 12, 1, 14, 3, 16,
                    5, 18, 7, 20, 9, 22, 11, 0, 13, 2, 15, 4, 17, 6, 19, 8, 21, 10, 23, 12, 1, 14, 3, 16, 5, 18, 7, 20,
                    9, 22, 11, 0,
                ],
                constant: false,
                range: [0, 23],
            },
        ],
        output: {
            name: "sum",
            dtype: "int8",
            shape: [3, 4, 5],
            data: [
                5, 29, 5, 29, 5, 29, 29, 29, 29, 29, 29, 5, 29, 5, 29, 5, 29, 29, 29, 29, 29, 29, 29, 29, 5, 29, 5, 29,
                5, 29, 29, 29, 29, 29, 29, 5, 29, 5, 29, 5, 29, 29, 29, 29, 29, 29, 29, 29, 5, 29, 5, 29, 5, 29, 29, 29,
                29, 29, 29, 5,
            ],
        },
    },
    {
        name: "test_add_bcast",
        op: "Add",
        source: "onnx/onnx onnx/backend/test/case/node/add.py Add.export_add_broadcast (test_add_bcast)",
        note: "float32 randn (3, 4, 5) + (5) in the source: int32 integers here, expected = x + y (numpy broadcasting).",
        inputs: [
            {
                name: "x",
                dtype: "int32",
                shape: [3, 4, 5],
                data: [
                    -30, -13, 4, 21, -23, -6, 11, 28, -16, 1, 18, -26, -9, 8, 25, -19, -2, 15, -29, -12, 5, 22, -22, -5,
                    12, 29, -15, 2, 19, -25, -8, 9, 26, -18, -1, 16, -28, -11, 6, 23, -21, -4, 13, 30, -14, 3, 20, -24,
                    -7, 10, 27, -17, 0, 17, -27, -10, 7, 24, -20, -3,
                ],
                constant: false,
                range: [-1073741824, 1073741823],
            },
            {
                name: "y",
                dtype: "int32",
                shape: [5],
                data: [7, -3, 0, 12, -25],
                constant: false,
                range: [-1073741824, 1073741823],
            },
        ],
        output: {
            name: "sum",
            dtype: "int32",
            shape: [3, 4, 5],
            data: [
                -23, -16, 4, 33, -48, 1, 8, 28, -4, -24, 25, -29, -9, 20, 0, -12, -5, 15, -17, -37, 12, 19, -22, 7, -13,
                36, -18, 2, 31, -50, -1, 6, 26, -6, -26, 23, -31, -11, 18, -2, -14, -7, 13, 42, -39, 10, 17, -24, 5,
                -15, 34, -20, 0, 29, -52, -3, 4, 24, -8, -28,
            ],
        },
    },
    {
        name: "test_sub_example",
        op: "Sub",
        source: "onnx/onnx onnx/backend/test/case/node/sub.py Sub.export (test_sub_example)",
        note: "Literal example (float32 [1, 2, 3] - [3, 2, 1] = [-2, 0, 2]) transcribed as int32.",
        inputs: [
            {
                name: "x",
                dtype: "int32",
                shape: [3],
                data: [1, 2, 3],
                constant: false,
                range: [-1073741824, 1073741823],
            },
            {
                name: "y",
                dtype: "int32",
                shape: [3],
                data: [3, 2, 1],
                constant: false,
                range: [-1073741824, 1073741823],
            },
        ],
        output: { name: "z", dtype: "int32", shape: [3], data: [-2, 0, 2] },
    },
    {
        name: "test_sub_uint8",
        op: "Sub",
        source: "onnx/onnx onnx/backend/test/case/node/sub.py Sub.export (test_sub_uint8)",
        note: "x = np.random.randint(12, 24, ...), y = np.random.randint(12, ...) (uint8, (3, 4, 5)) in the source: fixed values in those ranges here (declared), expected = x - y.",
        inputs: [
            {
                name: "x",
                dtype: "uint8",
                shape: [3, 4, 5],
                data: [
                    12, 17, 22, 15, 20, 13, 18, 23, 16, 21, 14, 19, 12, 17, 22, 15, 20, 13, 18, 23, 16, 21, 14, 19, 12,
                    17, 22, 15, 20, 13, 18, 23, 16, 21, 14, 19, 12, 17, 22, 15, 20, 13, 18, 23, 16, 21, 14, 19, 12, 17,
                    22, 15, 20, 13, 18, 23, 16, 21, 14, 19,
                ],
                constant: false,
                range: [12, 23],
            },
            {
                name: "y",
                dtype: "uint8",
                shape: [3, 4, 5],
                data: [
                    2, 9, 4, 11, 6, 1, 8, 3, 10, 5, 0, 7, 2, 9, 4, 11, 6, 1, 8, 3, 10, 5, 0, 7, 2, 9, 4, 11, 6, 1, 8, 3,
                    10, 5, 0, 7, 2, 9, 4, 11, 6, 1, 8, 3, 10, 5, 0, 7, 2, 9, 4, 11, 6, 1, 8, 3, 10, 5, 0, 7,
                ],
                constant: false,
                range: [0, 11],
            },
        ],
        output: {
            name: "z",
            dtype: "uint8",
            shape: [3, 4, 5],
            data: [
                10, 8, 18, 4, 14, 12, 10, 20, 6, 16, 14, 12, 10, 8, 18, 4, 14, 12, 10, 20, 6, 16, 14, 12, 10, 8, 18, 4,
                14, 12, 10, 20, 6, 16, 14, 12, 10, 8, 18, 4, 14, 12, 10, 20, 6, 16, 14, 12, 10, 8, 18, 4, 14, 12, 10,
                20, 6, 16, 14, 12,
            ],
        },
    },
    {
        name: "test_sub_bcast",
        op: "Sub",
        source: "onnx/onnx onnx/backend/test/case/node/sub.py Sub.export_sub_broadcast (test_sub_bcast)",
        note: "float32 randn (3, 4, 5) - (5) in the source: int64 integers here, y a constant, expected = x - y (numpy broadcasting).",
        inputs: [
            {
                name: "x",
                dtype: "int64",
                shape: [3, 4, 5],
                data: [
                    -90, -87, -84, -81, -78, -75, -72, -69, -66, -63, -60, -57, -54, -51, -48, -45, -42, -39, -36, -33,
                    -30, -27, -24, -21, -18, -15, -12, -9, -6, -3, 0, 3, 6, 9, 12, 15, 18, 21, 24, 27, 30, 33, 36, 39,
                    42, 45, 48, 51, 54, 57, 60, 63, 66, 69, 72, 75, 78, 81, 84, 87,
                ],
                constant: false,
                range: [-4611686018427387904n, 4611686018427387903n],
            },
            { name: "y", dtype: "int64", shape: [5], data: [10, -20, 30, -40, 50], constant: true },
        ],
        output: {
            name: "z",
            dtype: "int64",
            shape: [3, 4, 5],
            data: [
                -100, -67, -114, -41, -128, -85, -52, -99, -26, -113, -70, -37, -84, -11, -98, -55, -22, -69, 4, -83,
                -40, -7, -54, 19, -68, -25, 8, -39, 34, -53, -10, 23, -24, 49, -38, 5, 38, -9, 64, -23, 20, 53, 6, 79,
                -8, 35, 68, 21, 94, 7, 50, 83, 36, 109, 22, 65, 98, 51, 124, 37,
            ],
        },
    },
    {
        name: "test_mul_example",
        op: "Mul",
        source: "onnx/onnx onnx/backend/test/case/node/mul.py Mul.export (test_mul_example)",
        note: "Literal example (float32 [1, 2, 3] * [4, 5, 6] = [4, 10, 18]) transcribed as int32.",
        inputs: [
            { name: "x", dtype: "int32", shape: [3], data: [1, 2, 3], constant: false, range: [-46340, 46340] },
            { name: "y", dtype: "int32", shape: [3], data: [4, 5, 6], constant: false, range: [-46340, 46340] },
        ],
        output: { name: "z", dtype: "int32", shape: [3], data: [4, 10, 18] },
    },
    {
        name: "test_mul_uint8",
        op: "Mul",
        source: "onnx/onnx onnx/backend/test/case/node/mul.py Mul.export (test_mul_uint8)",
        note: "x = np.random.randint(4, ...), y = np.random.randint(24, ...) (uint8, (3, 4, 5)) in the source: fixed values in those ranges here (declared), expected = x * y.",
        inputs: [
            {
                name: "x",
                dtype: "uint8",
                shape: [3, 4, 5],
                data: [
                    0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0,
                    1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3,
                ],
                constant: false,
                range: [0, 3],
            },
            {
                name: "y",
                dtype: "uint8",
                shape: [3, 4, 5],
                data: [
                    1, 6, 11, 16, 21, 2, 7, 12, 17, 22, 3, 8, 13, 18, 23, 4, 9, 14, 19, 0, 5, 10, 15, 20, 1, 6, 11, 16,
                    21, 2, 7, 12, 17, 22, 3, 8, 13, 18, 23, 4, 9, 14, 19, 0, 5, 10, 15, 20, 1, 6, 11, 16, 21, 2, 7, 12,
                    17, 22, 3, 8,
                ],
                constant: false,
                range: [0, 23],
            },
        ],
        output: {
            name: "z",
            dtype: "uint8",
            shape: [3, 4, 5],
            data: [
                0, 6, 22, 48, 0, 2, 14, 36, 0, 22, 6, 24, 0, 18, 46, 12, 0, 14, 38, 0, 0, 10, 30, 60, 0, 6, 22, 48, 0,
                2, 14, 36, 0, 22, 6, 24, 0, 18, 46, 12, 0, 14, 38, 0, 0, 10, 30, 60, 0, 6, 22, 48, 0, 2, 14, 36, 0, 22,
                6, 24,
            ],
        },
    },
    {
        name: "test_mul_bcast",
        op: "Mul",
        source: "onnx/onnx onnx/backend/test/case/node/mul.py Mul.export_mul_broadcast (test_mul_bcast)",
        note: "float32 randn (3, 4, 5) * (5) in the source: int32 integers here, y a constant, expected = x * y (numpy broadcasting).",
        inputs: [
            {
                name: "x",
                dtype: "int32",
                shape: [3, 4, 5],
                data: [
                    -30, -29, -28, -27, -26, -25, -24, -23, -22, -21, -20, -19, -18, -17, -16, -15, -14, -13, -12, -11,
                    -10, -9, -8, -7, -6, -5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                    17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29,
                ],
                constant: false,
                range: [-1000000, 1000000],
            },
            { name: "y", dtype: "int32", shape: [5], data: [2, -3, 0, 5, -1], constant: true },
        ],
        output: {
            name: "z",
            dtype: "int32",
            shape: [3, 4, 5],
            data: [
                -60, 87, 0, -135, 26, -50, 72, 0, -110, 21, -40, 57, 0, -85, 16, -30, 42, 0, -60, 11, -20, 27, 0, -35,
                6, -10, 12, 0, -10, 1, 0, -3, 0, 15, -4, 10, -18, 0, 40, -9, 20, -33, 0, 65, -14, 30, -48, 0, 90, -19,
                40, -63, 0, 115, -24, 50, -78, 0, 140, -29,
            ],
        },
    },
    {
        name: "test_div_example",
        op: "Div",
        source: "onnx/onnx onnx/backend/test/case/node/div.py Div.export (test_div_example)",
        note: "Literal example (float32 [3, 4] / [1, 2] = [3, 2]) transcribed as int32; the divisor is a constant.",
        inputs: [
            { name: "x", dtype: "int32", shape: [2], data: [3, 4], constant: false },
            { name: "y", dtype: "int32", shape: [2], data: [1, 2], constant: true },
        ],
        output: { name: "z", dtype: "int32", shape: [2], data: [3, 2] },
    },
    {
        name: "test_div_int32_trunc",
        op: "Div",
        source: "onnx/onnx onnx/backend/test/case/node/div.py Div.export (test_div_int32_trunc)",
        note: "Literal int32 example: integer Div truncates toward zero. The divisor is a constant.",
        inputs: [
            { name: "x", dtype: "int32", shape: [4], data: [-3, 3, -3, 3], constant: false },
            { name: "y", dtype: "int32", shape: [4], data: [2, 2, -2, -2], constant: true },
        ],
        output: { name: "z", dtype: "int32", shape: [4], data: [-1, 1, 1, -1] },
    },
    {
        name: "test_div_uint8",
        op: "Div",
        source: "onnx/onnx onnx/backend/test/case/node/div.py Div.export (test_div_uint8)",
        note: "x = np.random.randint(24, ...), y = np.random.randint(24, ...) + 1 (uint8, (3, 4, 5)) in the source: fixed values in those ranges here, y a constant, expected = x // y.",
        inputs: [
            {
                name: "x",
                dtype: "uint8",
                shape: [3, 4, 5],
                data: [
                    5, 12, 19, 2, 9, 16, 23, 6, 13, 20, 3, 10, 17, 0, 7, 14, 21, 4, 11, 18, 1, 8, 15, 22, 5, 12, 19, 2,
                    9, 16, 23, 6, 13, 20, 3, 10, 17, 0, 7, 14, 21, 4, 11, 18, 1, 8, 15, 22, 5, 12, 19, 2, 9, 16, 23, 6,
                    13, 20, 3, 10,
                ],
                constant: false,
            },
            {
                name: "y",
                dtype: "uint8",
                shape: [3, 4, 5],
                data: [
                    4, 9, 14, 19, 24, 5, 10, 15, 20, 1, 6, 11, 16, 21, 2, 7, 12, 17, 22, 3, 8, 13, 18, 23, 4, 9, 14, 19,
                    24, 5, 10, 15, 20, 1, 6, 11, 16, 21, 2, 7, 12, 17, 22, 3, 8, 13, 18, 23, 4, 9, 14, 19, 24, 5, 10,
                    15, 20, 1, 6, 11,
                ],
                constant: true,
            },
        ],
        output: {
            name: "z",
            dtype: "uint8",
            shape: [3, 4, 5],
            data: [
                1, 1, 1, 0, 0, 3, 2, 0, 0, 20, 0, 0, 1, 0, 3, 2, 1, 0, 0, 6, 0, 0, 0, 0, 1, 1, 1, 0, 0, 3, 2, 0, 0, 20,
                0, 0, 1, 0, 3, 2, 1, 0, 0, 6, 0, 0, 0, 0, 1, 1, 1, 0, 0, 3, 2, 0, 0, 20, 0, 0,
            ],
        },
    },
    {
        name: "test_div_int8",
        op: "Div",
        source: "onnx/onnx onnx/backend/test/case/node/div.py Div.export (test_div_int8)",
        note: "x = np.random.randint(24, ...), y = np.random.randint(24, ...) + 1 (int8, (3, 4, 5)) in the source: fixed values in those ranges here, y a constant, expected = x // y.",
        inputs: [
            {
                name: "x",
                dtype: "int8",
                shape: [3, 4, 5],
                data: [
                    2, 13, 0, 11, 22, 9, 20, 7, 18, 5, 16, 3, 14, 1, 12, 23, 10, 21, 8, 19, 6, 17, 4, 15, 2, 13, 0, 11,
                    22, 9, 20, 7, 18, 5, 16, 3, 14, 1, 12, 23, 10, 21, 8, 19, 6, 17, 4, 15, 2, 13, 0, 11, 22, 9, 20, 7,
                    18, 5, 16, 3,
                ],
                constant: false,
            },
            {
                name: "y",
                dtype: "int8",
                shape: [3, 4, 5],
                data: [
                    7, 20, 9, 22, 11, 24, 13, 2, 15, 4, 17, 6, 19, 8, 21, 10, 23, 12, 1, 14, 3, 16, 5, 18, 7, 20, 9, 22,
                    11, 24, 13, 2, 15, 4, 17, 6, 19, 8, 21, 10, 23, 12, 1, 14, 3, 16, 5, 18, 7, 20, 9, 22, 11, 24, 13,
                    2, 15, 4, 17, 6,
                ],
                constant: true,
            },
        ],
        output: {
            name: "z",
            dtype: "int8",
            shape: [3, 4, 5],
            data: [
                0, 0, 0, 0, 2, 0, 1, 3, 1, 1, 0, 0, 0, 0, 0, 2, 0, 1, 8, 1, 2, 1, 0, 0, 0, 0, 0, 0, 2, 0, 1, 3, 1, 1, 0,
                0, 0, 0, 0, 2, 0, 1, 8, 1, 2, 1, 0, 0, 0, 0, 0, 0, 2, 0, 1, 3, 1, 1, 0, 0,
            ],
        },
    },
    {
        name: "test_div_int32_trunc (divisor as a graph input)",
        op: "Div",
        source: "onnx/onnx onnx/backend/test/case/node/div.py Div.export (test_div_int32_trunc)",
        note: "The literal int32 example with the divisor fed at run time: outside the subset, which takes the divisor only as a constant.",
        inputs: [
            { name: "x", dtype: "int32", shape: [4], data: [-3, 3, -3, 3], constant: false },
            { name: "y", dtype: "int32", shape: [4], data: [2, 2, -2, -2], constant: false },
        ],
        output: { name: "z", dtype: "int32", shape: [4], data: [-1, 1, 1, -1] },
        outsideSubset: { code: "NOT_CONSTANT", reason: "the divisor must be a constant" },
    },
    {
        name: "test_relu (int8)",
        op: "Relu",
        source: "onnx/onnx onnx/backend/test/case/node/relu.py Relu.export (test_relu)",
        note: "x = np.random.randn(3, 4, 5) (float32) in the source: fixed int8 integers here, expected = np.clip(x, 0, np.inf).",
        inputs: [
            {
                name: "x",
                dtype: "int8",
                shape: [3, 4, 5],
                data: [
                    -128, -91, -54, -17, 20, 57, 94, -125, -88, -51, -14, 23, 60, 97, -122, -85, -48, -11, 26, 63, 100,
                    -119, -82, -45, -8, 29, 66, 103, -116, -79, -42, -5, 32, 69, 106, -113, -76, -39, -2, 35, 72, 109,
                    -110, -73, -36, 1, 38, 75, 112, -107, -70, -33, 4, 41, 78, 115, -104, -67, -30, 7,
                ],
                constant: false,
            },
        ],
        output: {
            name: "y",
            dtype: "int8",
            shape: [3, 4, 5],
            data: [
                0, 0, 0, 0, 20, 57, 94, 0, 0, 0, 0, 23, 60, 97, 0, 0, 0, 0, 26, 63, 100, 0, 0, 0, 0, 29, 66, 103, 0, 0,
                0, 0, 32, 69, 106, 0, 0, 0, 0, 35, 72, 109, 0, 0, 0, 1, 38, 75, 112, 0, 0, 0, 4, 41, 78, 115, 0, 0, 0,
                7,
            ],
        },
    },
    {
        name: "test_relu (int32)",
        op: "Relu",
        source: "onnx/onnx onnx/backend/test/case/node/relu.py Relu.export (test_relu)",
        note: "x = np.random.randn(3, 4, 5) (float32) in the source: fixed int32 integers here, expected = np.clip(x, 0, np.inf).",
        inputs: [
            {
                name: "x",
                dtype: "int32",
                shape: [3, 4, 5],
                data: [
                    -100001, 4728, -90546, 14183, -81091, 23638, -71636, 33093, -62181, 42548, -52726, 52003, -43271,
                    61458, -33816, 70913, -24361, 80368, -14906, 89823, -5451, 99278, 4004, -91270, 13459, -81815,
                    22914, -72360, 32369, -62905, 41824, -53450, 51279, -43995, 60734, -34540, 70189, -25085, 79644,
                    -15630, 89099, -6175, 98554, 3280, -91994, 12735, -82539, 22190, -73084, 31645, -63629, 41100,
                    -54174, 50555, -44719, 60010, -35264, 69465, -25809, 78920,
                ],
                constant: false,
            },
        ],
        output: {
            name: "y",
            dtype: "int32",
            shape: [3, 4, 5],
            data: [
                0, 4728, 0, 14183, 0, 23638, 0, 33093, 0, 42548, 0, 52003, 0, 61458, 0, 70913, 0, 80368, 0, 89823, 0,
                99278, 4004, 0, 13459, 0, 22914, 0, 32369, 0, 41824, 0, 51279, 0, 60734, 0, 70189, 0, 79644, 0, 89099,
                0, 98554, 3280, 0, 12735, 0, 22190, 0, 31645, 0, 41100, 0, 50555, 0, 60010, 0, 69465, 0, 78920,
            ],
        },
    },
    {
        name: "test_relu (int64)",
        op: "Relu",
        source: "onnx/onnx onnx/backend/test/case/node/relu.py Relu.export (test_relu)",
        note: "x = np.random.randn(3, 4, 5) (float32) in the source: fixed int64 integers here, expected = np.clip(x, 0, np.inf).",
        inputs: [
            {
                name: "x",
                dtype: "int64",
                shape: [3, 4, 5],
                data: [
                    -29000000203, -28000000196, -27000000189, -26000000182, -25000000175, -24000000168, -23000000161,
                    -22000000154, -21000000147, -20000000140, -19000000133, -18000000126, -17000000119, -16000000112,
                    -15000000105, -14000000098, -13000000091, -12000000084, -11000000077, -10000000070, -9000000063,
                    -8000000056, -7000000049, -6000000042, -5000000035, -4000000028, -3000000021, -2000000014,
                    -1000000007, 0, 1000000007, 2000000014, 3000000021, 4000000028, 5000000035, 6000000042, 7000000049,
                    8000000056, 9000000063, 10000000070, 11000000077, 12000000084, 13000000091, 14000000098,
                    15000000105, 16000000112, 17000000119, 18000000126, 19000000133, 20000000140, 21000000147,
                    22000000154, 23000000161, 24000000168, 25000000175, 26000000182, 27000000189, 28000000196,
                    29000000203, 30000000210,
                ],
                constant: false,
            },
        ],
        output: {
            name: "y",
            dtype: "int64",
            shape: [3, 4, 5],
            data: [
                0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1000000007,
                2000000014, 3000000021, 4000000028, 5000000035, 6000000042, 7000000049, 8000000056, 9000000063,
                10000000070, 11000000077, 12000000084, 13000000091, 14000000098, 15000000105, 16000000112, 17000000119,
                18000000126, 19000000133, 20000000140, 21000000147, 22000000154, 23000000161, 24000000168, 25000000175,
                26000000182, 27000000189, 28000000196, 29000000203, 30000000210,
            ],
        },
        outsideSubset: { code: "UNSUPPORTED_DTYPE", reason: "the node could not load an int64 Relu" },
        ortSkip: "onnxruntime 1.30's CPU provider has no int64 Relu kernel",
    },
    {
        name: "test_clip_example",
        op: "Clip",
        source: "onnx/onnx onnx/backend/test/case/node/clip.py Clip.export (test_clip_example)",
        note: "Literal example (float32 x [-2, 0, 2], min -1, max 1 -> [-1, 0, 1]) transcribed as int8; min and max are scalar constants.",
        inputs: [
            { name: "x", dtype: "int8", shape: [3], data: [-2, 0, 2], constant: false },
            { name: "min", dtype: "int8", shape: [], data: [-1], constant: true },
            { name: "max", dtype: "int8", shape: [], data: [1], constant: true },
        ],
        output: { name: "y", dtype: "int8", shape: [3], data: [-1, 0, 1] },
    },
    {
        name: "test_clip_splitbounds",
        op: "Clip",
        source: "onnx/onnx onnx/backend/test/case/node/clip.py Clip.export (test_clip_splitbounds)",
        note: "Literal example (float32 x [-1, 0, 6], min -5, max 5 -> [-1, 0, 5]) transcribed as int64.",
        inputs: [
            { name: "x", dtype: "int64", shape: [3], data: [-1, 0, 6], constant: false },
            { name: "min", dtype: "int64", shape: [], data: [-5], constant: true },
            { name: "max", dtype: "int64", shape: [], data: [5], constant: true },
        ],
        output: { name: "y", dtype: "int64", shape: [3], data: [-1, 0, 5] },
    },
    {
        name: "test_clip_default_int8_min",
        op: "Clip",
        source: "onnx/onnx onnx/backend/test/case/node/clip.py Clip.export_clip_default_int8 (test_clip_default_int8_min)",
        note: "Only min (np.int8(0)) given. x = np.random.randn(3, 4, 5).astype(np.int8) in the source: fixed small int8 values here, expected = np.clip(x, min_val, np.iinfo(np.int8).max).",
        inputs: [
            {
                name: "x",
                dtype: "int8",
                shape: [3, 4, 5],
                data: [
                    -3, 0, 3, -1, 2, -2, 1, -3, 0, 3, -1, 2, -2, 1, -3, 0, 3, -1, 2, -2, 1, -3, 0, 3, -1, 2, -2, 1, -3,
                    0, 3, -1, 2, -2, 1, -3, 0, 3, -1, 2, -2, 1, -3, 0, 3, -1, 2, -2, 1, -3, 0, 3, -1, 2, -2, 1, -3, 0,
                    3, -1,
                ],
                constant: false,
            },
            { name: "min", dtype: "int8", shape: [], data: [0], constant: true },
        ],
        output: {
            name: "y",
            dtype: "int8",
            shape: [3, 4, 5],
            data: [
                0, 0, 3, 0, 2, 0, 1, 0, 0, 3, 0, 2, 0, 1, 0, 0, 3, 0, 2, 0, 1, 0, 0, 3, 0, 2, 0, 1, 0, 0, 3, 0, 2, 0, 1,
                0, 0, 3, 0, 2, 0, 1, 0, 0, 3, 0, 2, 0, 1, 0, 0, 3, 0, 2, 0, 1, 0, 0, 3, 0,
            ],
        },
    },
    {
        name: "test_clip_default_int8_max",
        op: "Clip",
        source: "onnx/onnx onnx/backend/test/case/node/clip.py Clip.export_clip_default_int8 (test_clip_default_int8_max)",
        note: 'min omitted (""), max = np.int8(0). x = np.random.randn(3, 4, 5).astype(np.int8) in the source: fixed small int8 values here, expected = np.clip(x, np.iinfo(np.int8).min, max_val).',
        inputs: [
            {
                name: "x",
                dtype: "int8",
                shape: [3, 4, 5],
                data: [
                    -3, 2, 0, -2, 3, 1, -1, -3, 2, 0, -2, 3, 1, -1, -3, 2, 0, -2, 3, 1, -1, -3, 2, 0, -2, 3, 1, -1, -3,
                    2, 0, -2, 3, 1, -1, -3, 2, 0, -2, 3, 1, -1, -3, 2, 0, -2, 3, 1, -1, -3, 2, 0, -2, 3, 1, -1, -3, 2,
                    0, -2,
                ],
                constant: false,
            },
            { name: "max", dtype: "int8", shape: [], data: [0], constant: true },
        ],
        nodeInputs: ["x", "", "max"],
        output: {
            name: "y",
            dtype: "int8",
            shape: [3, 4, 5],
            data: [
                -3, 0, 0, -2, 0, 0, -1, -3, 0, 0, -2, 0, 0, -1, -3, 0, 0, -2, 0, 0, -1, -3, 0, 0, -2, 0, 0, -1, -3, 0,
                0, -2, 0, 0, -1, -3, 0, 0, -2, 0, 0, -1, -3, 0, 0, -2, 0, 0, -1, -3, 0, 0, -2, 0, 0, -1, -3, 0, 0, -2,
            ],
        },
    },
    {
        name: "test_clip_default_int8_inbounds",
        op: "Clip",
        source: "onnx/onnx onnx/backend/test/case/node/clip.py Clip.export_clip_default_int8 (test_clip_default_int8_inbounds)",
        note: "Literal int8 example with both bounds omitted.",
        inputs: [{ name: "x", dtype: "int8", shape: [3], data: [-1, 0, 1], constant: false }],
        nodeInputs: ["x", "", ""],
        output: { name: "y", dtype: "int8", shape: [3], data: [-1, 0, 1] },
    },
    {
        name: "test_clip_example (bounds as graph inputs)",
        op: "Clip",
        source: "onnx/onnx onnx/backend/test/case/node/clip.py Clip.export (test_clip_example)",
        note: "The literal example with min and max fed at run time: outside the subset, which takes the bounds only as constants.",
        inputs: [
            { name: "x", dtype: "int8", shape: [3], data: [-2, 0, 2], constant: false },
            { name: "min", dtype: "int8", shape: [], data: [-1], constant: false },
            { name: "max", dtype: "int8", shape: [], data: [1], constant: false },
        ],
        output: { name: "y", dtype: "int8", shape: [3], data: [-1, 0, 1] },
        outsideSubset: { code: "NOT_CONSTANT", reason: "min must be a constant" },
    },
    {
        name: "test_max_example",
        op: "Max",
        source: "onnx/onnx onnx/backend/test/case/node/max.py Max.export (test_max_example)",
        note: "Literal example (float32 [3, 2, 1], [1, 4, 4], [2, 5, 3] -> [3, 5, 4]) transcribed as int32.",
        inputs: [
            { name: "data_0", dtype: "int32", shape: [3], data: [3, 2, 1], constant: false },
            { name: "data_1", dtype: "int32", shape: [3], data: [1, 4, 4], constant: false },
            { name: "data_2", dtype: "int32", shape: [3], data: [2, 5, 3], constant: false },
        ],
        output: { name: "result", dtype: "int32", shape: [3], data: [3, 5, 4] },
    },
    {
        name: "test_max_one_input",
        op: "Max",
        source: "onnx/onnx onnx/backend/test/case/node/max.py Max.export (test_max_one_input)",
        note: "Literal example (one input: the output is the input) transcribed as int32.",
        inputs: [{ name: "data_0", dtype: "int32", shape: [3], data: [3, 2, 1], constant: false }],
        output: { name: "result", dtype: "int32", shape: [3], data: [3, 2, 1] },
    },
    {
        name: "test_max_uint8",
        op: "Max",
        source: "onnx/onnx onnx/backend/test/case/node/max.py Max.export_max_all_numeric_types (test_max_uint8)",
        note: "Literal uint8 example.",
        inputs: [
            { name: "data_0", dtype: "uint8", shape: [3], data: [3, 2, 1], constant: false },
            { name: "data_1", dtype: "uint8", shape: [3], data: [1, 4, 4], constant: false },
        ],
        output: { name: "result", dtype: "uint8", shape: [3], data: [3, 4, 4] },
    },
    {
        name: "test_max_int64",
        op: "Max",
        source: "onnx/onnx onnx/backend/test/case/node/max.py Max.export_max_all_numeric_types (test_max_int64)",
        note: "Literal int64 example.",
        inputs: [
            { name: "data_0", dtype: "int64", shape: [3], data: [3, 2, 1], constant: false },
            { name: "data_1", dtype: "int64", shape: [3], data: [1, 4, 4], constant: false },
        ],
        output: { name: "result", dtype: "int64", shape: [3], data: [3, 4, 4] },
    },
    {
        name: "test_min_example",
        op: "Min",
        source: "onnx/onnx onnx/backend/test/case/node/min.py Min.export (test_min_example)",
        note: "Literal example (float32 [3, 2, 1], [1, 4, 4], [2, 5, 0] -> [1, 2, 0]) transcribed as int32.",
        inputs: [
            { name: "data_0", dtype: "int32", shape: [3], data: [3, 2, 1], constant: false },
            { name: "data_1", dtype: "int32", shape: [3], data: [1, 4, 4], constant: false },
            { name: "data_2", dtype: "int32", shape: [3], data: [2, 5, 0], constant: false },
        ],
        output: { name: "result", dtype: "int32", shape: [3], data: [1, 2, 0] },
    },
    {
        name: "test_min_one_input",
        op: "Min",
        source: "onnx/onnx onnx/backend/test/case/node/min.py Min.export (test_min_one_input)",
        note: "Literal example (one input: the output is the input) transcribed as int32.",
        inputs: [{ name: "data_0", dtype: "int32", shape: [3], data: [3, 2, 1], constant: false }],
        output: { name: "result", dtype: "int32", shape: [3], data: [3, 2, 1] },
    },
    {
        name: "test_min_int8",
        op: "Min",
        source: "onnx/onnx onnx/backend/test/case/node/min.py Min.export_min_all_numeric_types (test_min_int8)",
        note: "Literal int8 example.",
        inputs: [
            { name: "data_0", dtype: "int8", shape: [3], data: [3, 2, 1], constant: false },
            { name: "data_1", dtype: "int8", shape: [3], data: [1, 4, 4], constant: false },
        ],
        output: { name: "result", dtype: "int8", shape: [3], data: [1, 2, 1] },
    },
    {
        name: "test_min_int64",
        op: "Min",
        source: "onnx/onnx onnx/backend/test/case/node/min.py Min.export_min_all_numeric_types (test_min_int64)",
        note: "Literal int64 example.",
        inputs: [
            { name: "data_0", dtype: "int64", shape: [3], data: [3, 2, 1], constant: false },
            { name: "data_1", dtype: "int64", shape: [3], data: [1, 4, 4], constant: false },
        ],
        output: { name: "result", dtype: "int64", shape: [3], data: [1, 2, 1] },
    },
    {
        name: "test_argmax_no_keepdims_example",
        op: "ArgMax",
        source: "onnx/onnx onnx/backend/test/case/node/argmax.py ArgMax.export_no_keepdims (test_argmax_no_keepdims_example)",
        note: "Literal example (float32 data transcribed as int32); row 0 is a tie, so the first index wins.",
        inputs: [{ name: "data", dtype: "int32", shape: [2, 2], data: [2, 2, 3, 10], constant: false }],
        attributes: { axis: { int: 1 }, keepdims: { int: 0 } },
        output: { name: "result", dtype: "int64", shape: [2], data: [0, 1] },
    },
    {
        name: "test_argmax_negative_axis_keepdims_example",
        op: "ArgMax",
        source: "onnx/onnx onnx/backend/test/case/node/argmax.py ArgMax.export_negative_axis_keepdims (test_argmax_negative_axis_keepdims_example)",
        note: "Literal example (float32 data transcribed as int64).",
        inputs: [{ name: "data", dtype: "int64", shape: [2, 2], data: [2, 2, 3, 10], constant: false }],
        attributes: { axis: { int: -1 }, keepdims: { int: 1 } },
        output: { name: "result", dtype: "int64", shape: [2, 1], data: [0, 1] },
    },
    {
        name: "test_argmax_keepdims_example_select_last_index",
        op: "ArgMax",
        source: "onnx/onnx onnx/backend/test/case/node/argmax.py ArgMax.export_keepdims_select_last_index (test_argmax_keepdims_example_select_last_index)",
        note: "Literal example (float32 data transcribed as uint8); the tie in row 0 goes to the last index.",
        inputs: [{ name: "data", dtype: "uint8", shape: [2, 2], data: [2, 2, 3, 10], constant: false }],
        attributes: { axis: { int: 1 }, keepdims: { int: 1 }, select_last_index: { int: 1 } },
        output: { name: "result", dtype: "int64", shape: [2, 1], data: [1, 1] },
    },
    {
        name: "test_argmax_negative_axis_keepdims_random_select_last_index",
        op: "ArgMax",
        source: "onnx/onnx onnx/backend/test/case/node/argmax.py ArgMax.export_negative_axis_keepdims_select_last_index (test_argmax_negative_axis_keepdims_random_select_last_index)",
        note: "data = np.random.uniform(-10, 10, [2, 3, 4]) in the source: fixed int8 values with ties here, expected = argmax_use_numpy_select_last_index(data, axis=-1, keepdims=1).",
        inputs: [
            {
                name: "data",
                dtype: "int8",
                shape: [2, 3, 4],
                data: [0, 2, 0, 1, 0, 1, 2, 0, 2, 0, 1, 0, 1, 2, 0, 2, 0, 1, 0, 1, 2, 0, 2, 0],
                constant: false,
            },
        ],
        attributes: { axis: { int: -1 }, keepdims: { int: 1 }, select_last_index: { int: 1 } },
        output: { name: "result", dtype: "int64", shape: [2, 3, 1], data: [1, 2, 0, 3, 3, 2] },
    },
    {
        name: "test_argmax_keepdims_random",
        op: "ArgMax",
        source: "onnx/onnx onnx/backend/test/case/node/argmax.py ArgMax.export_keepdims (test_argmax_keepdims_random)",
        note: "data = np.random.uniform(-10, 10, [2, 3, 4]) in the source: fixed int32 values here, expected = argmax_use_numpy(data, axis=1, keepdims=1).",
        inputs: [
            {
                name: "data",
                dtype: "int32",
                shape: [2, 3, 4],
                data: [-1, 2, 2, 1, 1, 1, 0, 0, 0, -1, -1, -1, 2, 2, 1, 1, 1, 0, 0, 0, -1, -1, -1, 2],
                constant: false,
            },
        ],
        attributes: { axis: { int: 1 }, keepdims: { int: 1 } },
        output: { name: "result", dtype: "int64", shape: [2, 1, 4], data: [1, 0, 0, 0, 0, 0, 0, 2] },
    },
    {
        name: "test_argmax_default_axis_example (data [[2, 1], [3, 10]])",
        op: "ArgMax",
        source: "onnx/onnx onnx/backend/test/case/node/argmax.py at commit 00af38f17a8b20dc7ebc5e479e65a9406ec89766, ArgMax.export_default_axes_keepdims (test_argmax_default_axis_example)",
        note: "Literal example of the earlier version of the file (data [[2, 1], [3, 10]], default axis 0, keepdims 1 -> [[1, 1]]), transcribed as int8.",
        inputs: [{ name: "data", dtype: "int8", shape: [2, 2], data: [2, 1, 3, 10], constant: false }],
        attributes: { keepdims: { int: 1 } },
        output: { name: "result", dtype: "int64", shape: [1, 2], data: [1, 1] },
    },
    {
        name: "test_reshape_negative_dim",
        op: "Reshape",
        source: "onnx/onnx onnx/backend/test/case/node/reshape.py Reshape.export_reshape (test_reshape_negative_dim)",
        note: "data = np.random.random_sample([2, 3, 4]) in the source: int8 0..23 here; shape [2, -1, 2] is the source's; expected = reshape_reference_implementation(data, shape), i.e. the same elements in shape [2, 6, 2].",
        inputs: [
            {
                name: "data",
                dtype: "int8",
                shape: [2, 3, 4],
                data: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23],
                constant: false,
            },
            { name: "shape", dtype: "int64", shape: [3], data: [2, -1, 2], constant: true },
        ],
        output: {
            name: "reshaped",
            dtype: "int8",
            shape: [2, 6, 2],
            data: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23],
        },
    },
    {
        name: "test_reshape_zero_dim",
        op: "Reshape",
        source: "onnx/onnx onnx/backend/test/case/node/reshape.py Reshape.export_reshape (test_reshape_zero_dim)",
        note: "data = np.random.random_sample([2, 3, 4]) in the source: uint8 0..23 here; shape [2, 0, 4, 1] is the source's; expected = reshape_reference_implementation(data, shape), i.e. the same elements in shape [2, 3, 4, 1].",
        inputs: [
            {
                name: "data",
                dtype: "uint8",
                shape: [2, 3, 4],
                data: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23],
                constant: false,
            },
            { name: "shape", dtype: "int64", shape: [4], data: [2, 0, 4, 1], constant: true },
        ],
        output: {
            name: "reshaped",
            dtype: "uint8",
            shape: [2, 3, 4, 1],
            data: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23],
        },
    },
    {
        name: "test_reshape_zero_and_negative_dim",
        op: "Reshape",
        source: "onnx/onnx onnx/backend/test/case/node/reshape.py Reshape.export_reshape (test_reshape_zero_and_negative_dim)",
        note: "data = np.random.random_sample([2, 3, 4]) in the source: int32 0..23 here; shape [2, 0, 1, -1] is the source's; expected = reshape_reference_implementation(data, shape), i.e. the same elements in shape [2, 3, 1, 4].",
        inputs: [
            {
                name: "data",
                dtype: "int32",
                shape: [2, 3, 4],
                data: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23],
                constant: false,
            },
            { name: "shape", dtype: "int64", shape: [4], data: [2, 0, 1, -1], constant: true },
        ],
        output: {
            name: "reshaped",
            dtype: "int32",
            shape: [2, 3, 1, 4],
            data: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23],
        },
    },
    {
        name: "test_reshape_reordered_all_dims",
        op: "Reshape",
        source: "onnx/onnx onnx/backend/test/case/node/reshape.py Reshape.export_reshape (test_reshape_reordered_all_dims)",
        note: "data = np.random.random_sample([2, 3, 4]) in the source: int64 0..23 here; shape [4, 2, 3] is the source's; expected = reshape_reference_implementation(data, shape), i.e. the same elements in shape [4, 2, 3].",
        inputs: [
            {
                name: "data",
                dtype: "int64",
                shape: [2, 3, 4],
                data: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23],
                constant: false,
            },
            { name: "shape", dtype: "int64", shape: [3], data: [4, 2, 3], constant: true },
        ],
        output: {
            name: "reshaped",
            dtype: "int64",
            shape: [4, 2, 3],
            data: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23],
        },
    },
    {
        name: "test_flatten_axis0",
        op: "Flatten",
        source: "onnx/onnx onnx/backend/test/case/node/flatten.py Flatten.export (test_flatten_axis0)",
        note: "a = np.random.random_sample((2, 3, 4, 5)) in the source: int8 0..119 here; expected = np.reshape(a, new_shape) as the source computes it, shape [1, 120].",
        inputs: [
            {
                name: "a",
                dtype: "int8",
                shape: [2, 3, 4, 5],
                data: [
                    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26,
                    27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51,
                    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76,
                    77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95, 96, 97, 98, 99, 100,
                    101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, 113, 114, 115, 116, 117, 118, 119,
                ],
                constant: false,
            },
        ],
        attributes: { axis: { int: 0 } },
        output: {
            name: "b",
            dtype: "int8",
            shape: [1, 120],
            data: [
                0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27,
                28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53,
                54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79,
                80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95, 96, 97, 98, 99, 100, 101, 102, 103, 104,
                105, 106, 107, 108, 109, 110, 111, 112, 113, 114, 115, 116, 117, 118, 119,
            ],
        },
    },
    {
        name: "test_flatten_axis1",
        op: "Flatten",
        source: "onnx/onnx onnx/backend/test/case/node/flatten.py Flatten.export (test_flatten_axis1)",
        note: "a = np.random.random_sample((2, 3, 4, 5)) in the source: uint8 0..119 here; expected = np.reshape(a, new_shape) as the source computes it, shape [2, 60].",
        inputs: [
            {
                name: "a",
                dtype: "uint8",
                shape: [2, 3, 4, 5],
                data: [
                    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26,
                    27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51,
                    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76,
                    77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95, 96, 97, 98, 99, 100,
                    101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, 113, 114, 115, 116, 117, 118, 119,
                ],
                constant: false,
            },
        ],
        attributes: { axis: { int: 1 } },
        output: {
            name: "b",
            dtype: "uint8",
            shape: [2, 60],
            data: [
                0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27,
                28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53,
                54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79,
                80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95, 96, 97, 98, 99, 100, 101, 102, 103, 104,
                105, 106, 107, 108, 109, 110, 111, 112, 113, 114, 115, 116, 117, 118, 119,
            ],
        },
    },
    {
        name: "test_flatten_default_axis",
        op: "Flatten",
        source: "onnx/onnx onnx/backend/test/case/node/flatten.py Flatten.export_flatten_with_default_axis (test_flatten_default_axis)",
        note: "a = np.random.random_sample((5, 4, 3, 2)) in the source: int32 0..119 here; expected = np.reshape(a, new_shape) as the source computes it, shape [5, 24].",
        inputs: [
            {
                name: "a",
                dtype: "int32",
                shape: [5, 4, 3, 2],
                data: [
                    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26,
                    27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51,
                    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76,
                    77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95, 96, 97, 98, 99, 100,
                    101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, 113, 114, 115, 116, 117, 118, 119,
                ],
                constant: false,
            },
        ],
        output: {
            name: "b",
            dtype: "int32",
            shape: [5, 24],
            data: [
                0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27,
                28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53,
                54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79,
                80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95, 96, 97, 98, 99, 100, 101, 102, 103, 104,
                105, 106, 107, 108, 109, 110, 111, 112, 113, 114, 115, 116, 117, 118, 119,
            ],
        },
    },
    {
        name: "test_flatten_negative_axis1",
        op: "Flatten",
        source: "onnx/onnx onnx/backend/test/case/node/flatten.py Flatten.export_flatten_negative_axis (test_flatten_negative_axis1)",
        note: "a = np.random.random_sample((2, 3, 4, 5)) in the source: int64 0..119 here; expected = np.reshape(a, new_shape) as the source computes it, shape [24, 5].",
        inputs: [
            {
                name: "a",
                dtype: "int64",
                shape: [2, 3, 4, 5],
                data: [
                    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26,
                    27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51,
                    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76,
                    77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95, 96, 97, 98, 99, 100,
                    101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, 113, 114, 115, 116, 117, 118, 119,
                ],
                constant: false,
            },
        ],
        attributes: { axis: { int: -1 } },
        output: {
            name: "b",
            dtype: "int64",
            shape: [24, 5],
            data: [
                0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27,
                28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53,
                54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79,
                80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95, 96, 97, 98, 99, 100, 101, 102, 103, 104,
                105, 106, 107, 108, 109, 110, 111, 112, 113, 114, 115, 116, 117, 118, 119,
            ],
        },
    },
    {
        name: "Cast 200 (int32) -> -56 (int8)",
        op: "Cast",
        source: 'onnx/onnx docs/Operators.md#Cast, the operator doc (Cast_ver13_doc and later, onnx/defs/tensor): "fixed point [to fixed point]: when OOR, discard higher bits and reinterpret (with respect to two\'s complement representation for signed types). For example, 200 (int16) -> -56 (int8)."',
        note: "The spec's example with an int32 source (int16 is not a subset dtype). Outside the subset: the subset refuses any Cast that could wrap.",
        inputs: [{ name: "input", dtype: "int32", shape: [1], data: [200], constant: false }],
        attributes: { to: { int: 3 } },
        output: { name: "output", dtype: "int8", shape: [1], data: [-56] },
        outsideSubset: { code: "OVERFLOW", reason: "a Cast that can wrap" },
    },
    {
        name: "Cast 200 (uint8) -> -56 (int8)",
        op: "Cast",
        source: 'onnx/onnx docs/Operators.md#Cast, the operator doc (Cast_ver13_doc and later, onnx/defs/tensor): "fixed point [to fixed point]: when OOR, discard higher bits and reinterpret (with respect to two\'s complement representation for signed types). For example, 200 (int16) -> -56 (int8)."',
        note: "The spec's example with a uint8 source (the same 8 low bits, reinterpreted). Outside the subset: the subset refuses any Cast that could wrap.",
        inputs: [{ name: "input", dtype: "uint8", shape: [1], data: [200], constant: false }],
        attributes: { to: { int: 3 } },
        output: { name: "output", dtype: "int8", shape: [1], data: [-56] },
        outsideSubset: { code: "OVERFLOW", reason: "a Cast that can wrap" },
    },
    {
        name: "Cast 200 (int32) -> 200 (uint8), in range",
        op: "Cast",
        source: 'onnx/onnx docs/Operators.md#Cast, the operator doc (Cast_ver13_doc and later, onnx/defs/tensor): "fixed point [to fixed point]: when OOR, discard higher bits and reinterpret (with respect to two\'s complement representation for signed types). For example, 200 (int16) -> -56 (int8)."',
        note: "The spec's value 200 cast to a type that holds it: by the same rule (only an out-of-range value changes) it stays 200. The input's declared range [0, 255] keeps the Cast inside the subset.",
        inputs: [{ name: "input", dtype: "int32", shape: [1], data: [200], constant: false, range: [0, 255] }],
        attributes: { to: { int: 2 } },
        output: { name: "output", dtype: "uint8", shape: [1], data: [200] },
    },
    {
        name: "Cast -56 (int8) -> -56 (int32), widening",
        op: "Cast",
        source: 'onnx/onnx docs/Operators.md#Cast, the operator doc (Cast_ver13_doc and later, onnx/defs/tensor): "fixed point [to fixed point]: when OOR, discard higher bits and reinterpret (with respect to two\'s complement representation for signed types). For example, 200 (int16) -> -56 (int8)."',
        note: "The spec's result -56 (int8) widened to int32: in range, so unchanged.",
        inputs: [{ name: "input", dtype: "int8", shape: [1], data: [-56], constant: false }],
        attributes: { to: { int: 6 } },
        output: { name: "output", dtype: "int32", shape: [1], data: [-56] },
    },
    {
        name: "test_gather_negative_indices",
        op: "Gather",
        source: "onnx/onnx onnx/backend/test/case/node/gather.py Gather.export_gather_negative_indices (test_gather_negative_indices)",
        note: "Literal example: data = np.arange(10) (float32 in the source, int32 here), indices [0, -9, -10] (int64) -> [0, 1, 0]. indices are declared in [-10, 9].",
        inputs: [
            { name: "data", dtype: "int32", shape: [10], data: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], constant: true },
            { name: "indices", dtype: "int64", shape: [3], data: [0, -9, -10], constant: false, range: [-10, 9] },
        ],
        attributes: { axis: { int: 0 } },
        output: { name: "y", dtype: "int32", shape: [3], data: [0, 1, 0] },
    },
    {
        name: "test_gather_0",
        op: "Gather",
        source: "onnx/onnx onnx/backend/test/case/node/gather.py Gather.export_gather_0 (test_gather_0)",
        note: "data = np.random.randn(5, 4, 3, 2) in the source: int8 0..119 here; indices [0, 1, 3] (int64, declared in [-5, 4]); expected = np.take(data, indices, axis=0).",
        inputs: [
            {
                name: "data",
                dtype: "int8",
                shape: [5, 4, 3, 2],
                data: [
                    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26,
                    27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51,
                    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76,
                    77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95, 96, 97, 98, 99, 100,
                    101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, 113, 114, 115, 116, 117, 118, 119,
                ],
                constant: true,
            },
            { name: "indices", dtype: "int64", shape: [3], data: [0, 1, 3], constant: false, range: [-5, 4] },
        ],
        attributes: { axis: { int: 0 } },
        output: {
            name: "y",
            dtype: "int8",
            shape: [3, 4, 3, 2],
            data: [
                0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27,
                28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 72, 73, 74, 75, 76, 77,
                78, 79, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95,
            ],
        },
    },
    {
        name: "test_gather_1",
        op: "Gather",
        source: "onnx/onnx onnx/backend/test/case/node/gather.py Gather.export_gather_1 (test_gather_1)",
        note: "data = np.random.randn(5, 4, 3, 2) in the source: int32 0..119 here; indices [0, 1, 3] (int64, declared in [-4, 3]); expected = np.take(data, indices, axis=1).",
        inputs: [
            {
                name: "data",
                dtype: "int32",
                shape: [5, 4, 3, 2],
                data: [
                    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26,
                    27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51,
                    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76,
                    77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95, 96, 97, 98, 99, 100,
                    101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, 113, 114, 115, 116, 117, 118, 119,
                ],
                constant: true,
            },
            { name: "indices", dtype: "int64", shape: [3], data: [0, 1, 3], constant: false, range: [-4, 3] },
        ],
        attributes: { axis: { int: 1 } },
        output: {
            name: "y",
            dtype: "int32",
            shape: [5, 3, 3, 2],
            data: [
                0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33,
                34, 35, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 66, 67, 68, 69, 70, 71,
                72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 83, 90, 91, 92, 93, 94, 95, 96, 97, 98, 99, 100, 101, 102,
                103, 104, 105, 106, 107, 114, 115, 116, 117, 118, 119,
            ],
        },
    },
    {
        name: "test_gather_2d_indices",
        op: "Gather",
        source: "onnx/onnx onnx/backend/test/case/node/gather.py Gather.export_gather_2d_indices (test_gather_2d_indices)",
        note: "data = np.random.randn(3, 3) in the source: uint8 0..8 here; indices [[0, 2]] (int64, declared in [-3, 2]); expected = np.take(data, indices, axis=1).",
        inputs: [
            { name: "data", dtype: "uint8", shape: [3, 3], data: [0, 1, 2, 3, 4, 5, 6, 7, 8], constant: true },
            { name: "indices", dtype: "int64", shape: [1, 2], data: [0, 2], constant: false, range: [-3, 2] },
        ],
        attributes: { axis: { int: 1 } },
        output: { name: "y", dtype: "uint8", shape: [3, 1, 2], data: [0, 2, 3, 5, 6, 8] },
    },
    {
        name: "test_gather_negative_indices (data as a graph input)",
        op: "Gather",
        source: "onnx/onnx onnx/backend/test/case/node/gather.py Gather.export_gather_negative_indices (test_gather_negative_indices)",
        note: "The literal example with data fed at run time: outside the subset, which takes Gather's data only as a constant.",
        inputs: [
            { name: "data", dtype: "int32", shape: [10], data: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], constant: false },
            { name: "indices", dtype: "int64", shape: [3], data: [0, -9, -10], constant: false, range: [-10, 9] },
        ],
        attributes: { axis: { int: 0 } },
        output: { name: "y", dtype: "int32", shape: [3], data: [0, 1, 0] },
        outsideSubset: { code: "NOT_CONSTANT", reason: "data must be a constant" },
    },
];

function initializerData(input: SpecInput): InitializerData {
    switch (input.dtype) {
        case "int8":
            return Int8Array.from(input.data, Number);
        case "uint8":
            return Uint8Array.from(input.data, Number);
        case "int32":
            return Int32Array.from(input.data, Number);
        case "int64":
            return BigInt64Array.from(input.data, (v) => BigInt(v));
    }
}

/** The case's graph inputs (non-constant inputs), in order: the manifest's inputs and the request's tensors. */
export function specCaseGraphInputs(c: SpecCase): SpecInput[] {
    return c.inputs.filter((input) => !input.constant);
}

/** The manifest of the case's model (version 1; integer tensors, onnxType = dtype; declared ranges as strings). */
export function specCaseManifestJson(c: SpecCase): string {
    const inputs = specCaseGraphInputs(c).map((input) => ({
        name: input.name,
        dtype: input.dtype,
        shape: input.shape,
        onnxType: input.dtype,
        ...(input.range === undefined ? {} : { range: input.range.map((v) => String(v)) }),
    }));
    const { name, dtype, shape } = c.output;
    const outputs = [{ name, dtype, shape, onnxType: dtype }];
    return `${JSON.stringify({ version: 1, inputs, outputs }, null, 2)}\n`;
}

/**
 * The case as an ONNX model (opset 17) with its manifest embedded: one node `c.op` named `<op>_0`, constant inputs
 * as initializers, the others as graph inputs.
 */
export function specCaseModel(c: SpecCase): Uint8Array {
    const graph = buildOnnxModel({
        inputs: specCaseGraphInputs(c).map((input) => ({ name: input.name, type: input.dtype, shape: input.shape })),
        outputs: [{ name: c.output.name, type: c.output.dtype, shape: c.output.shape }],
        initializers: c.inputs
            .filter((input) => input.constant)
            .map((input) => ({ name: input.name, dims: input.shape, data: initializerData(input) })),
        nodes: [
            {
                opType: c.op,
                inputs: c.nodeInputs ?? c.inputs.map((input) => input.name),
                outputs: [c.output.name],
                attributes: c.attributes ?? {},
            },
        ],
    });
    return embedManifest(graph, specCaseManifestJson(c));
}

function toTensor(t: SpecInput | SpecOutput): Tensor {
    return { dtype: SPEC_DTYPE_CODES[t.dtype], shape: [...t.shape], data: t.data.map((v) => BigInt(v)) };
}

/** The canonical request input of the case: its graph inputs as a tensor list. */
export function specCaseInput(c: SpecCase): Uint8Array {
    return encodeTensors(specCaseGraphInputs(c).map(toTensor));
}

/** The canonical result output the spec expects: the expected output as a one-tensor list. */
export function specCaseOutput(c: SpecCase): Uint8Array {
    return encodeTensors([toTensor(c.output)]);
}
