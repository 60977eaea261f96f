/**
 * The subset's rules (oracle/src/verify/subsetRules.ts) against the two things they must agree with:
 * - onnxruntime-node, which the node runs: a one-node model of every (op, dtypes) combination the rules admit loads
 *   and runs in onnxruntime at both ends of the opset range, with the reference interpreter's output; every other
 *   combination of the four dtypes is refused by `analyseModel` (UNSUPPORTED_DTYPE) and by onnxruntime alike; and
 *   onnxruntime itself bounds the opset range (it refuses int8 Add and int32 Relu below MIN_OPSET, and any model
 *   above MAX_OPSET);
 * - docs/verifiable-subset.md, whose op table states each op's dtypes and attributes as the rules do.
 */
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { fromOrtTensor, toOrtTensor } from "../../../oracle/src/verify/ortTensors";
import {
    INT_DTYPE_CODES,
    intTensor,
    runGraph,
    type IntDType,
    type IntTensor,
} from "../../../oracle/src/verify/reference";
import { analyseModel, SubsetError } from "../../../oracle/src/verify/subset";
import {
    attributesText,
    dtypesText,
    MAX_OPSET,
    MIN_OPSET,
    SUBSET_DTYPES,
    SUBSET_OP_RULES,
    type SubsetOp,
} from "../../../oracle/src/verify/subsetRules";
import type { InitializerData } from "../../../oracle/src/toolkit/onnxGraph";
import { graphModel, type GraphSpec } from "./graphs";

type RuleOp = SubsetOp | "Constant";
/** One dtype per key of the op's rule (`T`, `A`, `B`, `data`, ...). */
type DTypes = Readonly<Record<string, IntDType>>;

/** A one-node model and the feeds to run it on. */
interface OneNode {
    spec: GraphSpec;
    feeds: Record<string, IntTensor>;
}

const ROOT = join(__dirname, "..", "..", "..");
const ORT_OPTIONS: ort.InferenceSession.SessionOptions = { logSeverityLevel: 4, intraOpNumThreads: 1 };

function typedArray(dtype: IntDType, values: readonly number[]): InitializerData {
    switch (dtype) {
        case "int8":
            return Int8Array.from(values);
        case "uint8":
            return Uint8Array.from(values);
        case "int32":
            return Int32Array.from(values);
        case "int64":
            return BigInt64Array.from(values, BigInt);
    }
}

/** Four elements that fit every dtype; negative ones where the dtype is signed. */
function sample(dtype: IntDType): number[] {
    return dtype === "uint8" ? [3, 0, 2, 5] : [-3, 0, 2, 5];
}

/** A [2, 2] graph input `x` of `dtype` holding `data`, declared in [lo, hi]. */
function inputX(
    dtype: IntDType,
    data: number[],
    range: [number, number],
): Pick<OneNode, "feeds"> & {
    input: GraphSpec["inputs"][number];
} {
    return {
        input: { name: "x", type: dtype, shape: [2, 2], range },
        feeds: { x: intTensor(dtype, [2, 2], data) },
    };
}

/** x [2, 2] `op` a constant c [2]: values small enough for every dtype's result (and c has no zero for Div). */
function binary(op: RuleOp, d: DTypes): OneNode {
    const t = d["T"]!;
    const x = inputX(t, [2, 3, 4, 5], [2, 5]);
    return {
        spec: {
            inputs: [x.input],
            outputs: [{ name: "y", type: t, shape: [2, 2] }],
            initializers: [{ name: "c", dims: [2], data: typedArray(t, [2, 1]) }],
            nodes: [{ opType: op, inputs: ["x", "c"], outputs: ["y"] }],
        },
        feeds: x.feeds,
    };
}

/** x [2, 2] through `op` with `attributes` (and constant extra inputs), giving y of `outType` and `outShape`. */
function unary(
    op: RuleOp,
    dtype: IntDType,
    out: { type: IntDType; shape: number[] },
    extra: Partial<Pick<GraphSpec["nodes"][number], "attributes">> & {
        initializers?: GraphSpec["initializers"];
    } = {},
): OneNode {
    const x = inputX(dtype, sample(dtype), dtype === "uint8" ? [0, 255] : [-3, 5]);
    const constants = (extra.initializers ?? []).map((i) => i.name);
    return {
        spec: {
            inputs: [x.input],
            outputs: [{ name: "y", ...out }],
            initializers: extra.initializers ?? [],
            nodes: [{ opType: op, inputs: ["x", ...constants], outputs: ["y"], attributes: extra.attributes ?? {} }],
        },
        feeds: x.feeds,
    };
}

