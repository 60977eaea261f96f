/**
 * The verifiable subset, checked statically: which ONNX graphs Verity can re-execute on-chain, and the proof that
 * they never overflow. docs/verifiable-subset.md is the prose version of this file.
 *
 * `analyseModel` first checks the model's ai.onnx opset (MIN_OPSET to MAX_OPSET, subsetRules.ts), then walks
 * the graph once, in node order, and for every value computes its dtype, its static shape and an interval
 * [lo, hi] per element (interval arithmetic over the manifest's declared input ranges; constants are exact). It
 * rejects, naming the node and its op:
 * - an op outside the subset, a non-default domain, a dtype the op does not admit (SUBSET_OP_RULES), an attribute
 *   the op does not implement (or of the wrong type, or a value it does not implement, like allowzero = 1);
 * - an operand the subset wants constant (MatMulInteger's B and zero points, Div's divisor, Clip's bounds,
 *   Reshape's shape, Gather's data) that is not an initializer or Constant;
 * - any element whose interval leaves its dtype's range (OVERFLOW): Add, Sub, Mul, Div, MatMulInteger's int32
 *   sum and also Cast (the subset never wraps, though ONNX's Cast would);
 * - a Div whose divisor has a zero; a Gather whose indices may leave [-dim, dim - 1].
 *
 * Intervals are sound (every value the graph computes for an in-range input lies inside its element's interval),
 * so a model that passes cannot overflow or fail at run time on any input the manifest admits; an input outside
 * the declared ranges is INVALID_INPUT before the graph runs.
 */
import { onnx } from "onnx-proto";
import { PermanentError } from "../internal/errors";
import type * as ManifestModule from "../protocol/manifest";
import { MANIFEST_METADATA_KEY, type Manifest } from "../protocol/manifestTypes";
import {
    DTYPE_BY_CODE,
    INT_DTYPE_CODES,
    broadcastIndices,
    broadcastShapes,
    dtypeRange,
    numel,
    tensorFromProto,
    type IntDType,
    type IntTensor,
} from "./reference";
import {
    MAX_OPSET,
    MIN_OPSET,
    SUBSET_DTYPES,
    SUBSET_OP_RULES,
    SUBSET_OPS,
    admittedDTypes,
    attributeTypeName,
    isDefaultDomain,
    type SubsetOp,
} from "./subsetRules";

export { MAX_OPSET, MIN_OPSET, SUBSET_DTYPES, SUBSET_OP_RULES, SUBSET_OPS, type SubsetOp } from "./subsetRules";

/** Why a model is not in the verifiable subset. */
export type SubsetErrorCode =
    | "NOT_A_MODEL"
    | "MANIFEST"
    | "UNSUPPORTED_OPSET"
    | "UNSUPPORTED_OP"
    | "UNSUPPORTED_ATTRIBUTE"
    | "UNSUPPORTED_DTYPE"
    | "NOT_CONSTANT"
    | "INVALID_NODE"
    | "OVERFLOW"
    | "TOO_LARGE";

/** A model outside the verifiable subset. `node` names the offending node (`node 3 (dense1)`) when there is one. */
export class SubsetError extends PermanentError {
    override readonly code: SubsetErrorCode;
    readonly node: string | undefined;
    readonly op: string | undefined;

    constructor(code: SubsetErrorCode, message: string, where?: { node: string; op: string }) {
        super(code, where === undefined ? message : `${where.node} (${where.op}): ${message}`);
        this.code = code;
        this.node = where?.node;
        this.op = where?.op;
    }
}

/** What the analysis knows about one value: dtype, static shape, per-element interval, and data if constant. */
export interface ValueFacts {
    readonly name: string;
    readonly dtype: IntDType;
    readonly shape: readonly number[];
    /** Per element (row-major), the smallest value it can take. */
    readonly lo: readonly bigint[];
    /** Per element, the largest value it can take. */
    readonly hi: readonly bigint[];
    /** Set for initializers and Constant outputs (then lo = hi = data). */
    readonly constant?: IntTensor;
}

/** One executable node after analysis. */
export interface AnalysedNode {
    readonly index: number;
    /** `node 3 (dense1)`, as errors name it. */
    readonly label: string;
    readonly opType: SubsetOp;
    /** The node's inputs in ONNX order (undefined for an omitted optional input). */
    readonly inputs: readonly (ValueFacts | undefined)[];
    readonly output: ValueFacts;
    /** Integer attributes that matter (axis, keepdims, select_last_index, to). */
    readonly attrs: Readonly<Record<string, number>>;
    /** Multiply-accumulates (MatMulInteger only; 0 otherwise). */
    readonly macs: number;
}

