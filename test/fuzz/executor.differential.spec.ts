/**
 * Differential properties of the on-chain executor: for random models of each op of the verifiable subset (and
 * random integer MLPs), compiled with `compileModel`, and NUM_RUNS * INPUTS_PER_MODEL = 2,000 random inputs per
 * op (edge values of every range included: -128, 127, 0, 255, the declared bounds), the Solidity IntegerExecutor's
 * output bytes equal the reference interpreter's (`runGraph`) canonical encoding, and so do onnxruntime's outputs
 * (every model the subset admits is one onnxruntime can run: test/oracle/verify/subsetRules.spec.ts).
 *
 * Inputs are run through ExecutorHarness.executeMany, in batches of up to 200 inputs and about 3M gas per eth_call
 * (the in-process network records a trace of every call; larger calls cost more time and memory than they save).
 *
 * Known limitation worked around here: compileModel cannot encode uint8 constants of 128 and more (program.ts
 * writes every constant as a signed integer), so uint8 divisors and Gather tables stay below 128.
 */
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import fc from "fast-check";
import { ethers } from "hardhat";
import { onnx } from "onnx-proto";
import * as ort from "onnxruntime-node";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

import { integerMlpModel } from "../../models/examples";
import { parseManifest } from "../../oracle/src/protocol/manifest";
import {
    buildOnnxModel,
    type AttributeValue,
    type InitializerSpec,
    type NodeSpec,
} from "../../oracle/src/toolkit/onnxGraph";
import { encodeTensors } from "../../oracle/src/protocol/tensorCodec";
import { fromOrtTensor, toOrtTensor } from "../../oracle/src/verify/ortTensors";
import { compileModel } from "../../oracle/src/verify/program";
import {
    dtypeRange,
    INT_DTYPE_CODES,
    intTensor,
    numel,
    runGraph,
    type IntDType,
    type IntTensor,
} from "../../oracle/src/verify/reference";
import { SUBSET_OP_RULES } from "../../oracle/src/verify/subsetRules";
import type { ExecutorHarness, IntegerExecutor } from "../../typechain-types";

/** Random models per op, and random inputs per model: NUM_RUNS * INPUTS_PER_MODEL inputs per op. */
const NUM_RUNS = 10;
const INPUTS_PER_MODEL = 200;
/** Most inputs per eth_call, and about the most gas of executor runs per eth_call. */
const MAX_BATCH = 200;
const CALL_GAS = 3_000_000;

const DTYPES: readonly IntDType[] = ["int8", "uint8", "int32", "int64"];
/** One thread: the models are tiny, and thread hand-offs would cost more than the kernels. */
const ORT_OPTIONS: ort.InferenceSession.SessionOptions = {
    logSeverityLevel: 3,
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: "sequential",
};

interface InputDecl {
    name: string;
    dtype: IntDType;
    shape: number[];
    range: [bigint, bigint];
}

interface Case {
    inputs: InputDecl[];
    outputs: string[];
    nodes: NodeSpec[];
    initializers?: InitializerSpec[];
}

interface Compiled {
    case: Case;
    onnx: Uint8Array;
    proto: onnx.ModelProto;
    program: Uint8Array;
}

type Feeds = Record<string, IntTensor>;

/**
 * A full garbage collection after each model. The in-process hardhat network (EDR) returns an execution trace of
 * every eth_call (for its stack traces), held in native memory that V8 does not see: without forced collections
 * the process grows by about 1 MB per executor run (over 10 GB for this file).
 */
setFlagsFromString("--expose-gc");
const collectGarbage = runInNewContext("gc") as () => void;

// ---------------------------------------------------------------------------------------------------------------
// Arbitraries

function fullRange(dtype: IntDType): [bigint, bigint] {
    const { min, max } = dtypeRange(dtype);
    return [min, max];
}

/** Elements in [lo, hi]: mostly uniform, often an edge (lo, hi, 0, ±1, -128, 127, 255 when inside). */
function valueArb([lo, hi]: [bigint, bigint]): fc.Arbitrary<bigint> {
    const edges = [lo, hi, 0n, 1n, -1n, -128n, 127n, 255n, lo + 1n, hi - 1n].filter((v) => v >= lo && v <= hi);
    return fc.oneof({ arbitrary: fc.constantFrom(...edges), weight: 1 }, { arbitrary: fc.bigInt(lo, hi), weight: 2 });
}