/** For each op, a one-node model of the given dtypes (one per key of the op's rule). */
const ONE_NODE: Readonly<Record<RuleOp, (d: DTypes) => OneNode>> = {
    MatMulInteger: (d) => {
        const a = inputX(d["A"]!, sample(d["A"]!), d["A"] === "uint8" ? [0, 255] : [-128, 127]);
        return {
            spec: {
                inputs: [{ ...a.input, name: "a" }],
                outputs: [{ name: "y", type: "int32", shape: [2, 2] }],
                initializers: [{ name: "w", dims: [2, 2], data: typedArray(d["B"]!, [1, 2, 3, 4]) }],
                nodes: [{ opType: "MatMulInteger", inputs: ["a", "w"], outputs: ["y"] }],
            },
            feeds: { a: a.feeds["x"]! },
        };
    },
    Add: (d) => binary("Add", d),
    Sub: (d) => binary("Sub", d),
    Mul: (d) => binary("Mul", d),
    Div: (d) => binary("Div", d),
    Max: (d) => binary("Max", d),
    Min: (d) => binary("Min", d),
    Relu: (d) => unary("Relu", d["T"]!, { type: d["T"]!, shape: [2, 2] }),
    Clip: (d) =>
        unary(
            "Clip",
            d["T"]!,
            { type: d["T"]!, shape: [2, 2] },
            {
                initializers: [
                    { name: "lo", dims: [], data: typedArray(d["T"]!, [1]) },
                    { name: "hi", dims: [], data: typedArray(d["T"]!, [4]) },
                ],
            },
        ),
    ArgMax: (d) =>
        unary(
            "ArgMax",
            d["data"]!,
            { type: "int64", shape: [2] },
            {
                attributes: { axis: { int: 1 }, keepdims: { int: 0 }, select_last_index: { int: 1 } },
            },
        ),
    Reshape: (d) =>
        unary(
            "Reshape",
            d["T"]!,
            { type: d["T"]!, shape: [4] },
            {
                initializers: [{ name: "shape", dims: [1], data: BigInt64Array.from([4n]) }],
                attributes: { allowzero: { int: 0 } },
            },
        ),
    Flatten: (d) => unary("Flatten", d["T"]!, { type: d["T"]!, shape: [1, 4] }, { attributes: { axis: { int: 0 } } }),
    Cast: (d) => {
        // Values every target holds, so the analysis (which refuses a Cast that could wrap) admits it.
        const x = inputX(d["input"]!, [0, 1, 2, 5], [0, 5]);
        return {
            spec: {
                inputs: [x.input],
                outputs: [{ name: "y", type: d["to"]!, shape: [2, 2] }],
                nodes: [
                    {
                        opType: "Cast",
                        inputs: ["x"],
                        outputs: ["y"],
                        attributes: { to: { int: INT_DTYPE_CODES[d["to"]!] } },
                    },
                ],
            },
            feeds: x.feeds,
        };
    },
    Gather: (d) => ({
        spec: {
            inputs: [{ name: "i", type: d["indices"]!, shape: [3], range: [0, 2] }],
            outputs: [{ name: "y", type: d["data"]!, shape: [3] }],
            initializers: [{ name: "table", dims: [3], data: typedArray(d["data"]!, [7, 8, 9]) }],
            nodes: [{ opType: "Gather", inputs: ["table", "i"], outputs: ["y"], attributes: { axis: { int: 0 } } }],
        },
        feeds: { i: intTensor(d["indices"]!, [3], [2, 0, 1]) },
    }),
    Constant: (d) => ({
        spec: {
            inputs: [],
            outputs: [{ name: "y", type: d["value"]!, shape: [2] }],
            nodes: [
                {
                    opType: "Constant",
                    inputs: [],
                    outputs: ["y"],
                    attributes: { value: { tensor: { name: "v", dims: [2], data: typedArray(d["value"]!, [6, 1]) } } },
                },
            ],
        },
        feeds: {},
    }),
};

/** Every assignment of one dtype from `choices[key]` to each key. */
function combinations(choices: Readonly<Record<string, readonly IntDType[]>>): DTypes[] {
    return Object.entries(choices).reduce<DTypes[]>(
        (acc, [key, dtypes]) => acc.flatMap((partial) => dtypes.map((dtype) => ({ ...partial, [key]: dtype }))),
        [{}],
    );
}

function comboText(d: DTypes): string {
    return Object.entries(d)
        .map(([key, dtype]) => (key === "T" ? dtype : `${key} ${dtype}`))
        .join(", ");
}

function isAdmitted(op: RuleOp, d: DTypes): boolean {
    const rule = SUBSET_OP_RULES[op].dtypes;
    return Object.entries(d).every(([key, dtype]) => rule[key]!.includes(dtype));
}

async function runOnnxRuntime(model: Uint8Array, feeds: Record<string, IntTensor>): Promise<Record<string, IntTensor>> {
    const session = await ort.InferenceSession.create(model, ORT_OPTIONS);
    try {
        const inputs = Object.fromEntries(Object.entries(feeds).map(([name, t]) => [name, toOrtTensor(t)]));
        const outputs = await session.run(inputs);
        return Object.fromEntries(Object.entries(outputs).map(([name, t]) => [name, fromOrtTensor(t)]));
    } finally {
        await session.release();
    }
}

/** What onnxruntime says when asked to load `model`: "loaded", or its error. */
async function ortLoad(model: Uint8Array): Promise<string> {
    try {
        const session = await ort.InferenceSession.create(model, ORT_OPTIONS);
        await session.release();
        return "loaded";
    } catch (err) {
        return String(err);
    }
}