/** The result of a successful analysis. */
export interface Analysis {
    readonly manifest: Manifest;
    /** Graph inputs in manifest order, with their declared ranges. */
    readonly inputs: readonly ValueFacts[];
    /** Graph outputs in manifest order. */
    readonly outputs: readonly ValueFacts[];
    /** Executable nodes in graph order (Constant nodes are folded into values). */
    readonly nodes: readonly AnalysedNode[];
    /** Executable nodes per op type. */
    readonly opCounts: Readonly<Partial<Record<SubsetOp, number>>>;
    /** Total multiply-accumulates of one run. */
    readonly macs: number;
}

/** Largest dims and counts the on-chain program format can encode. */
const MAX_DIM = 0xffff_ffff;
const MAX_RANK = 8;
const MAX_ELEMENTS = 2 ** 24;

type Where = { node: string; op: string };

function fail(code: SubsetErrorCode, message: string, where?: Where): never {
    throw new SubsetError(code, message, where);
}

function shapeText(shape: readonly number[]): string {
    return `[${shape.join(", ")}]`;
}

function toBigInt(value: unknown): bigint {
    return BigInt(typeof value === "number" ? value : String(value));
}

function constantFacts(name: string, t: IntTensor): ValueFacts {
    return { name, dtype: t.dtype, shape: t.shape, lo: t.data, hi: t.data, constant: t };
}

function rangeFacts(name: string, dtype: IntDType, shape: readonly number[], lo: bigint, hi: bigint): ValueFacts {
    const n = numel(shape);
    return { name, dtype, shape, lo: new Array<bigint>(n).fill(lo), hi: new Array<bigint>(n).fill(hi) };
}

/**
 * Reads the manifest embedded in the ONNX file (metadata_props `verity.manifest`). Its parser (manifest.ts, with
 * zod) is loaded on first use: the inference workers, which load this module to compile verifiable models, always
 * pass the manifest and so never load zod.
 */
export function embeddedManifest(onnxBytes: Uint8Array): Manifest {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { parseManifest, readOnnxMetadata } = require("../protocol/manifest") as typeof ManifestModule;
    const json = readOnnxMetadata(onnxBytes).get(MANIFEST_METADATA_KEY);
    if (json === undefined) fail("MANIFEST", `the model has no "${MANIFEST_METADATA_KEY}" metadata entry`);
    return parseManifest(json);
}

/**
 * Checks that the model is in the verifiable subset and cannot overflow on any input its manifest admits.
 * `manifest` defaults to the one embedded in the file. Throws SubsetError naming the first offending node.
 */
