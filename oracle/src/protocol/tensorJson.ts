/**
 * Tensors as JSON, the form people write them in (`verity request --tensors` and `--input file.json`, the
 * examples): `[{ "dtype": "int8", "shape": [1, 4], "data": [12, -7, 100, -128] }]`. `dtype` is a DType name in any
 * case; each element of `data` is an integer, a JSON number (exact up to 2^53) or a decimal string (any size).
 * Parsed once here, for the command line and for code, so both accept the same text with the same messages.
 */
import { DType, DTYPES, encodeTensors, type Tensor } from "./tensorCodec";

/** Text that is not a tensor list in JSON; the message names where it came from, the element and the fix. */
export class TensorJsonError extends Error {
    override readonly name = "TensorJsonError";
}

/** The dtype names JSON tensors use, lower case, in code order: uint8, int8, ... */
export const DTYPE_NAMES: readonly string[] = [...DTYPES.values()].map((info) => info.name.toLowerCase());

/** The lower-case name of a dtype, as JSON tensors and `verity inspect` write it. */
export function dtypeName(dtype: DType): string {
    return DType[dtype].toLowerCase();
}

/** The dtype a name (any case) stands for, or undefined. */
export function dtypeFromName(name: unknown): DType | undefined {
    if (typeof name !== "string") return undefined;
    const wanted = name.toUpperCase();
    return [...DTYPES.values()].find((info) => info.name === wanted)?.dtype;
}

/**
 * One element of a tensor's `data`: a whole JSON number (exactly representable) or a decimal integer string
 * (for values beyond 2^53). Anything else is refused naming the element and its value.
 */
function integerElement(v: unknown, what: string): bigint {
    if (typeof v === "number" && Number.isSafeInteger(v)) return BigInt(v);
    if (typeof v === "string" && /^-?(0|[1-9][0-9]*)$/.test(v)) return BigInt(v);
    const hint =
        typeof v === "number" && Number.isInteger(v)
            ? "; beyond 2^53 a JSON number is not exact: write it as a decimal string"
            : typeof v === "number"
              ? "; the wire takes integers: scale a float input by 10^decimals (docs/tensor-encoding.md)"
              : "";
    throw new TensorJsonError(
        `${what} is ${JSON.stringify(v)}; want an integer (a JSON number or a decimal string)${hint}`,
    );
}

/**
 * The tensors `text` holds. `where` names the text in messages (`--tensors`, a file name, a variable).
 *
 * @throws TensorJsonError when it is not JSON, not a list of `{ dtype, shape, data }`, or an element is not an
 * integer. Shapes and values are checked against each other when the tensors are encoded (`tensorsJsonBytes`).
 */
export function tensorsFromJson(text: string, where: string): Tensor[] {
    let raw: unknown;
    try {
        raw = JSON.parse(text);
    } catch (error) {
        throw new TensorJsonError(
            `${where} is not JSON (${(error as Error).message}): give [{"dtype","shape","data"}, ...]`,
        );
    }
    if (!Array.isArray(raw)) {
        throw new TensorJsonError(`${where} must be a JSON array of tensors {"dtype","shape","data"}`);
    }
    return raw.map((t: unknown, i) => {
        const tensor = (t ?? {}) as { dtype?: unknown; shape?: unknown; data?: unknown };
        const dtype = dtypeFromName(tensor.dtype);
        if (dtype === undefined) {
            throw new TensorJsonError(
                `${where}: tensor ${i} has dtype ${JSON.stringify(tensor.dtype)}; want one of ${DTYPE_NAMES.join(", ")}`,
            );
        }
        if (!Array.isArray(tensor.shape) || !Array.isArray(tensor.data)) {
            throw new TensorJsonError(`${where}: tensor ${i} needs "shape" and "data" arrays`);
        }
        return {
            dtype,
            shape: tensor.shape.map((v: unknown, j: number) => {
                if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) {
                    throw new TensorJsonError(
                        `${where}: tensor ${i} shape[${j}] is ${JSON.stringify(v)}; want a whole number ≥ 0`,
                    );
                }
                return v;
            }),
            data: tensor.data.map((v: unknown, j: number) => integerElement(v, `${where}: tensor ${i} data[${j}]`)),
        };
    });
}

/**
 * The canonical tensor-list bytes of the JSON tensors in `text`: `tensorsFromJson`, then encoded, an encoding
 * error (a shape that does not match the data, a value out of its dtype's range) reported as a TensorJsonError.
 */
export function tensorsJsonBytes(text: string, where: string): Uint8Array {
    const tensors = tensorsFromJson(text, where);
    try {
        return encodeTensors(tensors);
    } catch (error) {
        throw new TensorJsonError(`${where}: ${(error as Error).message}`, { cause: error });
    }
}
