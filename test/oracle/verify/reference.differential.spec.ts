/**
 * Differential properties: one-node ONNX models run in onnxruntime (CPU provider) and in the reference
 * interpreter must give identical dtype, shape and data.
 *
 * Where the reference refuses to wrap (Add / Sub / Mul / Div whose exact result leaves the dtype's range), the
 * property checks the other side of the contract instead: the reference throws INTEGER_OVERFLOW and onnxruntime's
 * value is the exact result (computed by the reference in int64) wrapped to the dtype.
 *
 * onnxruntime 1.30 CPU kernel coverage (probed): Relu has int8 and int32 kernels but none for int64 ("Could not
 * find an implementation for Relu(14)"), and uint8 is not a Relu type in ONNX, so Relu is compared on int8 and
 * int32 only. Everything else here runs on int8, uint8, int32 and int64.
 */
import { expect } from "chai";
import fc from "fast-check";
import * as ort from "onnxruntime-node";
import {
    buildOnnxModel,
    type AttributeValue,
    type InitializerSpec,
    type ValueSpec,
} from "../../../oracle/src/toolkit/onnxGraph";
import { fromOrtTensor, toOrtTensor } from "../../../oracle/src/verify/ortTensors";
import {
    cast,
    dtypeRange,
    INT_DTYPE_CODES,
    intTensor,
    numel,
    ReferenceExecutionError,
    runGraph,
    wrapToDType,
    type IntDType,
    type IntTensor,
} from "../../../oracle/src/verify/reference";

const NUM_RUNS = 40;
const DTYPES: readonly IntDType[] = ["int8", "uint8", "int32", "int64"];

interface Case {
    opType: string;
    inputs: (IntTensor | undefined)[];
    attributes?: Record<string, AttributeValue>;
    /** Inputs fed as initializers instead of graph inputs (e.g. Gather's constant table). */
    constants?: number[];
}

function initializerData(t: IntTensor): InitializerSpec["data"] {
    switch (t.dtype) {
        case "int8":
            return Int8Array.from(t.data, Number);
        case "uint8":
            return Uint8Array.from(t.data, Number);
        case "int32":
            return Int32Array.from(t.data, Number);
        case "int64":
            return BigInt64Array.from(t.data);
    }
}

function buildCase(
    c: Case,
    outDType: IntDType,
    outShape: number[],
): { bytes: Uint8Array; feeds: Record<string, IntTensor> } {
    const inputs: ValueSpec[] = [];
    const initializers: InitializerSpec[] = [];
    const feeds: Record<string, IntTensor> = {};
    const names = c.inputs.map((t, i) => {
        if (t === undefined) return "";
        const name = `in${i}`;
        if (c.constants?.includes(i)) initializers.push({ name, dims: t.shape, data: initializerData(t) });
        else {
            inputs.push({ name, type: t.dtype, shape: t.shape });
            feeds[name] = t;
        }
        return name;
    });
    const bytes = buildOnnxModel({
        inputs,
        outputs: [{ name: "out", type: outDType, shape: outShape }],
        nodes: [{ opType: c.opType, inputs: names, outputs: ["out"], attributes: c.attributes ?? {} }],
        initializers,
    });
    return { bytes, feeds };
}

/** Runs the one-node model in onnxruntime; `quiet` silences its error log (for cases expected to fail). */
async function runOrt(bytes: Uint8Array, feeds: Record<string, IntTensor>, quiet = false): Promise<IntTensor> {
    const session = await ort.InferenceSession.create(bytes, { logSeverityLevel: quiet ? 4 : 3 });
    try {
        const ortFeeds: Record<string, ort.Tensor> = {};
        for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = toOrtTensor(t);
        const out = await session.run(ortFeeds);
        return fromOrtTensor(out.out!);
    } finally {
        await session.release();
    }
}

function referenceOf(c: Case, outDType: IntDType): IntTensor {
    // The declared output shape does not matter to the reference; build with a placeholder.
    const { bytes, feeds } = buildCase(c, outDType, []);
    return runGraph(bytes, feeds).out!;
}

/** Runs the case on both sides; they must agree exactly. */
async function expectSame(c: Case, outDType: IntDType): Promise<void> {
    const want = referenceOf(c, outDType);
    const { bytes, feeds } = buildCase(c, outDType, want.shape);
    const got = await runOrt(bytes, feeds);
    expect(got.dtype).to.equal(want.dtype);
    expect(got.shape).to.deep.equal(want.shape);
    expect(got.data).to.deep.equal(want.data);
}