export function analyseModel(onnxBytes: Uint8Array, manifest: Manifest = embeddedManifest(onnxBytes)): Analysis {
    let model: onnx.ModelProto;
    try {
        model = onnx.ModelProto.decode(onnxBytes);
    } catch (err) {
        throw new SubsetError("NOT_A_MODEL", `not an ONNX model: ${(err as Error).message}`);
    }
    const graph = model.graph;
    if (!graph) fail("NOT_A_MODEL", "the model has no graph");
    checkOpset(model);

    const values = new Map<string, ValueFacts>();
    for (const init of graph.initializer ?? []) {
        const name = init.name ?? "";
        values.set(name, constantFacts(name, initializerTensor(init, `initializer ${name}`)));
    }

    const graphInputs = (graph.input ?? []).map((v) => v.name ?? "").filter((name) => !values.has(name));
    const inputs = manifest.inputs.map((spec, i) => {
        const where = `manifest input ${i} ("${spec.name}")`;
        if (!graphInputs.includes(spec.name)) fail("MANIFEST", `${where} is not a graph input`);
        if (spec.onnxType !== spec.dtype || !(SUBSET_DTYPES as readonly string[]).includes(spec.dtype)) {
            fail("UNSUPPORTED_DTYPE", `${where} is ${spec.onnxType}; the subset takes ${SUBSET_DTYPES.join(", ")}`);
        }
        const dtype = spec.dtype as IntDType;
        checkEncodable(spec.shape, where);
        const range = dtypeRange(dtype);
        const [lo, hi] = spec.range ?? [range.min, range.max];
        const facts = rangeFacts(spec.name, dtype, spec.shape, lo, hi);
        values.set(spec.name, facts);
        return facts;
    });
    for (const name of graphInputs) {
        if (!manifest.inputs.some((spec) => spec.name === name)) {
            fail("MANIFEST", `graph input "${name}" is not in the manifest, so it would never be fed`);
        }
    }

    const nodes: AnalysedNode[] = [];
    (graph.node ?? []).forEach((node, index) => {
        const opType = node.opType ?? "";
        const label = node.name ? `node ${index} (${node.name})` : `node ${index}`;
        const where: Where = { node: label, op: opType };
        if (!isDefaultDomain(node.domain)) {
            fail("UNSUPPORTED_OP", `domain ${node.domain} is not in the verifiable subset`, where);
        }
        if (opType !== "Constant" && !(SUBSET_OPS as readonly string[]).includes(opType)) {
            fail("UNSUPPORTED_OP", `op ${opType} is not in the verifiable subset`, where);
        }
        const outputs = (node.output ?? []).filter((o) => o !== "");
        if (outputs.length !== 1) fail("INVALID_NODE", `has ${outputs.length} outputs, the subset takes one`, where);
        const outName = outputs[0]!;
        if (values.has(outName)) fail("INVALID_NODE", `output "${outName}" is defined twice`, where);
        const attrs = checkAttributes(opType as SubsetOp | "Constant", node.attribute ?? [], where);

        if (opType === "Constant") {
            const t = attrs.get("value")?.t;
            if (!t) fail("NOT_CONSTANT", "a Constant needs its `value` tensor", where);
            values.set(outName, constantFacts(outName, initializerTensor(t, label)));
            return;
        }
        const ins = (node.input ?? []).map((name) => {
            if (name === "") return undefined;
            const v = values.get(name);
            if (v === undefined) fail("INVALID_NODE", `input "${name}" has no value yet (graph not sorted?)`, where);
            return v;
        });
        const intAttr = (name: string, fallback: number): number => {
            const a = attrs.get(name);
            return a === undefined || a.i === undefined || a.i === null ? fallback : Number(toBigInt(a.i));
        };
        const analysed = analyseNode(opType as SubsetOp, ins, intAttr, outName, where);
        checkEncodable(analysed.output.shape, `"${outName}"`, where);
        checkFits(analysed.output, where);
        values.set(outName, analysed.output);
        nodes.push({
            index,
            label,
            opType: opType as SubsetOp,
            inputs: ins,
            output: analysed.output,
            attrs: analysed.attrs,
            macs: analysed.macs,
        });
    });

    const outputs = manifest.outputs.map((spec, i) => {
        const where = `manifest output ${i} ("${spec.name}")`;
        const v = values.get(spec.name);
        if (v === undefined || !(graph.output ?? []).some((o) => o.name === spec.name)) {
            fail("MANIFEST", `${where} is not a graph output`);
        }
        if (spec.onnxType !== spec.dtype || spec.dtype !== v.dtype) {
            fail("MANIFEST", `${where} is ${spec.onnxType} in the manifest, the graph computes ${v.dtype}`);
        }
        if (shapeText(spec.shape) !== shapeText(v.shape)) {
            fail("MANIFEST", `${where} has shape ${shapeText(spec.shape)}, the graph computes ${shapeText(v.shape)}`);
        }
        return v;
    });

    const opCounts: Partial<Record<SubsetOp, number>> = {};
    for (const n of nodes) opCounts[n.opType] = (opCounts[n.opType] ?? 0) + 1;
    const macs = nodes.reduce((s, n) => s + n.macs, 0);
    return { manifest, inputs, outputs, nodes, opCounts, macs };
}

/**
 * Throws UNSUPPORTED_OPSET unless the model imports exactly one opset of the default domain ("" or "ai.onnx"),
 * from MIN_OPSET to MAX_OPSET: the operator definitions in force there are the ones the subset implements.
 * (A node of another domain is refused by itself, as an op outside the subset.)
 */
