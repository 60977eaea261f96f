/**
 * An off-chain consumer of Verity: an EOA requests inference, waits for the settled result, and prints it.
 *
 * Run against any chain with a Verity deployment, a registered model and a running operator node:
 *
 *   VERITY_RPC_URL=http://127.0.0.1:8545 \
 *   VERITY_PRIVATE_KEY=0x...            # an account holding the stake/fee token (the fee is deposited for you)
 *   VERITY_COORDINATOR=0x...            # InferenceCoordinator address; default: read from
 *                                       # ignition/deployments/chain-<id>/deployed_addresses.json
 *   VERITY_MODEL_ID=0x...               # a registered model
 *   VERITY_INPUT='[{"dtype":3,"shape":[1,4],"data":["12","-7","100","-128"]}]'  # optional tensors (dtype codes
 *                                       # as in DType; data as decimal strings), default: the example above
 *   npx ts-node examples/offchain-consumer.ts
 *
 * The result arrives after the model's challenge window, once someone (the node's finalizer role) finalizes it.
 * `runOffchainConsumer` is the same flow as a function; test/oracle/sdk/example.spec.ts runs it on hardhat.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { JsonRpcProvider, Wallet, formatUnits, type Signer } from "ethers";
import { createVerityClient, DType, VeritySdkError, type SettledResult, type Tensor } from "../oracle/src/sdk";

export interface ConsumerOptions {
    signer: Signer;
    coordinator: string;
    modelId: string;
    input: Tensor[];
    timeoutMs?: number;
    pollIntervalMs?: number;
    log?: (line: string) => void;
}

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
    log(`requested ${sent.requestId.toString(16)} in ${sent.transactionHash}`);
    const result = await verity.waitForResult(sent.requestId, { timeoutMs: opts.timeoutMs ?? 30 * 60_000 });
    log(`settled: ${result.status} (result code ${String(result.resultCode)}) by operator ${String(result.operator)}`);
    for (const [i, t] of (result.tensors ?? []).entries()) {
        log(`output ${i}: ${DType[t.dtype]} [${t.shape.join(", ")}] = [${t.data.join(", ")}]`);
    }
    return result;
}

function env(name: string): string {
    const value = process.env[name];
    if (value === undefined || value === "") throw new Error(`${name} is not set (see the header of this file)`);
    return value;
}

async function main(): Promise<void> {
    const provider = new JsonRpcProvider(env("VERITY_RPC_URL"));
    const signer = new Wallet(env("VERITY_PRIVATE_KEY"), provider);
    let coordinator = process.env.VERITY_COORDINATOR;
    if (coordinator === undefined || coordinator === "") {
        const { chainId } = await provider.getNetwork();
        const file = join("ignition", "deployments", `chain-${chainId}`, "deployed_addresses.json");
        if (!existsSync(file)) throw new Error(`VERITY_COORDINATOR is not set and ${file} does not exist`);
        coordinator = (JSON.parse(readFileSync(file, "utf8")) as Record<string, string>)["Verity#InferenceCoordinator"];
        if (coordinator === undefined) throw new Error(`${file} has no Verity#InferenceCoordinator`);
    }
    const raw = process.env.VERITY_INPUT ?? '[{"dtype":3,"shape":[1,4],"data":["12","-7","100","-128"]}]';
    const input = (JSON.parse(raw) as { dtype: DType; shape: number[]; data: string[] }[]).map((t) => ({
        dtype: t.dtype,
        shape: t.shape,
        data: t.data.map((v) => BigInt(v)),
    }));
    await runOffchainConsumer({ signer, coordinator, modelId: env("VERITY_MODEL_ID"), input });
    provider.destroy();
}

if (require.main === module) {
    main().catch((err: unknown) => {
        console.error(err instanceof VeritySdkError ? `${err.code}: ${err.message}` : err);
        process.exit(1);
    });
}
