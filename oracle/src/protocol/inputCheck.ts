/**
 * The one check of a request's input against what the model takes, for the node's runs (inference.ts, rules from
 * the manifest) and the reference interpreter's (verify/execute.ts, rules from the compiled program): the tensor
 * count, then each tensor's dtype, shape and value range, in that order. A failure is an INVALID_INPUT result; the
 * reason it returns is what the node logs.
 */
import { DType, readTensorElements, type TensorLayout } from "./tensorCodec";

/** What one input tensor must be. */
export interface InputRule {
    readonly name: string;
    /** The wire dtype. */
    readonly dtype: DType;
    readonly shape: readonly number[];
    /** Inclusive range of every element; absent: the whole dtype. */
    readonly range?: readonly [bigint, bigint];
}

/**
 * Why the input (`bytes`, scanned into `layouts` by scanTensors) does not fit `rules`, or undefined when it does.
 */
export function inputMismatch(
    bytes: Uint8Array,
    layouts: readonly TensorLayout[],
    rules: readonly InputRule[],
): string | undefined {
    if (layouts.length !== rules.length) {
        return `the input holds ${layouts.length} tensors, the model takes ${rules.length}`;
    }
    for (let i = 0; i < rules.length; i++) {
        const rule = rules[i]!;
        const layout = layouts[i]!;
        const what = `input ${i} ("${rule.name}")`;
        if (layout.dtype !== rule.dtype) {
            return `${what} is ${DType[layout.dtype]}, the model takes ${DType[rule.dtype].toLowerCase()}`;
        }
        if (!sameShape(layout.shape, rule.shape)) {
            return `${what} has shape ${shapeText(layout.shape)}, the model takes ${shapeText(rule.shape)}`;
        }
        if (rule.range !== undefined) {
            const [min, max] = rule.range;
            const values = readTensorElements(bytes, layout);
            for (let j = 0; j < values.length; j++) {
                const v = BigInt(values[j]!);
                if (v < min || v > max)
                    return `${what} element ${j} is ${v}, outside the declared range [${min}, ${max}]`;
            }
        }
    }
    return undefined;
}

/** Whether two shapes are the same dims. */
export function sameShape(a: readonly number[], b: readonly number[]): boolean {
    return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** A shape as the reasons write it: `[1, 4]`. */
export function shapeText(shape: readonly (number | string)[]): string {
    return `[${shape.join(", ")}]`;
}