function checkOpset(model: onnx.ModelProto): void {
    const imports = model.opsetImport ?? [];
    const listed = imports.map((o) => `${o.domain || '""'} ${String(o.version)}`).join(", ") || "nothing";
    const defaults = imports.filter((o) => isDefaultDomain(o.domain));
    if (defaults.length !== 1) {
        fail(
            "UNSUPPORTED_OPSET",
            `the model must import one opset of the default domain (ai.onnx), its opset_import has ${listed}`,
        );
    }
    const version = Number(String(defaults[0]!.version ?? 0));
    if (version < MIN_OPSET || version > MAX_OPSET) {
        const why =
            version < MIN_OPSET
                ? `older operator definitions differ from the ones the subset implements`
                : `newer ones have not been checked against the subset`;
        fail(
            "UNSUPPORTED_OPSET",
            `the model's ai.onnx opset is ${version}; the subset follows opsets ${MIN_OPSET} to ${MAX_OPSET} (${why})`,
        );
    }
}

/**
 * The node's attributes by name, once each of them is one `op` implements (SUBSET_OP_RULES), of the right type
 * and, where the subset restricts it, with a value it implements; throws UNSUPPORTED_ATTRIBUTE otherwise.
 */
function checkAttributes(
    op: SubsetOp | "Constant",
    attributes: readonly onnx.IAttributeProto[],
    where: Where,
): Map<string, onnx.IAttributeProto> {
    const rules = SUBSET_OP_RULES[op].attributes;
    const names = Object.keys(rules);
    const implemented = names.length === 0 ? `${op} takes none` : `${op} takes ${names.join(", ")}`;
    const byName = new Map<string, onnx.IAttributeProto>();
    for (const a of attributes) {
        const name = a.name ?? "";
        const rule = Object.hasOwn(rules, name) ? rules[name] : undefined;
        if (rule === undefined) {
            fail("UNSUPPORTED_ATTRIBUTE", `attribute "${name}" is not part of the subset (${implemented})`, where);
        }
        if (byName.has(name)) fail("INVALID_NODE", `attribute "${name}" is given twice`, where);
        const type = attributeTypeName(a.type);
        if (type !== rule.type) {
            fail("UNSUPPORTED_ATTRIBUTE", `attribute "${name}" is ${type}, the subset takes ${rule.type}`, where);
        }
        if (rule.values !== undefined) {
            const value = Number(toBigInt(a.i ?? 0));
            if (!rule.values.includes(value)) {
                fail(
                    "UNSUPPORTED_ATTRIBUTE",
                    `attribute "${name}" = ${value} is not part of the subset (it takes ${rule.values.join(", ")})`,
                    where,
                );
            }
        }
        byName.set(name, a);
    }
    return byName;
}

function initializerTensor(proto: onnx.ITensorProto, what: string): IntTensor {
    const dtype = DTYPE_BY_CODE.get(proto.dataType ?? 0);
    if (dtype === undefined) {
        fail("UNSUPPORTED_DTYPE", `${what}: element type ${proto.dataType} is not int8, uint8, int32 or int64`);
    }
    let t: IntTensor;
    try {
        t = tensorFromProto(proto);
    } catch (err) {
        throw new SubsetError("INVALID_NODE", `${what}: ${(err as Error).message}`);
    }
    checkEncodable(t.shape, what);
    return t;
}

/**
 * Throws TOO_LARGE unless the program format (and the executor) can hold a tensor of `shape`: rank at most 8,
 * every dim from 1 to 2^32 - 1, at most 2^24 elements. Every value the program encodes passes this, so a
 * compiled program is never one the executor rejects.
 */
function checkEncodable(shape: readonly number[], what: string, where?: Where): void {
    if (shape.length > MAX_RANK) fail("TOO_LARGE", `${what}: rank ${shape.length} is above ${MAX_RANK}`, where);
    const bad = shape.findIndex((d) => d < 1 || d > MAX_DIM);
    if (bad >= 0) fail("TOO_LARGE", `${what}: dim ${bad} is ${shape[bad]}, outside [1, ${MAX_DIM}]`, where);
    if (numel(shape) > MAX_ELEMENTS) {
        fail("TOO_LARGE", `${what}: ${numel(shape)} elements, the program format holds ${MAX_ELEMENTS}`, where);
    }
}

/** Throws OVERFLOW naming the first element whose interval leaves the value's dtype. */
function checkFits(v: ValueFacts, where: Where): void {
    const { min, max } = dtypeRange(v.dtype);
    for (let i = 0; i < v.lo.length; i++) {
        if (v.lo[i]! < min || v.hi[i]! > max) {
            fail(
                "OVERFLOW",
                `element ${i} of "${v.name}" can reach [${v.lo[i]}, ${v.hi[i]}], outside ${v.dtype} [${min}, ${max}]`,
                where,
            );
        }
    }
}

