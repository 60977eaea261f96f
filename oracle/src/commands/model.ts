/**
 * `verity model hash <onnx>` (the hashes a registration commits to) and `verity model register <onnx>` (stores the
 * program in the ProgramStore in canonical 24,575-byte chunks when the mode is REEXECUTION, then registers the
 * model and prints its id). Registering the same file again with the same salt is recognised and reported, not
 * refused.
 */
import { existsSync, readFileSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { id, isHexString, keccak256, ZeroHash } from "ethers";
import {
    InferenceCoordinator__factory,
    ModelRegistry__factory,
    ProgramStore__factory,
    ReexecutionResolver__factory,
} from "../../../typechain-types";
import { MANIFEST_METADATA_KEY, manifestHash, readOnnxMetadata } from "../protocol/manifest";
import { storeProgram } from "../chain/programStore";
import { compileModel } from "../verify/program";
import { collateralFloorWei, disputeGasBound } from "../verify/disputeGas";
import { VERIFICATION_MODES, type VerificationMode, type VerificationModeName } from "../protocol/verificationMode";
import {
    chainCall,
    CliError,
    connect,
    EXIT,
    formatAmount,
    loadDeployment,
    output,
    parseAmount,
    progress,
    readFileOrFail,
    requireGas,
    sendTx,
    signer,
    type Account,
    type ChainOptions,
} from "./context";
import type { Bar } from "../internal/progress";

/** The verification modes by the lower-case names `--mode` takes, from the protocol's table. */
export const MODES = Object.fromEntries(VERIFICATION_MODES.map(([name, mode]) => [name.toLowerCase(), mode])) as {
    readonly [K in VerificationModeName as Lowercase<K>]: (typeof VerificationMode)[K];
};

export interface ModelHashes {
    file: string;
    onnxHash: string;
    manifestHash: string;
    /** Null when the model is not in the verifiable subset (it can still be registered for QUORUM). */
    programHash: string | null;
    programBytes: number | null;
    /** Why there is no program, when there is none. */
    programError?: string;
    program?: Uint8Array;
}

/** Reads and hashes a model file; a file that is not an ONNX model with an embedded manifest is refused. */
export function hashModel(file: string): ModelHashes {
    const onnx = new Uint8Array(readFileOrFail(file, "model file"));
    let json: string | undefined;
    try {
        json = readOnnxMetadata(onnx).get(MANIFEST_METADATA_KEY);
    } catch (error) {
        throw new CliError(`${file} is not an ONNX model (${(error as Error).message}): give a .onnx file`);
    }
    if (json === undefined) {
        throw new CliError(
            `${file} has no embedded "${MANIFEST_METADATA_KEY}" manifest: build it with \`verity model build\` or embed one`,
        );
    }
    const report: ModelHashes = {
        file,
        onnxHash: keccak256(onnx),
        manifestHash: manifestHash(json),
        programHash: null,
        programBytes: null,
    };
    try {
        const compiled = compileModel(onnx);
        report.programHash = compiled.programHash;
        report.programBytes = compiled.program.length;
        report.program = compiled.program;
    } catch (error) {
        report.programError = (error as Error).message;
    }
    return report;
}

export function modelHash(file: string, opts: { json?: boolean }): void {
    const { program: _program, ...report } = hashModel(file);
    const lines = [
        `onnxHash:     ${report.onnxHash}`,
        `manifestHash: ${report.manifestHash}`,
        report.programHash === null
            ? `programHash:  none (not in the verifiable subset: ${report.programError}; QUORUM only)`
            : `programHash:  ${report.programHash} (${report.programBytes} bytes)`,
    ];
    output(opts.json, report, lines.join("\n"));
}

export interface RegisterOptions extends ChainOptions {
    uri: string;
    mode: string;
    fee: string;
    collateral: string;
    window: string;
    salt?: string;
}

function saltOf(text: string | undefined, onnxHash: string): string {
    if (text === undefined) return onnxHash;
    return isHexString(text, 32) ? text : id(text);
}

/**
 * When `--uri` names a file on this machine (a path or file://, as operators on it would read it), that file must
 * be the model being registered: operators check what they fetch against the registered onnxHash, so another
 * file would make the model unservable. Unsupported schemes are refused; http(s) and paths that do not exist here
 * (a path on the operators' machines) are taken as given.
 */
function checkLocalUri(uri: string, onnxHash: string): void {
    const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(uri)?.[1]?.toLowerCase();
    if (scheme === "http" || scheme === "https") return;
    if (scheme !== undefined && scheme !== "file") {
        throw new CliError(
            `--uri ${uri}: scheme "${scheme}" is not one operators fetch (a file path, file://, http(s)://)`,
        );
    }
    let path: string;
    try {
        path = scheme === "file" ? fileURLToPath(uri) : resolve(uri);
    } catch (error) {
        throw new CliError(`--uri ${uri} is not a valid file URI (${(error as Error).message})`);
    }
    if (!existsSync(path)) return;
    let there: string;
    try {
        there = keccak256(readFileSync(path));
    } catch (error) {
        throw new CliError(`--uri ${uri}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? error})`);
    }
    if (there !== onnxHash) {
        throw new CliError(
            `--uri ${uri} holds another file than the one registered (onnxHash ${there}, want ${onnxHash}): operators would refuse it; point --uri at this model`,
        );
    }
}

/** A URI with no scheme that is not an absolute path. */
function isRelativePath(uri: string): boolean {
    return !/^[a-z][a-z0-9+.-]*:\/\//i.test(uri) && !isAbsolute(uri);
}

/**
 * What the registry will check, checked first so that nothing is spent on a model it refuses (storing a program
 * can take many transactions): the mode has a resolver, and for REEXECUTION the worst-case dispute fits the
 * resolver's `maxDisputeGas` and the collateral pays a challenger's gas (oracle/src/verify/disputeGas.ts computes
 * both exactly as the chain does). Exit 4 with the numbers otherwise.
 */
async function requireRegistrable(
    coordinatorAddress: string,
    wallet: Account,
    mode: number,
    modeName: string,
    file: string,
    hashes: ModelHashes,
    collateral: bigint,
): Promise<void> {
    const coordinator = InferenceCoordinator__factory.connect(coordinatorAddress, wallet);
    const resolverAddress = await chainCall(() => coordinator.getResolver(mode), "reading the mode's resolver");
    const MODE = modeName.toUpperCase();
    if (/^0x0{40}$/i.test(resolverAddress)) {
        throw new CliError(
            `this deployment has no ${MODE} resolver, so the registry refuses ${MODE} models (their results could not be disputed): use a mode the deployment resolves`,
            EXIT.REFUSED,
        );
    }
    if (mode !== MODES.reexecution || hashes.program === undefined) return;
    const resolver = ReexecutionResolver__factory.connect(resolverAddress, wallet);
    const [maxDisputeGas, gasPriceWei, params] = await chainCall(
        () => Promise.all([resolver.maxDisputeGas(), resolver.disputeGasPriceWei(), coordinator.getParams()]),
        "reading the REEXECUTION resolver's bounds",
    );
    const disputeGas = disputeGasBound(hashes.program);
    if (disputeGas > maxDisputeGas) {
        throw new CliError(
            `${file}: a dispute over one of its results could need ${disputeGas} gas, more than this deployment's maxDisputeGas (${maxDisputeGas}), so it could not be disputed in one transaction: make the model smaller (models too large to re-execute need a mode the deployment resolves otherwise)`,
            EXIT.REFUSED,
        );
    }
    const floor = collateralFloorWei(disputeGas, gasPriceWei, params.challengerRewardBps);
    if (collateral < floor) {
        throw new CliError(
            `--collateral ${formatAmount(collateral)} is too little: a challenger's reward (${Number(params.challengerRewardBps) / 100}% of it) would not pay a dispute's ${disputeGas} gas at ${gasPriceWei} token wei per gas; the collateral must be at least ${formatAmount(floor)}`,
            EXIT.REFUSED,
        );
    }
}

/** Stores the program (REEXECUTION) and registers the model; prints the report and returns it. */
export async function modelRegister(file: string, opts: RegisterOptions) {
    const modeName = opts.mode.toLowerCase();
    // Own keys only: `in` would take "constructor" or "__proto__" (from Object.prototype) for a mode.
    if (!Object.hasOwn(MODES, modeName)) throw new CliError(`invalid --mode "${opts.mode}": use reexecution or quorum`);
    const mode = MODES[modeName as keyof typeof MODES];
    const fee = parseAmount(opts.fee, "--fee");
    const collateral = parseAmount(opts.collateral, "--collateral");
    const window = Number(opts.window);
    if (!Number.isInteger(window) || window <= 0) {
        throw new CliError(`invalid --window "${opts.window}": give the challenge window in seconds, e.g. 600`);
    }
    const shown = progress(opts.json);
    // Synchronous (the subset check and compiler), so a step line rather than a spinner that could not turn.
    shown.step(`checking and compiling ${file}`);
    const hashes = hashModel(file);
    checkLocalUri(opts.uri, hashes.onnxHash);
    if (mode === MODES.reexecution && hashes.program === undefined) {
        throw new CliError(
            `${file} is not in the verifiable subset (${hashes.programError}): register it with --mode quorum, or fix it (\`verity model check\`)`,
        );
    }
    const { provider, chainId } = await connect(opts);
    const deployment = loadDeployment(opts, chainId);
    const wallet = signer(provider, opts.connection?.signer);
    const registry = ModelRegistry__factory.connect(deployment.address("registry"), wallet);
    const salt = saltOf(opts.salt, hashes.onnxHash);
    const modelId = await chainCall(() => registry.computeModelId(wallet.address, salt));

    const existing = await chainCall(() => registry.getModel(modelId)).catch(() => undefined);
    if (existing !== undefined && existing.owner !== "0x0000000000000000000000000000000000000000") {
        if (existing.onnxHash !== hashes.onnxHash) {
            throw new CliError(
                `model ${modelId} is already registered with another model (onnxHash ${existing.onnxHash}): pass a different --salt`,
            );
        }
        const known = { modelId, alreadyRegistered: true, owner: existing.owner, ...strip(hashes) };
        output(opts.json, known, `${modelId}\n(already registered by ${existing.owner} with this model)`);
        return known;
    }
    await requireRegistrable(deployment.address("coordinator"), wallet, mode, modeName, file, hashes, collateral);
    await requireGas(wallet);

    let programChunks = 0;
    let bar: Bar | undefined;
    let programStored = false;
    const programHash = hashes.programHash ?? ZeroHash;
    if (hashes.program !== undefined) {
        const store = ProgramStore__factory.connect(deployment.address("programStore"), wallet);
        if (await chainCall(() => store.exists(programHash))) {
            programStored = true;
        } else if (mode === MODES.reexecution) {
            ({ chunks: programChunks } = await storeProgram(store, hashes.program, {
                send: sendTx,
                // Called before each chunk is sent: i chunks are stored so far.
                onChunk: (i, count) => {
                    bar ??= shown.bar("storing the program in the ProgramStore (chunks)", count);
                    bar.update(i);
                },
            }));
            bar?.done(`program stored in ${programChunks} chunk${programChunks === 1 ? "" : "s"}`);
            programStored = true;
        }
    }
    await sendTx(
        "registering the model",
        () =>
            registry.registerModel(salt, {
                onnxHash: hashes.onnxHash,
                manifestHash: hashes.manifestHash,
                programHash: mode === MODES.reexecution || programStored ? programHash : ZeroHash,
                uri: opts.uri,
                mode,
                feeWei: fee,
                collateralWei: collateral,
                challengeWindowSeconds: window,
            }),
        shown,
    );
    const report = {
        modelId,
        owner: wallet.address,
        salt,
        mode: modeName.toUpperCase(),
        uri: opts.uri,
        feeWei: fee,
        collateralWei: collateral,
        challengeWindowSeconds: window,
        programChunksWritten: programChunks,
        ...strip(hashes),
    };
    output(
        opts.json,
        report,
        [
            modelId,
            `registered ${file} as ${report.mode} (fee ${formatAmount(fee)}, collateral ${formatAmount(collateral)}, window ${window}s)`,
            programChunks > 0 ? `stored the program in ${programChunks} chunk(s)` : "",
            isRelativePath(opts.uri)
                ? `note: the URI ${opts.uri} is a relative path; each operator's node resolves it from its own working directory`
                : "",
        ]
            .filter((l) => l !== "")
            .join("\n"),
    );
    return { ...report, alreadyRegistered: false };
}

function strip(h: ModelHashes): Omit<ModelHashes, "program"> {
    const { program: _program, ...rest } = h;
    return rest;
}
