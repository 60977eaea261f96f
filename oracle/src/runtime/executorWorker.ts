/**
 * Entry point of an inference worker thread, started by Executor (executor.ts; the messages are in
 * executorProtocol.ts). It holds one onnxruntime session per loaded model and answers the Executor's requests in
 * turn: a run is decoded, run, encoded and hashed on this thread (inference.ts), so the node's event loop never
 * waits for a model.
 */
import { parentPort, workerData } from "node:worker_threads";
import { PermanentError } from "../internal/errors";
import { serializeError, type WorkerConfig, type WorkerReply, type WorkerRequest } from "./executorProtocol";
import { executeModel, executeReference, loadModel, warmUpOnnxruntime, type LoadedModel } from "./inference";

const port = parentPort;
if (port === null) throw new Error("executorWorker: not started as a worker thread");
const config = workerData as WorkerConfig;

// Before any request: the first model load then finds onnxruntime initialised.
void warmUpOnnxruntime();

/** Loaded (or loading) models by id. A run waits for its model's load to finish. */
const models = new Map<string, Promise<LoadedModel>>();

async function answer(request: WorkerRequest): Promise<WorkerReply & { ok: true }> {
    switch (request.type) {
        case "init":
            return { id: request.id, ok: true };
        case "exit":
            // Between messages, never inside onnxruntime: the one safe moment to end the thread.
            return process.exit(request.code);
        case "load": {
            let loading = models.get(request.modelId);
            if (loading === undefined) {
                loading = loadModel(
                    request.modelId,
                    request.onnx,
                    request.manifest,
                    config.intraOpNumThreads,
                    request.verifiable,
                );
                models.set(request.modelId, loading);
                // A failed load leaves no trace: loading the same id again tries again.
                loading.catch(() => {
                    if (models.get(request.modelId) === loading) models.delete(request.modelId);
                });
            }
            await loading;
            return { id: request.id, ok: true };
        }
        case "unload": {
            const loading = models.get(request.modelId);
            models.delete(request.modelId);
            const model = await loading?.catch(() => undefined);
            await model?.session.release();
            return { id: request.id, ok: true };
        }
        case "run":
        case "reference": {
            const loading = models.get(request.modelId);
            if (loading === undefined) {
                throw new PermanentError("MODEL_NOT_LOADED", `model ${request.modelId} is not loaded in this worker`);
            }
            const model = await loading;
            const value =
                request.type === "run"
                    ? await executeModel(model, request.input, config.timeoutMs)
                    : executeReference(model, request.input);
            return { id: request.id, ok: true, value };
        }
    }
}

port.on("message", (request: WorkerRequest) => {
    answer(request).then(
        (reply) => {
            // The output goes back without a copy: it was made for this reply alone.
            const value = reply.value;
            const output = value?.kind === "result" || value?.kind === "reference" ? value.output : undefined;
            port.postMessage(reply, output === undefined ? [] : [output.buffer as ArrayBuffer]);
        },
        (err: unknown) => port.postMessage({ id: request.id, ok: false, error: serializeError(err) } as WorkerReply),
    );
});
