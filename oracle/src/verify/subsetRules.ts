/**
 * The rules of the verifiable subset, defined once: which opsets, which ops, which element types per operand and
 * which attributes. `analyseModel` (subset.ts) enforces them; the table of docs/verifiable-subset.md is pinned to
 * them (test/oracle/verify/subsetRules.spec.ts, which also loads and runs a one-node model of every admitted
 * (op, dtypes) combination in onnxruntime-node at both ends of the opset range, so the subset never admits a
 * model the node cannot load).
 *
 * Opsets: the reference interpreter and the executor follow the operator definitions in force at ai.onnx opsets
 * 14 to 26, which are the same for everything the subset admits:
 * - 14 is the floor because it is the first opset in which every admitted (op, dtype) exists: Add, Sub, Mul and
 *   Div take int8/uint8, and Relu takes integers, only from 14 (onnxruntime refuses such a model at 13 as
 *   invalid). Older definitions also differ in meaning: Add/Sub/Mul/Div had `broadcast`/`axis` before 7, Clip took
 *   its bounds as attributes before 11, ArgMax had no `select_last_index` before 12, Reshape took its shape as an
 *   attribute before 5.
 * - 26 is the ceiling: the newest opset onnxruntime-node 1.30 loads (27 is refused as "under development"). The
 *   subset's ops were redefined after 14 only to add element types outside the subset (float8, int4, float4,
 *   int2: Cast, Reshape, Flatten and Constant at 19, 21, 23, 24, 25) and float8-only Cast attributes (`saturate`
 *   at 19, `round_mode` at 24, which the subset refuses); opset 26 redefined none of them (it added BitCast and
 *   CumProd). Raising the ceiling means re-reading ONNX's Changelog.md for every op here.
 */
import { onnx } from "onnx-proto";
import type { IntDType } from "./reference";

/** The oldest ai.onnx opset whose operator definitions the subset follows. */
export const MIN_OPSET = 14;
/** The newest ai.onnx opset the subset has been checked against (onnxruntime-node 1.30's newest). */
export const MAX_OPSET = 26;

/** Element types of the subset. */
export const SUBSET_DTYPES: readonly IntDType[] = ["int8", "uint8", "int32", "int64"];

/** The operators of the subset (ai.onnx domain), plus `Constant`, which only defines a value. */
export const SUBSET_OPS = [
    "MatMulInteger",
    "Add",
    "Sub",
    "Mul",
    "Div",
    "Relu",
    "Clip",
    "Max",
    "Min",
    "ArgMax",
    "Reshape",
    "Flatten",
    "Cast",
    "Gather",
] as const;

export type SubsetOp = (typeof SUBSET_OPS)[number];

/** An attribute the subset implements: its ONNX attribute type and, when restricted, the values it takes. */
export interface AttributeRule {
    readonly type: "INT" | "TENSOR";
    readonly values?: readonly number[];
}

/** What the subset admits of one op. */
export interface OpRule {
    /**
     * Element types per operand. `T` stands for every tensor operand and the result (ONNX's type variable);
     * other keys name an operand (`A`, `B`, `data`, `indices`, `input`, `value`) or Cast's target (`to`).
     * MatMulInteger's zero points have their operand's type; its result is int32, ArgMax's int64.
     */
    readonly dtypes: Readonly<Record<string, readonly IntDType[]>>;
    /** The attributes the subset implements; any other attribute is refused (UNSUPPORTED_ATTRIBUTE). */
    readonly attributes: Readonly<Record<string, AttributeRule>>;
}

const INT: AttributeRule = { type: "INT" };
const ALL = { T: SUBSET_DTYPES };

/**
 * The subset's rules per op. Relu has no int64 (onnxruntime's CPU provider has no int64 Relu kernel, so the node
 * could not load the model) and no uint8 (not a Relu type in ONNX).
 */
export const SUBSET_OP_RULES: Readonly<Record<SubsetOp | "Constant", OpRule>> = {
    MatMulInteger: { dtypes: { A: ["int8", "uint8"], B: ["int8", "uint8"] }, attributes: {} },
    Add: { dtypes: ALL, attributes: {} },
    Sub: { dtypes: ALL, attributes: {} },
    Mul: { dtypes: ALL, attributes: {} },
    Div: { dtypes: ALL, attributes: {} },
    Relu: { dtypes: { T: ["int8", "int32"] }, attributes: {} },
    Clip: { dtypes: ALL, attributes: {} },
    Max: { dtypes: ALL, attributes: {} },
    Min: { dtypes: ALL, attributes: {} },
    ArgMax: { dtypes: { data: SUBSET_DTYPES }, attributes: { axis: INT, keepdims: INT, select_last_index: INT } },
    Reshape: { dtypes: ALL, attributes: { allowzero: { type: "INT", values: [0] } } },
    Flatten: { dtypes: ALL, attributes: { axis: INT } },
    Cast: { dtypes: { input: SUBSET_DTYPES, to: SUBSET_DTYPES }, attributes: { to: INT } },
    Gather: { dtypes: { data: SUBSET_DTYPES, indices: ["int32", "int64"] }, attributes: { axis: INT } },
    Constant: { dtypes: { value: SUBSET_DTYPES }, attributes: { value: { type: "TENSOR" } } },
};

/** The element types the subset admits for `operand` of `op` (a key of its rule's `dtypes`). */
export function admittedDTypes(op: SubsetOp | "Constant", operand: string): readonly IntDType[] {
    const dtypes = Object.hasOwn(SUBSET_OP_RULES[op].dtypes, operand) ? SUBSET_OP_RULES[op].dtypes[operand] : undefined;
    if (dtypes === undefined) throw new Error(`SUBSET_OP_RULES: ${op} has no operand ${operand}`);
    return dtypes;
}

/** `A: int8, uint8; B: int8, uint8`, or just the list when one type variable covers everything (the docs' form). */
export function dtypesText(rule: OpRule): string {
    const entries = Object.entries(rule.dtypes);
    if (entries.length === 1 && entries[0]![0] === "T") return entries[0]![1].join(", ");
    return entries.map(([operand, dtypes]) => `${operand}: ${dtypes.join(", ")}`).join("; ");
}

/** `axis, keepdims`, `allowzero = 0` (a restricted value), or `none` (the docs' form). */
export function attributesText(rule: OpRule): string {
    const entries = Object.entries(rule.attributes);
    if (entries.length === 0) return "none";
    const text = ([name, a]: [string, AttributeRule]): string => {
        if (a.values === undefined) return name;
        return a.values.length === 1 ? `${name} = ${a.values[0]}` : `${name} ∈ {${a.values.join(", ")}}`;
    };
    return entries.map(text).join(", ");
}

/** `"" ` and `"ai.onnx"` both name ONNX's default operator domain. */
export function isDefaultDomain(domain: string | null | undefined): boolean {
    return (domain ?? "") === "" || domain === "ai.onnx";
}

/** The name of an ONNX attribute type (`INT`, `FLOATS`, ...; `UNDEFINED` for 0). */
export function attributeTypeName(type: onnx.AttributeProto.AttributeType | null | undefined): string {
    return onnx.AttributeProto.AttributeType[type ?? 0] ?? `type ${type}`;
}