const OPS = Object.keys(SUBSET_OP_RULES) as RuleOp[];

describe("verify/subsetRules", function () {
    describe("every (op, dtypes) the subset admits loads and runs in onnxruntime-node, as the reference computes it", function () {
        for (const op of OPS) {
            for (const dtypes of combinations(SUBSET_OP_RULES[op].dtypes)) {
                it(`${op} (${comboText(dtypes)}), opsets ${MIN_OPSET} and ${MAX_OPSET}`, async function () {
                    const { spec, feeds } = ONE_NODE[op](dtypes);
                    for (const opset of [MIN_OPSET, MAX_OPSET]) {
                        const model = graphModel({ ...spec, opset });
                        expect(analyseModel(model).outputs.map((o) => o.dtype)).to.deep.equal([spec.outputs[0]!.type]);
                        const want = runGraph(model, feeds);
                        const got = await runOnnxRuntime(model, feeds);
                        expect(got, `opset ${opset}`).to.deep.equal(want);
                    }
                });
            }
        }
    });

    describe("every other combination of the four dtypes is refused by analyseModel and by onnxruntime", function () {
        for (const op of OPS) {
            const keys = Object.fromEntries(Object.keys(SUBSET_OP_RULES[op].dtypes).map((k) => [k, SUBSET_DTYPES]));
            for (const dtypes of combinations(keys).filter((d) => !isAdmitted(op, d))) {
                it(`${op} (${comboText(dtypes)})`, async function () {
                    const model = graphModel({ ...ONE_NODE[op](dtypes).spec, opset: MAX_OPSET });
                    let thrown: unknown;
                    try {
                        analyseModel(model);
                    } catch (err) {
                        thrown = err;
                    }
                    expect(thrown).to.be.instanceOf(SubsetError);
                    expect((thrown as SubsetError).code).to.equal("UNSUPPORTED_DTYPE");
                    // If onnxruntime starts loading it, the subset could admit it: widen SUBSET_OP_RULES and the docs.
                    expect(await ortLoad(model)).to.match(/invalid model|Could not find an implementation/);
                });
            }
        }
    });

    it("int64 Relu: onnxruntime-node has no kernel for it (so the subset refuses it)", async function () {
        const model = graphModel({ ...ONE_NODE.Relu({ T: "int64" }).spec, opset: MAX_OPSET });
        expect(await ortLoad(model)).to.match(/Could not find an implementation for Relu\(14\)/);
        expect(SUBSET_OP_RULES.Relu.dtypes["T"]).to.not.include("int64");
    });

    it(`opset ${MIN_OPSET} is the floor: at ${MIN_OPSET - 1} onnxruntime refuses int8 Add and int32 Relu as invalid`, async function () {
        const add = graphModel({ ...ONE_NODE.Add({ T: "int8" }).spec, opset: MIN_OPSET - 1 });
        const relu = graphModel({ ...ONE_NODE.Relu({ T: "int32" }).spec, opset: MIN_OPSET - 1 });
        expect(await ortLoad(add)).to.match(/Type 'tensor\(int8\)' of input parameter \(x\) of operator \(Add\)/);
        expect(await ortLoad(relu)).to.match(/Type 'tensor\(int32\)' of input parameter \(x\) of operator \(Relu\)/);
    });

    it(`opset ${MAX_OPSET} is the ceiling: onnxruntime-node refuses opset ${MAX_OPSET + 1}`, async function () {
        // If this starts failing, onnxruntime moved on: re-read ONNX's changelog for the subset's ops before raising
        // MAX_OPSET (subsetRules.ts says what changed up to it).
        const model = graphModel({ ...ONE_NODE.Add({ T: "int32" }).spec, opset: MAX_OPSET + 1 });
        expect(await ortLoad(model)).to.match(new RegExp(`Opset ${MAX_OPSET + 1} is under development`));
    });

    describe("docs/verifiable-subset.md", function () {
        const doc = readFileSync(join(ROOT, "docs", "verifiable-subset.md"), "utf8");
        /** The op table's rows: the ops of the first cell, then the cells. */
        const rows = doc
            .split("\n")
            .filter((line) => /^\| `[A-Z]/.test(line))
            .map((line) =>
                line
                    .split("|")
                    .slice(1, -1)
                    .map((cell) => cell.trim()),
            )
            .map((cells) => ({ ops: [...cells[0]!.matchAll(/`(\w+)`/g)].map((m) => m[1]!), cells }));

        it("the op table has one row per op, stating its dtypes and attributes as SUBSET_OP_RULES does", function () {
            expect(rows.flatMap((r) => r.ops).sort()).to.deep.equal([...OPS].sort());
            for (const { ops, cells } of rows) {
                for (const op of ops as RuleOp[]) {
                    expect(cells[1], `${op}: dtypes`).to.equal(dtypesText(SUBSET_OP_RULES[op]));
                    expect(cells[2], `${op}: attributes`).to.equal(attributesText(SUBSET_OP_RULES[op]));
                }
            }
        });

        it("states the opset range", function () {
            expect(doc).to.contain(`ai.onnx opsets **${MIN_OPSET} to ${MAX_OPSET}**`);
        });
    });
});