interface NodeAnalysis {
    output: ValueFacts;
    attrs: Record<string, number>;
    macs: number;
}

function analyseNode(
    op: SubsetOp,
    ins: readonly (ValueFacts | undefined)[],
    intAttr: (name: string, fallback: number) => number,
    out: string,
    where: Where,
): NodeAnalysis {
    const need = (i: number, what: string): ValueFacts => {
        const v = ins[i];
        if (v === undefined) fail("INVALID_NODE", `input ${i} (${what}) is required`, where);
        return v;
    };
    const constant = (i: number, what: string): IntTensor => {
        const v = need(i, what);
        if (v.constant === undefined)
            fail("NOT_CONSTANT", `${what} must be a constant (initializer or Constant)`, where);
        return v.constant;
    };
    const arity = (min: number, max: number) => {
        if (ins.length < min || ins.length > max) {
            fail("INVALID_NODE", `takes ${min === max ? min : `${min} to ${max}`} inputs, has ${ins.length}`, where);
        }
    };
    const plain = (output: ValueFacts, attrs: Record<string, number> = {}): NodeAnalysis => ({
        output,
        attrs,
        macs: 0,
    });

    switch (op) {
        case "MatMulInteger":
            arity(2, 4);
            return matMulInteger(need(0, "A"), constant(1, "B"), ins[2], ins[3], out, where);
        case "Add":
            arity(2, 2);
            return plain(binary(op, need(0, "A"), need(1, "B"), out, where, (a, b) => [a[0] + b[0], a[1] + b[1]]));
        case "Sub":
            arity(2, 2);
            return plain(binary(op, need(0, "A"), need(1, "B"), out, where, (a, b) => [a[0] - b[1], a[1] - b[0]]));
        case "Mul":
            arity(2, 2);
            return plain(
                binary(op, need(0, "A"), need(1, "B"), out, where, (a, b) => {
                    const p = [a[0] * b[0], a[0] * b[1], a[1] * b[0], a[1] * b[1]];
                    return [p.reduce(minOf), p.reduce(maxOf)];
                }),
            );
        case "Div": {
            arity(2, 2);
            const divisor = constant(1, "the divisor B");
            const zero = divisor.data.findIndex((d) => d === 0n);
            if (zero >= 0) fail("INVALID_NODE", `divisor element ${zero} is zero`, where);
            // For a fixed divisor c, truncating division is monotonic in the dividend (non-decreasing for c > 0,
            // non-increasing for c < 0), so the ends of the dividend's interval give the ends of the quotient's.
            return plain(
                binary(op, need(0, "A"), need(1, "B"), out, where, (a, b) => {
                    const c = b[0];
                    return c > 0n ? [a[0] / c, a[1] / c] : [a[1] / c, a[0] / c];
                }),
            );
        }
        case "Max":
        case "Min": {
            if (ins.length < 1) fail("INVALID_NODE", "needs at least one input", where);
            const pick = op === "Max" ? maxOf : minOf;
            let acc = need(0, "input 0");
            requireDType(acc, `"${acc.name}"`, op, "T", where);
            for (let i = 1; i < ins.length; i++) {
                acc = binary(op, acc, need(i, `input ${i}`), out, where, (a, b) => [
                    pick(a[0], b[0]),
                    pick(a[1], b[1]),
                ]);
            }
            return plain({ ...acc, name: out, constant: undefined } as ValueFacts);
        }
        case "Relu": {
            arity(1, 1);
            const x = need(0, "X");
            requireDType(x, `"${x.name}"`, op, "T", where);
            return plain(unary(x, out, (lo, hi) => [maxOf(lo, 0n), maxOf(hi, 0n)]));
        }
        case "Clip": {
            arity(1, 3);
            const x = need(0, "input");
            requireDType(x, `"${x.name}"`, op, "T", where);
            const bound = (i: number, what: string): bigint | undefined => {
                if (ins[i] === undefined) return undefined;
                const t = constant(i, what);
                if (t.dtype !== x.dtype) fail("INVALID_NODE", `${what} is ${t.dtype}, input is ${x.dtype}`, where);
                if (t.data.length !== 1 || t.shape.length > 1) fail("INVALID_NODE", `${what} must be a scalar`, where);
                return t.data[0]!;
            };
            const range = dtypeRange(x.dtype);
            const lo = bound(1, "min") ?? range.min;
            const hi = bound(2, "max") ?? range.max;
            const clamp = (v: bigint) => minOf(maxOf(v, lo), hi);
            return plain(unary(x, out, (a, b) => [clamp(a), clamp(b)]));
        }
        case "ArgMax": {
            arity(1, 1);
            const x = need(0, "data");
            requireDType(x, `"${x.name}"`, op, "data", where);
            const rank = x.shape.length;
            const rawAxis = intAttr("axis", 0);
            const axis = rawAxis < 0 ? rawAxis + rank : rawAxis;
            if (axis < 0 || axis >= rank)
                fail("INVALID_NODE", `axis ${rawAxis} is out of range for rank ${rank}`, where);
            const keepdims = intAttr("keepdims", 1) !== 0 ? 1 : 0;
            const selectLastIndex = intAttr("select_last_index", 0) !== 0 ? 1 : 0;
            const dim = x.shape[axis]!;
            const shape = keepdims ? x.shape.map((d, i) => (i === axis ? 1 : d)) : x.shape.filter((_, i) => i !== axis);
            return plain(rangeFacts(out, "int64", shape, 0n, BigInt(dim - 1)), {
                axis,
                keepdims,
                select_last_index: selectLastIndex,
            });
        }
        case "Reshape": {
            arity(2, 2);
            // allowzero = 1 was refused with the attributes (SUBSET_OP_RULES): a 0 in the shape copies a dim.
            const x = need(0, "data");
            requireDType(x, `"${x.name}"`, op, "T", where);
            const spec = constant(1, "shape");
            if (spec.dtype !== "int64" || spec.shape.length !== 1) {
                fail("INVALID_NODE", "shape must be a 1-D int64 tensor", where);
            }
            const dims = spec.data.map((d, i) => {
                if (d === 0n) {
                    const copied = x.shape[i];
                    if (copied === undefined)
                        fail("INVALID_NODE", `shape[${i}] = 0 but the input has rank ${x.shape.length}`, where);
                    return copied;
                }
                if (d < -1n || d > BigInt(MAX_DIM)) fail("INVALID_NODE", `invalid dim ${d}`, where);
                return Number(d);
            });
            const total = numel(x.shape);
            const inferred = dims.indexOf(-1);
            if (dims.lastIndexOf(-1) !== inferred) fail("INVALID_NODE", "more than one -1 in shape", where);
            if (inferred >= 0) {
                const known = dims.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
                if (known === 0 || total % known !== 0)
                    fail("INVALID_NODE", `cannot infer -1 from ${total} elements`, where);
                dims[inferred] = total / known;
            }
            if (numel(dims) !== total)
                fail("INVALID_NODE", `${shapeText(dims)} does not hold ${total} elements`, where);
            return plain({ name: out, dtype: x.dtype, shape: dims, lo: x.lo, hi: x.hi });
        }
        case "Flatten": {
            arity(1, 1);
            const x = need(0, "input");
            requireDType(x, `"${x.name}"`, op, "T", where);
            const rank = x.shape.length;
            const rawAxis = intAttr("axis", 1);
            const axis = rawAxis < 0 ? rawAxis + rank : rawAxis;
            if (axis < 0 || axis > rank)
                fail("INVALID_NODE", `axis ${rawAxis} is out of range for rank ${rank}`, where);
            const shape = [numel(x.shape.slice(0, axis)), numel(x.shape.slice(axis))];
            return plain({ name: out, dtype: x.dtype, shape, lo: x.lo, hi: x.hi });
        }
        case "Cast": {
            arity(1, 1);
            const x = need(0, "input");
            requireDType(x, `"${x.name}"`, op, "input", where);
            const code = intAttr("to", Number.NaN);
            if (Number.isNaN(code)) fail("INVALID_NODE", `the required attribute "to" is missing`, where);
            const to = DTYPE_BY_CODE.get(code);
            const targets = admittedDTypes(op, "to");
            if (to === undefined || !targets.includes(to)) {
                const admitted = dtypeCodesText(targets);
                fail(
                    "UNSUPPORTED_DTYPE",
                    `the target type ${code} is outside the subset; Cast's to takes ${admitted}`,
                    where,
                );
            }
            // Same intervals under the new dtype: checkFits then refuses any Cast that could wrap.
            return plain({ name: out, dtype: to, shape: x.shape, lo: x.lo, hi: x.hi });
        }
        case "Gather": {
            arity(2, 2);
            return plain(gather(constant(0, "data"), need(1, "indices"), intAttr("axis", 0), out, where), {
                axis: intAttr("axis", 0),
            });
        }
    }
}

