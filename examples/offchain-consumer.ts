/**
 * An off-chain consumer of Verity: an account requests inference, waits for the settled result, and prints it.
 *
 * It picks up where the README's walkthrough leaves off: a deployment made by `npx verity deploy` (which wrote
 * deployments/<chainId>.json in the directory it ran in, the repository's root in the README), a model registered
 * by `npx verity model register`, and an operator node serving it (`npx verity node`). In that directory, with the
 * walkthrough's variables:
 *
 *   export VERITY_RPC_URL=http://127.0.0.1:8545
 *   export VERITY_PRIVATE_KEY=0x...    # an account holding stake tokens (the fee is deposited for you)
 *   npx ts-node --transpile-only examples/offchain-consumer.ts --model <modelId> \
 *       [--tensors '[{"dtype":"int8","shape":[1,4],"data":[12,-7,100,-128]}]'] [--deployment <file>]
 *
 * `--model`, `--tensors` and `--deployment` mean what they mean to `verity request`: the id `model register`
 * printed; the input as JSON tensors with dtype names, read by the command's own parser (models/tensorJson.ts; the
 * default is the one above); the manifest the coordinator's address comes from (default:
 * deployments/<chainId>.json in the working directory). The result arrives after the model's challenge window,
 * once someone (the node's finalizer role) finalizes it. `runOffchainConsumer` is the same flow as a function.
 * test/oracle/sdk/example.spec.ts runs this file as written, against a deployment made the README's way.
 */
import { parseArgs } from "node:util";
import { JsonRpcProvider, Wallet, formatUnits, toBeHex, type Signer } from "ethers";
import { createVerityClient, VeritySdkError, type InferenceInput, type SettledResult } from "../oracle/src/sdk";
import { dtypeName, tensorsFromJson } from "../oracle/src/protocol/tensorJson";
import { loadDeployment } from "../oracle/src/commands/context";

export interface ConsumerOptions {
    signer: Signer;
    coordinator: string;
    modelId: string;
    input: InferenceInput;
    timeoutMs?: number;
    pollIntervalMs?: number;
    log?: (line: string) => void;
}

/** The input when `--tensors` is left out: the README's example request. */
const DEFAULT_TENSORS = '[{"dtype":"int8","shape":[1,4],"data":[12,-7,100,-128]}]';

export async function runOffchainConsumer(opts: ConsumerOptions): Promise<SettledResult> {
    const log = opts.log ?? console.log;
    const verity = createVerityClient({
        coordinator: opts.coordinator,
        runner: opts.signer,
        pollIntervalMs: opts.pollIntervalMs ?? 2_000,
    });
    const fee = await verity.quoteFee(opts.modelId);
    log(`fee: ${formatUnits(fee)} tokens`);
    const sent = await verity.requestInference(opts.modelId, opts.input, { deposit: true });
    // Request ids in the form `verity inspect <requestId>` takes and every log prints: 0x + 64 hex digits.
    const requestId = toBeHex(sent.requestId, 32);
    log(`requested ${requestId} in ${sent.transactionHash}`);
    const result = await verity.waitForResult(sent.requestId, { timeoutMs: opts.timeoutMs ?? 30 * 60_000 });
    log(
        `settled ${requestId}: ${result.status} (result code ${String(result.resultCode)}) by operator ${String(result.operator)}`,
    );
    for (const [i, t] of (result.tensors ?? []).entries()) {
        log(`output ${i}: ${dtypeName(t.dtype)} [${t.shape.join(", ")}] = [${t.data.join(", ")}]`);
    }
    return result;
}

function env(name: string): string {
    const value = process.env[name];
    if (value === undefined || value === "") throw new Error(`${name} is not set (see the header of this file)`);
    return value;
}

async function main(): Promise<void> {
    const { values } = parseArgs({
        options: {
            model: { type: "string" },
            tensors: { type: "string", default: DEFAULT_TENSORS },
            deployment: { type: "string" },
        },
    });
    if (values.model === undefined) throw new Error("--model <modelId> is required (see the header of this file)");
    const input = tensorsFromJson(values.tensors, "--tensors");
    // cacheTimeout -1: ethers otherwise answers an identical read within 250 ms from its cache, so the approve and
    // deposit that pay the fee, sent back to back, would both be given the same "pending" nonce.
    const provider = new JsonRpcProvider(env("VERITY_RPC_URL"), undefined, { cacheTimeout: -1 });
    try {
        const signer = new Wallet(env("VERITY_PRIVATE_KEY"), provider);
        const { chainId } = await provider.getNetwork();
        // The addresses `verity deploy` recorded: deployments/<chainId>.json, or --deployment.
        const coordinator = loadDeployment({ deployment: values.deployment }, Number(chainId)).address("coordinator");
        await runOffchainConsumer({ signer, coordinator, modelId: values.model, input });
    } finally {
        provider.destroy();
    }
}

if (require.main === module) {
    main().catch((err: unknown) => {
        // One line, as the `verity` command reports errors; an SDK error leads with its code.
        const code = err instanceof VeritySdkError ? `${err.code}: ` : "";
        console.error(`error: ${code}${err instanceof Error ? err.message : String(err)}`);
        process.exit(1);
    });
}