/**
 * Like expectSame, but if the reference refuses with INTEGER_OVERFLOW, checks that onnxruntime wrapped the exact
 * result (the reference's int64 result of the same op on widened inputs).
 */
async function expectSameOrOverflow(c: Case, dtype: IntDType): Promise<"same" | "overflow"> {
    let overflow: ReferenceExecutionError | undefined;
    try {
        referenceOf(c, dtype);
    } catch (err) {
        if (!(err instanceof ReferenceExecutionError) || err.code !== "INTEGER_OVERFLOW") throw err;
        overflow = err;
    }
    if (overflow === undefined) {
        await expectSame(c, dtype);
        return "same";
    }
    expect(dtype, "int64 cases are generated without overflow").to.not.equal("int64");
    expect(overflow.message).to.contain(`${c.opType}:`);
    const exact = referenceOf({ ...c, inputs: c.inputs.map((t) => t && cast(t, "int64")) }, "int64");
    const { min, max } = dtypeRange(dtype);
    expect(exact.data.some((v) => v < min || v > max)).to.equal(true);
    const { bytes, feeds } = buildCase(c, dtype, exact.shape);
    const got = await runOrt(bytes, feeds);
    expect(got.dtype).to.equal(dtype);
    expect(got.shape).to.deep.equal(exact.shape);
    expect(got.data).to.deep.equal(exact.data.map((v) => wrapToDType(v, dtype)));
    return "overflow";
}

// ---------------------------------------------------------------------------------------------------------------
// Arbitraries

const EDGES: Readonly<Record<IntDType, bigint[]>> = {
    int8: [-128n, -1n, 0n, 1n, 127n],
    uint8: [0n, 1n, 127n, 128n, 255n],
    int32: [-(2n ** 31n), -1n, 0n, 1n, 2n ** 31n - 1n],
    int64: [-(2n ** 63n), -1n, 0n, 1n, 2n ** 63n - 1n],
};

/** Elements of `dtype`: its edge values or any value in [lo, hi] (the dtype's range by default). */
function valueArb(dtype: IntDType, bounds?: { lo: bigint; hi: bigint }, edges = true): fc.Arbitrary<bigint> {
    const { min, max } = dtypeRange(dtype);
    const lo = bounds?.lo ?? min;
    const hi = bounds?.hi ?? max;
    const inRange = fc.bigInt(lo, hi);
    return edges
        ? fc.oneof(
              fc.constantFrom(...EDGES[dtype]),
              inRange,
              fc.bigInt(-3n, 3n).filter((v) => v >= min && v <= max),
          )
        : inRange;
}

function tensorArb(dtype: IntDType, shape: number[], values = valueArb(dtype)): fc.Arbitrary<IntTensor> {
    const n = numel(shape);
    return fc.array(values, { minLength: n, maxLength: n }).map((data) => intTensor(dtype, shape, data));
}

const shapeArb = (minRank: number, maxRank: number, maxDim = 3) =>
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

const dtypeArb = fc.constantFrom(...DTYPES);

async function check<T>(arb: fc.Arbitrary<T>, seed: number, body: (value: T) => Promise<void>): Promise<void> {
    await fc.assert(fc.asyncProperty(arb, body), { seed, numRuns: NUM_RUNS });
}

// ---------------------------------------------------------------------------------------------------------------