function minOf(a: bigint, b: bigint): bigint {
    return a < b ? a : b;
}

function maxOf(a: bigint, b: bigint): bigint {
    return a > b ? a : b;
}

/** Throws UNSUPPORTED_DTYPE unless SUBSET_OP_RULES admits `x`'s dtype for `operand` of `op` (`T`: every operand). */
function requireDType(x: ValueFacts | IntTensor, what: string, op: SubsetOp, operand: string, where: Where): void {
    const allowed = admittedDTypes(op, operand);
    if (!allowed.includes(x.dtype)) {
        const taker = operand === "T" ? op : `${op}'s ${operand}`;
        fail("UNSUPPORTED_DTYPE", `${what} is ${x.dtype}; ${taker} takes ${allowed.join(", ")}`, where);
    }
}

/** `int8 (3), uint8 (2)`: dtypes with their ONNX codes, as Cast's `to` names them. */
function dtypeCodesText(dtypes: readonly IntDType[]): string {
    return dtypes.map((d) => `${d} (${INT_DTYPE_CODES[d]})`).join(", ");
}

function unary(x: ValueFacts, out: string, f: (lo: bigint, hi: bigint) => [bigint, bigint]): ValueFacts {
    const lo = new Array<bigint>(x.lo.length);
    const hi = new Array<bigint>(x.lo.length);
    for (let i = 0; i < lo.length; i++) [lo[i], hi[i]] = f(x.lo[i]!, x.hi[i]!);
    return { name: out, dtype: x.dtype, shape: x.shape, lo, hi };
}