function tensorArb(dtype: IntDType, shape: number[], range: [bigint, bigint]): fc.Arbitrary<IntTensor> {
    const n = numel(shape);
    return fc.array(valueArb(range), { minLength: n, maxLength: n }).map((data) => intTensor(dtype, shape, data));
}

function feedsArb(inputs: readonly InputDecl[]): fc.Arbitrary<Feeds> {
    return fc
        .tuple(...inputs.map((i) => tensorArb(i.dtype, i.shape, i.range)))
        .map((tensors) => Object.fromEntries(inputs.map((i, k) => [i.name, tensors[k]!])));
}

const shapeArb = (minRank: number, maxRank: number, maxDim = 4) =>
    fc.array(fc.integer({ min: 1, max: maxDim }), { minLength: minRank, maxLength: maxRank });

/** `count` shapes that broadcast together: suffixes of one shape with some dims replaced by 1. */
function broadcastShapesArb(count: number): fc.Arbitrary<number[][]> {
    return shapeArb(0, 3).chain((full) =>
        fc.array(
            fc
                .tuple(
                    fc.integer({ min: 0, max: full.length }),
                    fc.array(fc.boolean(), { minLength: full.length, maxLength: full.length }),
                )
                .map(([drop, ones]) => full.slice(drop).map((d, i) => (ones[drop + i] ? 1 : d))),
            { minLength: count, maxLength: count },
        ),
    );
}

/** A sub-range [lo, hi] of [min, max] containing `pivot`. */
function rangeAround(min: bigint, max: bigint, pivot: bigint): fc.Arbitrary<[bigint, bigint]> {
    return fc.tuple(fc.bigInt(min, pivot), fc.bigInt(pivot, max));
}

/** Declared ranges of Add / Sub / Mul operands for which the overflow analysis proves the result in range. */
function safeRanges(op: string, dtype: IntDType): fc.Arbitrary<[[bigint, bigint], [bigint, bigint]]> {
    const { min, max } = dtypeRange(dtype);
    if (op === "Add") {
        // a in [aLo, aHi] around 0, b in [min - aLo, max - aHi] around 0: a + b within [min, max].
        return rangeAround(min, max, 0n).chain(([aLo, aHi]) =>
            fc.tuple(fc.constant<[bigint, bigint]>([aLo, aHi]), rangeAround(min - aLo, max - aHi, 0n)),
        );
    }
    if (op === "Sub") {
        if (dtype === "uint8") {
            // a - b >= 0: b at most a's lowest value.
            return rangeAround(0n, 255n, 128n).chain(([aLo, aHi]) =>
                fc.tuple(fc.constant<[bigint, bigint]>([aLo, aHi]), rangeAround(0n, aLo, 0n)),
            );
        }
        return rangeAround(min, max, 0n).chain(([aLo, aHi]) =>
            fc.tuple(fc.constant<[bigint, bigint]>([aLo, aHi]), rangeAround(aHi - max, aLo - min, 0n)),
        );
    }
    // Mul: |a| <= A and |b| <= max / A.
    const unsigned = dtype === "uint8";
    return fc.bigInt(1n, max).chain((bound) => {
        const other = max / bound;
        const a: [bigint, bigint] = [unsigned ? 0n : -bound, bound];
        const b: [bigint, bigint] = [unsigned ? 0n : -other, other];
        return fc.constant<[[bigint, bigint], [bigint, bigint]]>([a, b]);
    });
}

function init(name: string, t: IntTensor): InitializerSpec {
    const data =
        t.dtype === "int8"
            ? Int8Array.from(t.data, Number)
            : t.dtype === "uint8"
              ? Uint8Array.from(t.data, Number)
              : t.dtype === "int32"
                ? Int32Array.from(t.data, Number)
                : BigInt64Array.from(t.data);
    return { name, dims: t.shape, data };
}

function node(opType: string, inputs: string[], attributes: Record<string, AttributeValue> = {}): NodeSpec {
    return { opType, inputs, outputs: ["y"], attributes };
}

// ---------------------------------------------------------------------------------------------------------------
// Models and checks

function buildGraph(c: Case, outputs: { name: string; type: IntDType; shape: number[] }[]): Uint8Array {
    return buildOnnxModel({
        inputs: c.inputs.map((i) => ({ name: i.name, type: i.dtype, shape: i.shape })),
        outputs,
        nodes: c.nodes,
        initializers: c.initializers ?? [],
    });
}

