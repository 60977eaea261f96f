/**
 * A deployment whose REEXECUTION disputes are decided by the real ReexecutionResolver: an integer MLP of the
 * verifiable subset, compiled, its program stored in the ProgramStore and the model registered with its hashes.
 */
import { ethers } from "hardhat";
import { integerMlpModel, type ExampleModel } from "../../models/examples";
import { manifestHash } from "../../oracle/src/protocol/manifest";
import { loadVerifiableModel, runVerifiable, type VerifiableModel } from "../../oracle/src/verify/execute";
import {
    DEFAULT_PARAMS,
    deployCore,
    fund,
    registerModel,
    stakeOperators,
    storeProgram,
    type Deployment,
} from "./verity";

export interface VerifiableDeployment extends Deployment {
    example: ExampleModel;
    model: VerifiableModel;
    programHash: string;
    /** The canonical result of the model on `input` (what an honest operator submits). */
    canonical: (input: Uint8Array) => { resultCode: number; output: Uint8Array };
}

/**
 * integerMlpModel `widths` (default [4, 8, 3]: input "x" int8 [1, 4], like the helpers' INPUT) as a REEXECUTION
 * model.
 */
export async function deployVerifiable(
    widthsOrModel: readonly number[] | ExampleModel = [4, 8, 3],
): Promise<VerifiableDeployment> {
    const core = await deployCore(DEFAULT_PARAMS, { reexecution: "real" });
    const example = "onnx" in widthsOrModel ? widthsOrModel : integerMlpModel({ widths: widthsOrModel });
    const model = loadVerifiableModel(example.onnx);
    const programHash = await storeProgram(core.programStore, model.compiled.program);
    const modelId = await registerModel(core.registry, core.publisher, {
        salt: ethers.id("verifiable-mlp"),
        onnxHash: ethers.keccak256(example.onnx),
        manifestHash: manifestHash(example.manifestJson),
        programHash,
    });
    await stakeOperators(core, modelId);
    await fund(core, await core.consumer.getAddress());
    return {
        ...core,
        modelId,
        example,
        model,
        programHash,
        canonical: (input) => {
            const r = runVerifiable(model, input);
            return { resultCode: r.resultCode, output: r.output };
        },
    };
}