/** Interval version of a broadcasting binary op; `f` maps the operands' [lo, hi] to the result's. */
function binary(
    op: SubsetOp,
    a: ValueFacts,
    b: ValueFacts,
    out: string,
    where: Where,
    f: (a: [bigint, bigint], b: [bigint, bigint]) => [bigint, bigint],
): ValueFacts {
    if (a.dtype !== b.dtype) fail("INVALID_NODE", `mixed dtypes ${a.dtype} and ${b.dtype}`, where);
    requireDType(a, `"${a.name}"`, op, "T", where);
    let shape: number[];
    try {
        shape = broadcastShapes(op, [a.shape, b.shape]);
    } catch (err) {
        throw new SubsetError("INVALID_NODE", (err as Error).message, where);
    }
    const ia = broadcastIndices(a.shape, shape);
    const ib = broadcastIndices(b.shape, shape);
    const lo = new Array<bigint>(ia.length);
    const hi = new Array<bigint>(ia.length);
    for (let i = 0; i < ia.length; i++) {
        const j = ia[i]!;
        const k = ib[i]!;
        [lo[i], hi[i]] = f([a.lo[j]!, a.hi[j]!], [b.lo[k]!, b.hi[k]!]);
    }
    return { name: out, dtype: a.dtype, shape, lo, hi };
}

/** Zero points of the subset's MatMulInteger: a scalar for A; a scalar or an N-vector (per column) for B. */
function zeroPoint(
    v: ValueFacts | undefined,
    operand: ValueFacts | IntTensor,
    what: string,
    columns: number | undefined,
    where: Where,
): bigint[] | undefined {
    if (v === undefined) return undefined;
    if (v.constant === undefined) fail("NOT_CONSTANT", `${what} must be a constant`, where);
    const t = v.constant;
    if (t.dtype !== operand.dtype)
        fail("INVALID_NODE", `${what} is ${t.dtype}, its operand is ${operand.dtype}`, where);
    const scalar = t.shape.length === 0 || (t.shape.length === 1 && t.data.length === 1);
    const perColumn = columns !== undefined && t.shape.length === 1 && t.shape[0] === columns;
    if (!scalar && !perColumn) {
        fail(
            "INVALID_NODE",
            `${what} of shape ${shapeText(t.shape)}: the subset takes a scalar${columns === undefined ? "" : ` or a ${columns}-vector`}`,
            where,
        );
    }
    return t.data;
}

