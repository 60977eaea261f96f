/**
 * The models a node serves (its model catalogue): each followed model (config.models) is fetched, checked against
 * the registry and loaded into the executor; a failure is loud and leaves the others serving, a transient one is
 * retried after MODEL_RETRY_MS, a permanent one (a wrong file, a model outside the verifiable subset) is not.
 */
import type { Wallet } from "ethers";
import { join } from "node:path";
import type { CoordinatorClient } from "../chain/coordinator";
import type { Config } from "../config/schema";
import { describeError, shouldRetry } from "../internal/errors";
import type { Logger } from "../internal/logger";
import type { Executor } from "../runtime/executor";
import { ModelFetcher } from "../runtime/fetcher";
import { extractManifest } from "../protocol/manifest";
import { VerificationModeBigInt } from "../protocol/verificationMode";

/** A model that failed to load for a transient reason is retried after this long. */
export const MODEL_RETRY_MS = 30_000;

export interface ModelCatalogue {
    /** The ids of the followed models (config.models), lower case. */
    readonly followed: ReadonlySet<string>;
    /** Whether a model failed to load and waits for a retry or failed for good. */
    readonly hasFailures: boolean;
    /** Why a followed model is not served: its last load error, or "loading". Undefined for a served one. */
    whyNotServed(modelId: string): string | undefined;
    /** Whether the model may still load (it did not fail for good). */
    mayLoad(modelId: string): boolean;
    /** Loads each followed model not served yet whose retry time has come. Never throws. */
    loadAll(): Promise<void>;
}

export function createModelCatalogue(deps: {
    readonly config: Config;
    readonly logger: Logger;
    readonly coordinator: CoordinatorClient;
    readonly executor: Executor;
    readonly wallet: Wallet;
    /** The served models' ids (lower case): the catalogue adds each model it loads. */
    readonly served: Set<string>;
    readonly dataDir: string;
}): ModelCatalogue {
    const { config, logger, coordinator, executor, wallet, served } = deps;
    const errors = new Map<string, { message: string; retryAtMs: number | null }>();
    const followed = new Set(config.models.map((m) => m.modelId.toLowerCase()));
    const fetcher = new ModelFetcher({ cacheDir: config.storage.modelCacheDir ?? join(deps.dataDir, "models") });
    return {
        followed,
        get hasFailures() {
            return errors.size > 0;
        },
        whyNotServed: (modelId) => (served.has(modelId) ? undefined : (errors.get(modelId)?.message ?? "loading")),
        mayLoad: (modelId) => {
            const failed = errors.get(modelId);
            return failed === undefined || failed.retryAtMs !== null;
        },
        async loadAll(): Promise<void> {
            for (const entry of config.models) {
                const modelId = entry.modelId.toLowerCase();
                if (served.has(modelId)) continue;
                const failed = errors.get(modelId);
                if (failed !== undefined && (failed.retryAtMs === null || Date.now() < failed.retryAtMs)) continue;
                try {
                    const model = await coordinator.getModel(entry.modelId);
                    const uri = entry.uri ?? model.uri;
                    const bytes = await fetcher.fetch(uri, model.onnxHash);
                    const manifest = extractManifest(bytes, model.manifestHash);
                    // A REEXECUTION model must be the program the chain re-executes in a dispute: the executor compiles
                    // it and refuses it (for good) outside the verifiable subset, when the registered programHash is
                    // not its program's, or when a dispute over it could need more gas than the resolver's bound (its
                    // results could not be disputed); its runs then answer with the reference interpreter's result.
                    const verifiable = BigInt(model.mode) === VerificationModeBigInt.REEXECUTION;
                    let load = {};
                    if (verifiable) {
                        const resolver = await coordinator.resolver(VerificationModeBigInt.REEXECUTION);
                        const maxDisputeGas = resolver === null ? undefined : await coordinator.maxDisputeGas(resolver);
                        load = {
                            verifiable: {
                                programHash: model.programHash,
                                ...(maxDisputeGas === undefined ? {} : { maxDisputeGas }),
                            },
                        };
                    }
                    // Asked while the workers load the model (the answer only decides a warning), not after.
                    const registered = config.roles.operator
                        ? coordinator.isRegistered(entry.modelId, wallet.address)
                        : Promise.resolve(true);
                    registered.catch(() => undefined); // a failed load is the error to report
                    await executor.load(modelId, bytes, manifest, load);
                    if (!(await registered)) {
                        logger.warn(
                            { model_id: modelId },
                            "this operator is not registered for the model; submissions will be refused",
                        );
                    }
                    served.add(modelId);
                    errors.delete(modelId);
                    logger.info(
                        {
                            model_id: modelId,
                            uri,
                            onnx_hash: model.onnxHash,
                            ...(verifiable ? { program_hash: model.programHash } : {}),
                        },
                        "model verified and loaded",
                    );
                } catch (error) {
                    const retry = shouldRetry(error);
                    errors.set(modelId, {
                        message: describeError(error).message,
                        retryAtMs: retry ? Date.now() + MODEL_RETRY_MS : null,
                    });
                    logger.error(
                        { model_id: modelId, error: describeError(error), will_retry: retry },
                        "model could not be loaded; its requests are declined until it is",
                    );
                }
            }
        },
    };
}