/** Builds the case's graph (output dtypes and shapes from the reference) and compiles it with its manifest. */
function compile(c: Case): Compiled {
    const probe = Object.fromEntries(
        c.inputs.map((i) => [i.name, intTensor(i.dtype, i.shape, new Array<bigint>(numel(i.shape)).fill(i.range[0]))]),
    );
    const draft = runGraph(
        buildGraph(
            c,
            c.outputs.map((name) => ({ name, type: "int32", shape: [] })),
        ),
        probe,
    );
    const outputs = c.outputs.map((name) => ({ name, type: draft[name]!.dtype, shape: draft[name]!.shape }));
    const bytes = buildGraph(c, outputs);
    const manifest = JSON.stringify({
        version: 1,
        inputs: c.inputs.map((i) => ({ name: i.name, dtype: i.dtype, shape: i.shape, range: i.range.map(String) })),
        outputs: outputs.map((o) => ({ name: o.name, dtype: o.type, shape: o.shape })),
    });
    const { program } = compileModel(bytes, parseManifest(manifest));
    return { case: c, onnx: bytes, proto: onnx.ModelProto.decode(bytes), program };
}

function encode(tensors: readonly IntTensor[]): string {
    return ethers.hexlify(
        encodeTensors(tensors.map((t) => ({ dtype: INT_DTYPE_CODES[t.dtype], shape: [...t.shape], data: t.data }))),
    );
}