function matMulInteger(
    a: ValueFacts,
    b: IntTensor,
    aZero: ValueFacts | undefined,
    bZero: ValueFacts | undefined,
    out: string,
    where: Where,
): NodeAnalysis {
    requireDType(a, `A ("${a.name}")`, "MatMulInteger", "A", where);
    requireDType(b, "B", "MatMulInteger", "B", where);
    if (b.shape.length !== 2)
        fail("INVALID_NODE", `B has shape ${shapeText(b.shape)}; the subset takes a 2-D B`, where);
    if (a.shape.length === 0) fail("INVALID_NODE", "A must have rank >= 1", where);
    const [k, n] = b.shape as [number, number];
    const aK = a.shape[a.shape.length - 1]!;
    if (aK !== k) fail("INVALID_NODE", `inner dims differ: A ${shapeText(a.shape)}, B ${shapeText(b.shape)}`, where);
    const za = zeroPoint(aZero, a, "a_zero_point", undefined, where)?.[0] ?? 0n;
    const zbs = zeroPoint(bZero, b, "b_zero_point", n, where);
    const zb = (col: number): bigint => (zbs === undefined ? 0n : zbs.length === 1 ? zbs[0]! : zbs[col]!);
    const rows = numel(a.shape) / k;
    const shape = a.shape.length === 1 ? [n] : [...a.shape.slice(0, -1), n];
    const lo = new Array<bigint>(rows * n);
    const hi = new Array<bigint>(rows * n);
    for (let r = 0; r < rows; r++) {
        for (let col = 0; col < n; col++) {
            let sLo = 0n;
            let sHi = 0n;
            const z = zb(col);
            for (let q = 0; q < k; q++) {
                const w = b.data[q * n + col]! - z;
                const x0 = (a.lo[r * k + q]! - za) * w;
                const x1 = (a.hi[r * k + q]! - za) * w;
                if (x0 < x1) {
                    sLo += x0;
                    sHi += x1;
                } else {
                    sLo += x1;
                    sHi += x0;
                }
            }
            lo[r * n + col] = sLo;
            hi[r * n + col] = sHi;
        }
    }
    return { output: { name: out, dtype: "int32", shape, lo, hi }, attrs: {}, macs: rows * k * n };
}

function gather(data: IntTensor, indices: ValueFacts, rawAxis: number, out: string, where: Where): ValueFacts {
    requireDType(data, "data", "Gather", "data", where);
    requireDType(indices, `indices ("${indices.name}")`, "Gather", "indices", where);
    const rank = data.shape.length;
    const axis = rawAxis < 0 ? rawAxis + rank : rawAxis;
    if (axis < 0 || axis >= rank) fail("INVALID_NODE", `axis ${rawAxis} is out of range for rank ${rank}`, where);
    const dim = data.shape[axis]!;
    const outer = numel(data.shape.slice(0, axis));
    const inner = numel(data.shape.slice(axis + 1));
    const lo: bigint[] = [];
    const hi: bigint[] = [];
    for (let o = 0; o < outer; o++) {
        for (let q = 0; q < indices.lo.length; q++) {
            const iLo = indices.lo[q]!;
            const iHi = indices.hi[q]!;
            if (iLo < BigInt(-dim) || iHi >= BigInt(dim)) {
                fail("OVERFLOW", `index ${q} can reach [${iLo}, ${iHi}], outside [${-dim}, ${dim - 1}]`, where);
            }
            // The rows an index in [iLo, iHi] can pick: negative ones count from the end.
            const rows = new Set<number>();
            for (let v = Number(iLo); v <= Number(iHi); v++) rows.add(v < 0 ? v + dim : v);
            for (let i = 0; i < inner; i++) {
                let l: bigint | undefined;
                let h: bigint | undefined;
                for (const row of rows) {
                    const x = data.data[(o * dim + row) * inner + i]!;
                    if (l === undefined || x < l) l = x;
                    if (h === undefined || x > h) h = x;
                }
                lo.push(l!);
                hi.push(h!);
            }
        }
    }
    const shape = [...data.shape.slice(0, axis), ...indices.shape, ...data.shape.slice(axis + 1)];
    return { name: out, dtype: data.dtype, shape, lo, hi };
}
