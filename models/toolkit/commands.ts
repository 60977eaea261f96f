/**
 * The model publisher's toolkit as `verity model ...` commands:
 *
 * - `verity model build --mlp mlp.json --out model.onnx [--data samples.json]`: quantize a float MLP into an
 *   integer ONNX model of the verifiable subset (quantize.ts), with its accuracy on a labelled data set.
 * - `verity model check model.onnx`: is the model in the verifiable subset and overflow-free (subset.ts)? Its op
 *   counts, multiply-accumulates, program size and estimated on-chain re-execution gas.
 * - `verity model compile model.onnx [--out program.bin]`: the on-chain program (program.ts), its hash and the
 *   hashes a registration needs.
 *
 * Each returns a report object (printed as text, or as JSON with --json), so the CLI tests and scripts share one
 * code path.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { keccak256 } from "ethers";
import { z } from "zod";
import { formatZodIssue } from "../../oracle/src/internal/zodIssues";
import { MANIFEST_METADATA_KEY, manifestHash, readOnnxMetadata } from "../../oracle/src/protocol/manifest";
import { compileModel, type CompiledProgram } from "../../oracle/src/verify/program";
import { estimateReexecution, type GasEstimate } from "./gas";
import { programChunkCount } from "../../oracle/src/chain/programStore";
import {
    buildQuantizedModel,
    evaluateAccuracy,
    normalizeFeatures,
    parseFloatMlp,
    QuantizeError,
    type AccuracyReport,
    type LabelledSample,
    type QuantizationParams,
} from "./quantize";

/** What `verity model check` reports. */
export interface CheckReport {
    readonly file: string;
    readonly onnxHash: string;
    readonly manifestHash: string;
    readonly programHash: string;
    readonly programBytes: number;
    readonly ops: Readonly<Record<string, number>>;
    readonly macs: number;
    readonly inputs: readonly { name: string; dtype: string; shape: readonly number[]; range: [string, string] }[];
    readonly outputs: readonly { name: string; dtype: string; shape: readonly number[]; range: [string, string] }[];
    readonly gas: GasEstimate;
}

function readBytes(path: string): Uint8Array {
    return new Uint8Array(readFileSync(path));
}

function registrationHashes(onnx: Uint8Array): { onnxHash: string; manifestHash: string } {
    const json = readOnnxMetadata(onnx).get(MANIFEST_METADATA_KEY);
    return { onnxHash: keccak256(onnx), manifestHash: json === undefined ? "" : manifestHash(json) };
}

function span(lo: readonly bigint[], hi: readonly bigint[]): [string, string] {
    const min = lo.reduce((a, b) => (b < a ? b : a), lo[0] ?? 0n);
    const max = hi.reduce((a, b) => (b > a ? b : a), hi[0] ?? 0n);
    return [String(min), String(max)];
}

/** Checks a model file against the verifiable subset (throws SubsetError naming the node otherwise). */
export function checkModelFile(path: string): CheckReport {
    const onnx = readBytes(path);
    const compiled = compileModel(onnx);
    const { analysis } = compiled;
    return {
        file: path,
        ...registrationHashes(onnx),
        programHash: compiled.programHash,
        programBytes: compiled.program.length,
        ops: { ...analysis.opCounts },
        macs: analysis.macs,
        inputs: analysis.inputs.map((v) => ({ name: v.name, dtype: v.dtype, shape: v.shape, range: span(v.lo, v.hi) })),
        outputs: analysis.outputs.map((v) => ({
            name: v.name,
            dtype: v.dtype,
            shape: v.shape,
            range: span(v.lo, v.hi),
        })),
        gas: estimateReexecution(compiled),
    };
}

export function formatCheckReport(r: CheckReport): string {
    const lines = [
        `${r.file}: in the verifiable subset, no overflow for any input in the declared ranges`,
        `  ops:          ${Object.entries(r.ops)
            .map(([op, n]) => `${op} ×${n}`)
            .join(", ")}`,
        `  MACs:         ${r.macs}`,
        ...r.inputs.map((v) => `  input  ${v.name}: ${v.dtype} [${v.shape.join(", ")}] in [${v.range.join(", ")}]`),
        ...r.outputs.map(
            (v) => `  output ${v.name}: ${v.dtype} [${v.shape.join(", ")}] within [${v.range.join(", ")}]`,
        ),
        `  program:      ${r.programBytes} bytes, ${r.gas.chunks} chunk(s), hash ${r.programHash}`,
        `  re-execution: ~${r.gas.total} gas (execute ~${r.gas.execute}, load ~${r.gas.load})`,
        `  dispute:      at most ${r.gas.disputeGas} gas (the chain's bound, with a 5M-gas callback and the largest input): ${
            r.gas.registrable
                ? `within the default maxDisputeGas ${r.gas.maxDisputeGas}`
                : `ABOVE the default maxDisputeGas ${r.gas.maxDisputeGas}: registration as REEXECUTION is refused`
        }`,
        `  collateral:   at least ${r.gas.collateralFloorWei} wei at the default dispute gas price`,
        `  onnxHash:     ${r.onnxHash}`,
        `  manifestHash: ${r.manifestHash}`,
    ];
    return `${lines.join("\n")}\n`;
}