describe("IntegerExecutor (differential: reference == executor == onnxruntime)", function () {
    this.timeout(300_000);

    async function deploy(): Promise<{ executor: IntegerExecutor; harness: ExecutorHarness }> {
        const executor = await ethers.deployContract("IntegerExecutor");
        const harness = await ethers.deployContract("ExecutorHarness");
        return { executor, harness };
    }

    let totals: Record<string, number> = {};

    /** Runs `feeds` through the executor in batches that fit an eth_call; returns [codes, outputs]. */
    async function executeAll(program: Uint8Array, inputs: string[]): Promise<[number[], string[]]> {
        const { executor, harness } = await loadFixture(deploy);
        const exec = await executor.getAddress();
        const [gas] = await harness.measure(exec, program, inputs[0]!);
        const batch = Math.max(1, Math.min(MAX_BATCH, Math.floor(CALL_GAS / (Number(gas) + 5_000))));
        const codes: number[] = [];
        const outputs: string[] = [];
        for (let at = 0; at < inputs.length; at += batch) {
            const [c, o] = await harness.executeMany(exec, program, inputs.slice(at, at + batch), {
                gasLimit: 29_000_000,
            });
            codes.push(...c.map(Number));
            outputs.push(...o);
        }
        return [codes, outputs];
    }

    /** The whole differential check of one compiled model on `feeds`. */
    async function checkModel(label: string, m: Compiled, feeds: Feeds[]): Promise<void> {
        const want = feeds.map((f) => {
            const out = runGraph(m.proto, f);
            return encode(m.case.outputs.map((name) => out[name]!));
        });
        const [codes, outputs] = await executeAll(
            m.program,
            feeds.map((f) => encode(m.case.inputs.map((i) => f[i.name]!))),
        );
        // One assertion per model (chai costs about 0.5 ms per expect).
        expect(codes).to.deep.equal(feeds.map(() => 0));
        expect(outputs, "executor vs reference").to.deep.equal(want);
        const session = await ort.InferenceSession.create(m.onnx, ORT_OPTIONS);
        try {
            // Runs are independent: issue them together, so that the native calls overlap.
            const got = await Promise.all(
                feeds.map(async (f) => {
                    const ortFeeds: Record<string, ort.Tensor> = {};
                    for (const [name, t] of Object.entries(f)) ortFeeds[name] = toOrtTensor(t);
                    const result = await session.run(ortFeeds);
                    // As canonical bytes: dtype, shape and every element.
                    return encode(m.case.outputs.map((name) => fromOrtTensor(result[name]!)));
                }),
            );
            expect(got, "onnxruntime vs reference").to.deep.equal(want);
        } finally {
            await session.release();
        }
        totals[label] = (totals[label] ?? 0) + feeds.length;
        collectGarbage();
    }

    /** A property over random cases; each case is compiled and run on INPUTS_PER_MODEL random inputs. */
    async function property(label: string, seed: number, caseArb: fc.Arbitrary<Case>): Promise<void> {
        const arb = caseArb.chain((c) =>
            fc.tuple(
                fc.constant(c),
                fc.array(feedsArb(c.inputs), { minLength: INPUTS_PER_MODEL, maxLength: INPUTS_PER_MODEL }),
            ),
        );
        await fc.assert(
            fc.asyncProperty(arb, async ([c, feeds]) => checkModel(label, compile(c), feeds)),
            { seed, numRuns: NUM_RUNS, endOnFailure: true },
        );
        expect(totals[label]).to.be.at.least(NUM_RUNS * INPUTS_PER_MODEL);
    }

    before(function () {
        totals = {};
    });

    it("MatMulInteger (int8 / uint8 A and B, scalar a zero point, scalar and per-column b zero points)", async function () {
        const i8u8 = fc.constantFrom<IntDType>("int8", "uint8");
        const arb = fc
            .record({
                ta: i8u8,
                tb: i8u8,
                lead: shapeArb(0, 2, 3),
                k: fc.oneof(
                    fc.integer({ min: 1, max: 40 }),
                    fc.integer({ min: 60, max: 140 }),
                    // Long rows: lane sums above 2^24.
                    fc.integer({ min: 500, max: 700 }),
                ),
                n: fc.integer({ min: 1, max: 6 }),
                aZp: fc.boolean(),
                bZp: fc.constantFrom("none", "scalar", "column"),
            })
            .chain(({ ta, tb, lead, k, n, aZp, bZp }) =>
                fc.tuple(
                    fc.constant({ ta, tb, lead, k, n, aZp, bZp }),
                    tensorArb(tb, [k, n], fullRange(tb)),
                    tensorArb(ta, [], fullRange(ta)),
                    tensorArb(tb, bZp === "column" ? [n] : [], fullRange(tb)),
                ),
            )
            .map(([{ ta, lead, k, aZp, bZp }, w, az, bz]): Case => {
                const names = ["x", "w"];
                const initializers = [init("w", w)];
                if (aZp || bZp !== "none") {
                    initializers.push(init("az", aZp ? az : intTensor(ta, [], [0])));
                    names.push("az");
                }
                if (bZp !== "none") {
                    initializers.push(init("bz", bz));
                    names.push("bz");
                }
                return {
                    inputs: [{ name: "x", dtype: ta, shape: [...(k > 200 ? [] : lead), k], range: fullRange(ta) }],
                    outputs: ["y"],
                    nodes: [node("MatMulInteger", names)],
                    initializers,
                };
            });
        await property("MatMulInteger", 201, arb);
    });

    for (const [op, seed] of [
        ["Add", 202],
        ["Sub", 203],
        ["Mul", 204],
    ] as const) {
        it(`${op} (every dtype, broadcast maps 0, 1 and 2, operand ranges at the overflow bound)`, async function () {
            const arb = fc
                .tuple(fc.constantFrom(...DTYPES), broadcastShapesArb(2))
                .chain(([dtype, shapes]) => fc.tuple(fc.constant(dtype), fc.constant(shapes), safeRanges(op, dtype)))
                .map(([dtype, [sa, sb], [ra, rb]]): Case => ({
                    inputs: [
                        { name: "a", dtype, shape: sa!, range: ra },
                        { name: "b", dtype, shape: sb!, range: rb },
                    ],
                    outputs: ["y"],
                    nodes: [node(op, ["a", "b"])],
                }));
            await property(op, seed, arb);
        });
    }

    it("Div (every dtype, constant divisors incl. negative ones and ±1, broadcasting)", async function () {
        const arb = fc
            .tuple(fc.constantFrom(...DTYPES), broadcastShapesArb(2))
            .chain(([dtype, [sa, sb]]) => {
                const { min, max } = dtypeRange(dtype);
                // uint8 constants of 128 and more cannot be compiled (program.ts writes constants as signed).
                const top = dtype === "uint8" ? 127n : max;
                const divisor = valueArb([min, top]).map((v) => (v === 0n ? 1n : v));
                const n = numel(sb!);
                return fc.tuple(
                    fc.constant(dtype),
                    fc.constant(sa!),
                    fc.array(divisor, { minLength: n, maxLength: n }).map((d) => intTensor(dtype, sb!, d)),
                );
            })
            .map(([dtype, sa, d]): Case => {
                const [min, max] = fullRange(dtype);
                // INT_MIN / -1 overflows (the analysis refuses it, onnxruntime traps): dividends stay above INT_MIN.
                const range: [bigint, bigint] = dtype === "uint8" ? [min, max] : [min + 1n, max];
                return {
                    inputs: [{ name: "a", dtype, shape: sa, range }],
                    outputs: ["y"],
                    nodes: [node("Div", ["a", "d"])],
                    initializers: [init("d", d)],
                };
            });
        await property("Div", 205, arb);
    });

    for (const [op, seed] of [
        ["Max", 206],
        ["Min", 207],
    ] as const) {
        it(`${op} (1 to 3 inputs, broadcasting)`, async function () {
            const arb = fc
                .tuple(fc.constantFrom(...DTYPES), fc.integer({ min: 1, max: 3 }))
                .chain(([dtype, count]) => fc.tuple(fc.constant(dtype), broadcastShapesArb(count)))
                .map(([dtype, shapes]): Case => {
                    const inputs = shapes.map((shape, i) => ({ name: `x${i}`, dtype, shape, range: fullRange(dtype) }));
                    return {
                        inputs,
                        outputs: ["y"],
                        nodes: [
                            node(
                                op,
                                inputs.map((i) => i.name),
                            ),
                        ],
                    };
                });
            await property(op, seed, arb);
        });
    }

    it(`Relu (${SUBSET_OP_RULES.Relu.dtypes["T"]!.join(", ")}: the dtypes the subset admits)`, async function () {
        const arb = fc
            .tuple(fc.constantFrom(...SUBSET_OP_RULES.Relu.dtypes["T"]!), shapeArb(0, 3))
            .map(([dtype, shape]): Case => ({
                inputs: [{ name: "x", dtype, shape, range: fullRange(dtype) }],
                outputs: ["y"],
                nodes: [node("Relu", ["x"])],
            }));
        await property("Relu", 208, arb);
    });

    it("Clip (optional bounds, including min above max)", async function () {
        const arb = fc
            .tuple(fc.constantFrom(...DTYPES), shapeArb(0, 3))
            .chain(([dtype, shape]) =>
                fc.tuple(
                    fc.constant(dtype),
                    fc.constant(shape),
                    fc.option(tensorArb(dtype, [], fullRange(dtype)), { nil: undefined }),
                    fc.option(tensorArb(dtype, [], fullRange(dtype)), { nil: undefined }),
                ),
            )
            .map(([dtype, shape, lo, hi]): Case => {
                const initializers: InitializerSpec[] = [];
                if (lo) initializers.push(init("lo", lo));
                if (hi) initializers.push(init("hi", hi));
                return {
                    inputs: [{ name: "x", dtype, shape, range: fullRange(dtype) }],
                    outputs: ["y"],
                    nodes: [node("Clip", ["x", lo ? "lo" : "", hi ? "hi" : ""])],
                    initializers,
                };
            });
        await property("Clip", 209, arb);
    });

    it("ArgMax (axis incl. negative, keepdims, select_last_index, narrow ranges for ties)", async function () {
        const arb = fc
            .tuple(fc.constantFrom(...DTYPES), shapeArb(1, 3), fc.boolean())
            .chain(([dtype, shape, narrow]) =>
                fc.tuple(
                    fc.constant(dtype),
                    fc.constant(shape),
                    narrow
                        ? fc
                              .bigInt(fullRange(dtype)[0], fullRange(dtype)[1] - 2n)
                              .map((lo): [bigint, bigint] => [lo, lo + 2n])
                        : fc.constant(fullRange(dtype)),
                    fc.integer({ min: -shape.length, max: shape.length - 1 }),
                    fc.integer({ min: 0, max: 1 }),
                    fc.integer({ min: 0, max: 1 }),
                ),
            )
            .map(([dtype, shape, range, axis, keepdims, last]): Case => ({
                inputs: [{ name: "x", dtype, shape, range }],
                outputs: ["y"],
                nodes: [
                    node("ArgMax", ["x"], {
                        axis: { int: axis },
                        keepdims: { int: keepdims },
                        select_last_index: { int: last },
                    }),
                ],
            }));
        await property("ArgMax", 210, arb);
    });

    it("Reshape and Flatten (0 copies, one -1, any Flatten axis), followed by Max so the data is reused", async function () {
        const arb = fc
            .tuple(fc.constantFrom(...DTYPES), shapeArb(1, 3, 4))
            .chain(([dtype, shape]) =>
                fc.tuple(
                    fc.constant(dtype),
                    fc.constant(shape),
                    fc.shuffledSubarray(shape, { minLength: shape.length, maxLength: shape.length }),
                    fc.nat(4),
                    fc.integer({ min: -shape.length, max: shape.length }),
                ),
            )
            .map(([dtype, shape, perm, minusAt, axis]): Case => {
                const dims = perm.map((d, i) => (shape[i] === d ? 0 : d));
                const m = minusAt % dims.length;
                if (dims[m] !== 0) dims[m] = -1;
                return {
                    inputs: [{ name: "x", dtype, shape, range: fullRange(dtype) }],
                    outputs: ["r", "f", "y"],
                    nodes: [
                        { opType: "Reshape", inputs: ["x", "s"], outputs: ["r"] },
                        { opType: "Flatten", inputs: ["x"], outputs: ["f"], attributes: { axis: { int: axis } } },
                        { opType: "Max", inputs: ["r", "r"], outputs: ["y"] },
                    ],
                    initializers: [init("s", intTensor("int64", [dims.length], dims))],
                };
            });
        await property("Reshape/Flatten", 211, arb);
    });

    it("Cast between every pair of dtypes (declared ranges that the subset accepts: no wrap)", async function () {
        const arb = fc
            .tuple(fc.constantFrom(...DTYPES), fc.constantFrom(...DTYPES), shapeArb(0, 2, 5))
            .map(([from, to, shape]): Case => {
                const [a, b] = fullRange(from);
                const [c, d] = fullRange(to);
                const range: [bigint, bigint] = [a > c ? a : c, b < d ? b : d];
                return {
                    inputs: [{ name: "x", dtype: from, shape, range }],
                    outputs: ["y"],
                    nodes: [node("Cast", ["x"], { to: { int: INT_DTYPE_CODES[to] } })],
                };
            });
        await property("Cast", 212, arb);
    });

    it("Gather (constant table, any axis incl. negative, negative indices, int32 / int64 indices)", async function () {
        const arb = fc
            .tuple(
                fc.constantFrom(...DTYPES),
                shapeArb(1, 3),
                fc.constantFrom<IntDType>("int32", "int64"),
                shapeArb(0, 2),
            )
            .chain(([dtype, shape, indexType, indexShape]) => {
                // uint8 constants of 128 and more cannot be compiled (program.ts writes constants as signed).
                const range: [bigint, bigint] = dtype === "uint8" ? [0n, 127n] : fullRange(dtype);
                return fc.tuple(
                    tensorArb(dtype, shape, range),
                    fc.integer({ min: -shape.length, max: shape.length - 1 }),
                    fc.constant(indexType),
                    fc.constant(indexShape),
                );
            })
            .map(([table, axis, indexType, indexShape]): Case => {
                const dim = table.shape[axis < 0 ? axis + table.shape.length : axis]!;
                return {
                    inputs: [
                        { name: "i", dtype: indexType, shape: indexShape, range: [BigInt(-dim), BigInt(dim - 1)] },
                    ],
                    outputs: ["y"],
                    nodes: [node("Gather", ["t", "i"], { axis: { int: axis } })],
                    initializers: [init("t", table)],
                };
            });
        await property("Gather", 213, arb);
    });

    it("integer MLPs (integerMlpModel: random widths, batch and weights)", async function () {
        const arb = fc
            .record({
                widths: fc.array(fc.integer({ min: 1, max: 48 }), { minLength: 2, maxLength: 4 }),
                batch: fc.integer({ min: 1, max: 3 }),
                seed: fc.nat(),
            })
            .map(({ widths, batch, seed }) => ({ example: integerMlpModel({ widths, batch, seed }), widths, batch }));
        const withFeeds = arb.chain((m) =>
            fc.tuple(
                fc.constant(m),
                fc.array(tensorArb("int8", [m.batch, m.widths[0]!], fullRange("int8")), {
                    minLength: INPUTS_PER_MODEL,
                    maxLength: INPUTS_PER_MODEL,
                }),
            ),
        );
        await fc.assert(
            fc.asyncProperty(withFeeds, async ([{ example, widths, batch }, xs]) => {
                const c: Case = {
                    inputs: [{ name: "x", dtype: "int8", shape: [batch, widths[0]!], range: fullRange("int8") }],
                    outputs: ["label", "scores"],
                    nodes: [],
                };
                const m: Compiled = {
                    case: c,
                    onnx: example.onnx,
                    proto: onnx.ModelProto.decode(example.onnx),
                    program: compileModel(example.onnx).program,
                };
                await checkModel(
                    "MLP",
                    m,
                    xs.map((x) => ({ x })),
                );
            }),
            { seed: 214, numRuns: NUM_RUNS, endOnFailure: true },
        );
        expect(totals["MLP"]).to.be.at.least(NUM_RUNS * INPUTS_PER_MODEL);
    });
});