describe("verify/reference (differential against onnxruntime)", function () {
    /** Value bounds per op and dtype that keep int64 exact results in range (int64 is never widened). */
    const INT64_BOUNDS: Readonly<Record<string, { lo: bigint; hi: bigint }>> = {
        Add: { lo: -(2n ** 62n), hi: 2n ** 62n - 1n },
        Sub: { lo: -(2n ** 62n), hi: 2n ** 62n - 1n },
        Mul: { lo: -(2n ** 31n), hi: 2n ** 31n },
        Div: { lo: -(2n ** 63n) + 1n, hi: 2n ** 63n - 1n },
    };
    const BINARY: [string, number][] = [
        ["Add", 101],
        ["Sub", 102],
        ["Mul", 103],
        ["Div", 104],
    ];

    for (const [opType, seed] of BINARY) {
        it(`${opType} (int8, uint8, int32, int64; broadcasting; overflow refused where onnxruntime wraps)`, async function () {
            const arb = fc.tuple(dtypeArb, broadcastShapesArb(2)).chain(([dtype, [sa, sb]]) => {
                const bounds = dtype === "int64" ? INT64_BOUNDS[opType] : undefined;
                const values = (edges: boolean) => valueArb(dtype, bounds, edges && dtype !== "int64");
                let a = tensorArb(dtype, sa!, values(true));
                let b = tensorArb(dtype, sb!, values(true));
                if (opType === "Div") {
                    const { min } = dtypeRange(dtype);
                    // A zero divisor is an error in the reference (and undefined in C); INT_MIN / -1 of a 32- or
                    // 64-bit dividend traps (SIGFPE) in onnxruntime's C++ kernel, so neither is generated.
                    b = b.map((t) => ({ ...t, data: t.data.map((v) => (v === 0n ? 1n : v)) }));
                    if (dtype === "int32" || dtype === "int64") {
                        a = a.map((t) => ({ ...t, data: t.data.map((v) => (v === min ? min + 1n : v)) }));
                    }
                }
                return fc.tuple(fc.constant(dtype), a, b);
            });
            const outcomes = { same: 0, overflow: 0 };
            await check(arb, seed, async ([dtype, a, b]) => {
                outcomes[await expectSameOrOverflow({ opType, inputs: [a, b] }, dtype)]++;
            });
            // Both outcomes are exercised (Div overflows only for int8 -128 / -1, which is rare).
            expect(outcomes.same).to.be.greaterThan(NUM_RUNS / 2);
            if (opType !== "Div") expect(outcomes.overflow).to.be.greaterThan(0);
        });
    }

    it("Relu (int8, int32: the CPU provider has no int64 kernel)", async function () {
        const arb = fc
            .tuple(fc.constantFrom<IntDType>("int8", "int32"), shapeArb(0, 3))
            .chain(([dtype, shape]) => tensorArb(dtype, shape));
        await check(arb, 105, (x) => expectSame({ opType: "Relu", inputs: [x] }, x.dtype));
    });

    it("Clip (optional min / max inputs, including min > max)", async function () {
        const arb = fc
            .tuple(dtypeArb, shapeArb(0, 3))
            .chain(([dtype, shape]) =>
                fc.tuple(
                    tensorArb(dtype, shape),
                    fc.option(tensorArb(dtype, []), { nil: undefined }),
                    fc.option(tensorArb(dtype, []), { nil: undefined }),
                ),
            );
        await check(arb, 106, ([x, lo, hi]) => expectSame({ opType: "Clip", inputs: [x, lo, hi] }, x.dtype));
    });

    for (const [opType, seed] of [
        ["Max", 107],
        ["Min", 108],
    ] as const) {
        it(`${opType} (1 to 3 inputs with broadcasting)`, async function () {
            const arb = fc
                .tuple(dtypeArb, fc.integer({ min: 1, max: 3 }))
                .chain(([dtype, count]) =>
                    broadcastShapesArb(count).chain((shapes) => fc.tuple(...shapes.map((s) => tensorArb(dtype, s)))),
                );
            await check(arb, seed, (inputs) => expectSame({ opType, inputs }, inputs[0]!.dtype));
        });
    }

    it("ArgMax (axis incl. negative, keepdims, select_last_index, with ties)", async function () {
        const arb = fc.tuple(dtypeArb, shapeArb(1, 3)).chain(([dtype, shape]) =>
            fc.tuple(
                // Few distinct values, so that ties are common.
                tensorArb(dtype, shape, fc.constantFrom(...EDGES[dtype].slice(0, 3))),
                fc.integer({ min: -shape.length, max: shape.length - 1 }),
                fc.integer({ min: 0, max: 1 }),
                fc.integer({ min: 0, max: 1 }),
            ),
        );
        await check(arb, 109, ([x, axis, keepdims, selectLast]) =>
            expectSame(
                {
                    opType: "ArgMax",
                    inputs: [x],
                    attributes: {
                        axis: { int: axis },
                        keepdims: { int: keepdims },
                        select_last_index: { int: selectLast },
                    },
                },
                "int64",
            ),
        );
    });

    it("Reshape (targets with 0 copies and one -1)", async function () {
        const arb = fc
            .tuple(dtypeArb, shapeArb(1, 3, 4))
            .chain(([dtype, shape]) =>
                fc.tuple(
                    tensorArb(dtype, shape),
                    // A permutation of the dims with 1s inserted, then some dims written as 0 (where allowed) or -1.
                    fc.shuffledSubarray(shape, { minLength: shape.length, maxLength: shape.length }),
                    fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 2 }),
                    fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }),
                    fc.nat(4),
                ),
            )
            .map(([x, perm, onesAt, zeroMask, minusAt]) => {
                const target = [...perm];
                for (const at of onesAt) target.splice(Math.min(at, target.length), 0, 1);
                const dims = target.map((d, i) => (zeroMask[i] && x.shape[i] === d ? 0 : d));
                const m = minusAt % dims.length;
                if (dims[m] !== 0) dims[m] = -1;
                return [x, intTensor("int64", [dims.length], dims)] as const;
            });
        await check(arb, 110, ([x, shape]) =>
            expectSame({ opType: "Reshape", inputs: [x, shape], constants: [1] }, x.dtype),
        );
    });

    it("Flatten (axis from -rank to rank)", async function () {
        const arb = fc
            .tuple(dtypeArb, shapeArb(1, 4))
            .chain(([dtype, shape]) =>
                fc.tuple(tensorArb(dtype, shape), fc.integer({ min: -shape.length, max: shape.length })),
            );
        await check(arb, 111, ([x, axis]) =>
            expectSame({ opType: "Flatten", inputs: [x], attributes: { axis: { int: axis } } }, x.dtype),
        );
    });

    it("Cast between every pair of int8, uint8, int32, int64 (wrapping like static_cast)", async function () {
        const arb = fc
            .tuple(dtypeArb, dtypeArb, shapeArb(0, 2, 4))
            .chain(([from, to, shape]) => fc.tuple(tensorArb(from, shape), fc.constant(to)));
        await check(arb, 112, ([x, to]) =>
            expectSame({ opType: "Cast", inputs: [x], attributes: { to: { int: INT_DTYPE_CODES[to] } } }, to),
        );
    });

    it("Gather (constant table, axis incl. negative, negative indices, int32 / int64 indices)", async function () {
        const arb = fc
            .tuple(dtypeArb, shapeArb(1, 3), fc.constantFrom<IntDType>("int32", "int64"), shapeArb(0, 2))
            .chain(([dtype, shape, indexType, indexShape]) =>
                fc.integer({ min: -shape.length, max: shape.length - 1 }).chain((axis) => {
                    const dim = shape[axis < 0 ? axis + shape.length : axis]!;
                    const index = fc.bigInt(BigInt(-dim), BigInt(dim - 1));
                    return fc.tuple(
                        tensorArb(dtype, shape),
                        tensorArb(indexType, indexShape, index),
                        fc.constant(axis),
                    );
                }),
            );
        await check(arb, 113, ([table, indices, axis]) =>
            expectSame(
                { opType: "Gather", inputs: [table, indices], constants: [0], attributes: { axis: { int: axis } } },
                table.dtype,
            ),
        );
    });

    // Zero points are generated in the shapes onnxruntime accepts (reference.ts, checkZeroPoints): a scalar
    // a_zero_point; a scalar, per-column N-vector (2-D B only) or [...batch, 1, N] b_zero_point.
    it("MatMulInteger (int8 / uint8 operands, scalar and per-column zero points, batched)", async function () {
        const i8u8 = fc.constantFrom<IntDType>("int8", "uint8");
        const arb = fc
            .record({
                ta: i8u8,
                tb: i8u8,
                m: fc.integer({ min: 1, max: 4 }),
                k: fc.integer({ min: 1, max: 5 }),
                n: fc.integer({ min: 1, max: 4 }),
                batch: fc.constantFrom<number[][]>([[], []], [[2], []], [[2], [2]], [[3, 1], [2]]),
                aZp: fc.constantFrom("none", "scalar"),
                bZp: fc.constantFrom("none", "scalar", "column", "columnND"),
            })
            .chain(({ ta, tb, m, k, n, batch, aZp, bZp }) =>
                fc.tuple(
                    tensorArb(ta, [...batch[0]!, m, k]),
                    tensorArb(tb, [...batch[1]!, k, n]),
                    aZp === "none" ? fc.constant(undefined) : tensorArb(ta, []),
                    bZp === "none"
                        ? fc.constant(undefined)
                        : tensorArb(
                              tb,
                              bZp === "scalar"
                                  ? []
                                  : bZp === "column" && batch[1]!.length === 0
                                    ? [n]
                                    : [...batch[1]!, 1, n],
                          ),
                ),
            );
        await check(arb, 114, (inputs) => expectSame({ opType: "MatMulInteger", inputs }, "int32"));
    });

    it("Div of int8 -128 by -1: onnxruntime wraps to -128, the reference refuses (INTEGER_OVERFLOW)", async function () {
        const c: Case = {
            opType: "Div",
            inputs: [intTensor("int8", [2], [-128, 7]), intTensor("int8", [2], [-1, -2])],
        };
        expect(await expectSameOrOverflow(c, "int8")).to.equal("overflow");
        const { bytes, feeds } = buildCase(c, "int8", [2]);
        expect((await runOrt(bytes, feeds)).data).to.deep.equal([-128n, -3n]);
    });

    it("MatMulInteger: refuses exactly the zero-point shapes onnxruntime rejects", async function () {
        const a = intTensor("int8", [2, 2], [1, 2, 3, 4]);
        const b = intTensor("uint8", [2, 2], [10, 20, 30, 40]);
        const b3 = intTensor("uint8", [2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8]);
        const rejected: Case[] = [
            { opType: "MatMulInteger", inputs: [a, b, intTensor("int8", [2], [1, 3])] },
            { opType: "MatMulInteger", inputs: [a, b, intTensor("int8", [2, 1], [1, 3])] },
            { opType: "MatMulInteger", inputs: [a, b3, undefined, intTensor("uint8", [2], [1, 2])] },
            { opType: "MatMulInteger", inputs: [a, b3, undefined, intTensor("uint8", [1, 1, 2], [1, 2])] },
        ];
        for (const c of rejected) {
            let refError: unknown;
            try {
                referenceOf(c, "int32");
            } catch (err) {
                refError = err;
            }
            expect(refError).to.be.instanceOf(ReferenceExecutionError);
            expect((refError as ReferenceExecutionError).code).to.equal("UNSUPPORTED_INPUT");
            const { bytes, feeds } = buildCase(c, "int32", [2, 2]);
            let ortError: unknown;
            try {
                await runOrt(bytes, feeds, true);
            } catch (err) {
                ortError = err;
            }
            expect(String(ortError)).to.match(/zero point/);
        }
    });

    it("a multi-node graph (Gather -> MatMulInteger -> Add -> Relu -> ArgMax) over initializers", async function () {
        const bytes = buildOnnxModel({
            inputs: [{ name: "ids", type: "int64", shape: [3] }],
            outputs: [
                { name: "y", type: "int32", shape: [3, 2] },
                { name: "cls", type: "int64", shape: [3] },
            ],
            initializers: [
                { name: "table", dims: [4, 3], data: Int8Array.from([1, 2, 3, -1, -2, -3, 4, 0, 4, -128, 127, 5]) },
                { name: "w", dims: [3, 2], data: Int8Array.from([2, -1, 1, 2, -128, 127]) },
                { name: "wzp", dims: [2], data: Int8Array.from([1, -1]) },
                { name: "bias", dims: [2], data: Int32Array.from([-300, 100]) },
            ],
            nodes: [
                { opType: "Gather", inputs: ["table", "ids"], outputs: ["rows"] },
                { opType: "MatMulInteger", inputs: ["rows", "w", "", "wzp"], outputs: ["acc"] },
                { opType: "Add", inputs: ["acc", "bias"], outputs: ["biased"] },
                { opType: "Relu", inputs: ["biased"], outputs: ["y"] },
                {
                    opType: "ArgMax",
                    inputs: ["y"],
                    outputs: ["cls"],
                    attributes: { axis: { int: -1 }, keepdims: { int: 0 } },
                },
            ],
        });
        const session = await ort.InferenceSession.create(bytes);
        try {
            await check(tensorArb("int64", [3], fc.bigInt(-4n, 3n)), 115, async (ids) => {
                const want = runGraph(bytes, { ids });
                const got = await session.run({ ids: toOrtTensor(ids) });
                expect(fromOrtTensor(got.y!)).to.deep.equal(want.y);
                expect(fromOrtTensor(got.cls!)).to.deep.equal(want.cls);
            });
        } finally {
            await session.release();
        }
    });
});