/** What `verity model compile` reports. */
export interface CompileReport {
    readonly file: string;
    readonly out: string;
    readonly onnxHash: string;
    readonly manifestHash: string;
    readonly programHash: string;
    readonly programBytes: number;
    readonly chunks: number;
}

/** Compiles a model file into its program and writes the program bytes to `out`. */
export function compileModelFile(path: string, out: string): CompileReport & { compiled: CompiledProgram } {
    const onnx = readBytes(path);
    const compiled = compileModel(onnx);
    writeFileSync(out, compiled.program);
    return {
        file: path,
        out,
        ...registrationHashes(onnx),
        programHash: compiled.programHash,
        programBytes: compiled.program.length,
        chunks: programChunkCount(compiled.program.length),
        compiled,
    };
}

export function formatCompileReport(r: CompileReport): string {
    return [
        `wrote ${r.out}: ${r.programBytes} bytes (${r.chunks} ProgramStore chunk(s))`,
        `  programHash:  ${r.programHash}`,
        `  onnxHash:     ${r.onnxHash}`,
        `  manifestHash: ${r.manifestHash}`,
        "",
    ].join("\n");
}

const samplesSchema = z.array(
    z.strictObject({ x: z.array(z.number().refine(Number.isFinite)), label: z.number().int().min(0) }),
);

/** What `verity model build` reports. */
export interface BuildReport {
    readonly out: string;
    readonly manifestOut: string;
    readonly onnxHash: string;
    readonly manifestHash: string;
    readonly quantization: QuantizationParams;
    readonly accuracy?: AccuracyReport;
}

/**
 * Builds the quantized model of a float MLP file. With `dataPath` (a JSON array of `{ "x": number[], "label":
 * int }`, raw features: the MLP's `normalization` is applied), the samples calibrate the scales and the report
 * gives float and quantized accuracy on them.
 */
export function buildModelFile(mlpPath: string, out: string, dataPath?: string): BuildReport {
    const mlp = parseFloatMlp(readFileSync(mlpPath, "utf8"));
    let samples: LabelledSample[] | undefined;
    if (dataPath !== undefined) {
        let raw: unknown;
        try {
            raw = JSON.parse(readFileSync(dataPath, "utf8"));
        } catch (err) {
            throw new QuantizeError("INVALID_DATA", `${dataPath}: not JSON: ${(err as Error).message}`);
        }
        const parsed = samplesSchema.safeParse(raw);
        if (!parsed.success) {
            // The first issue only: a bad sample is usually one of many alike.
            throw new QuantizeError("INVALID_DATA", `${dataPath}: ${formatZodIssue(parsed.error.issues[0]!)}`);
        }
        samples = parsed.data.map((s) => ({ x: normalizeFeatures(mlp, s.x), label: s.label }));
    }
    const built = buildQuantizedModel(mlp, samples === undefined ? {} : { calibration: samples.map((s) => s.x) });
    const manifestOut = out.replace(/\.onnx$/, "") + ".manifest.json";
    writeFileSync(out, built.onnx);
    writeFileSync(manifestOut, built.manifestJson);
    const q = built.quantization;
    return {
        out,
        manifestOut,
        onnxHash: keccak256(built.onnx),
        manifestHash: manifestHash(built.manifestJson),
        quantization: q,
        ...(samples === undefined
            ? {}
            : { accuracy: evaluateAccuracy(mlp, built.onnx, q.inputScale, samples, q.scoreScale) }),
    };
}

export function formatBuildReport(r: BuildReport): string {
    const lines = [
        `wrote ${r.out} and ${r.manifestOut} (scheme ${r.quantization.scheme})`,
        `  inputScale:   ${r.quantization.inputScale} (send clamp(round(x / inputScale), -127, 127) as int8)`,
        `  scoreScale:   ${r.quantization.scoreScale}`,
        `  onnxHash:     ${r.onnxHash}`,
        `  manifestHash: ${r.manifestHash}`,
    ];
    if (r.accuracy !== undefined) {
        const a = r.accuracy;
        lines.push(
            `  accuracy on ${a.samples} samples: float ${a.floatAccuracy.toFixed(4)}, quantized ${a.quantizedAccuracy.toFixed(4)}, agreement ${a.agreement.toFixed(4)}`,
        );
    }
    return `${lines.join("\n")}\n`;
}
