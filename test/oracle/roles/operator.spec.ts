/**
 * The operator role with a faked executor and transaction sender: what it stores and submits for a verifiable model
 * on which onnxruntime disagreed with the reference interpreter.
 */
import { expect } from "chai";
import { ethers, keccak256, type Wallet } from "ethers";
import { InferenceCoordinator__factory } from "../../../typechain-types";
import { CoordinatorClient } from "../../../oracle/src/chain/coordinator";
import { requestToJson, type Request } from "../../../oracle/src/chain/requestEvents";
import type { ChainClient } from "../../../oracle/src/chain/rpc";
import type { SendOutcome, TxSender } from "../../../oracle/src/chain/txSender";
import type { Config } from "../../../oracle/src/config/schema";
import { createLogger } from "../../../oracle/src/internal/logger";
import { createMetrics, type NodeMetrics } from "../../../oracle/src/internal/metrics";
import type { ExecutionResult, Executor } from "../../../oracle/src/models/executor";
import { DType, encodeTensors } from "../../../oracle/src/models/tensorCodec";
import type { NodeContext } from "../../../oracle/src/roles/context";
import { createOperatorRole } from "../../../oracle/src/roles/operator";
import { Store } from "../../../oracle/src/store/store";

const COORDINATOR = ethers.getAddress("0x" + "c0".repeat(20));
const ME = ethers.getAddress("0x" + "ab".repeat(20));
const MODEL = "0x" + "7a".repeat(32);
const NOW = 1_000;
const INPUT = encodeTensors([{ dtype: DType.UINT8, shape: [1, 2], data: [255n, 255n] }]);
/** The reference interpreter's (canonical) output, and what a saturating onnxruntime printed instead. */
const REFERENCE_OUTPUT = encodeTensors([{ dtype: DType.INT32, shape: [1, 1], data: [-65_280n] }]);
const ONNXRUNTIME_OUTPUT = encodeTensors([{ dtype: DType.INT32, shape: [1, 1], data: [-32_768n] }]);

function request(): Request {
    return {
        requestId: 1n,
        modelId: MODEL,
        inputHash: keccak256(INPUT),
        consumer: ethers.getAddress("0x" + "ce".repeat(20)),
        feeWei: 10n,
        preferredOperator: ME,
        collateralWei: 100n,
        protocolFeeWei: 1n,
        deadline: BigInt(NOW + 3_600),
        exclusiveUntil: BigInt(NOW + 30),
        callbackGasLimit: 100_000n,
        challengeWindowSeconds: 600n,
        bondWei: 50n,
        mode: 0n,
        status: 1n,
        disputeRounds: 0n,
        operator: ethers.ZeroAddress,
        resultCode: 0n,
        challengeEndsAt: 0n,
        outputHash: ethers.ZeroHash,
        traceCommitment: ethers.ZeroHash,
    };
}

describe("oracle/roles/operator", function () {
    let store: Store;
    let metrics: NodeMetrics;
    let logs: Record<string, unknown>[];
    let sent: { kind: string; data: string }[];
    let ctx: NodeContext;

    beforeEach(function () {
        store = new Store(":memory:", { chainId: 31337, coordinator: COORDINATOR, operator: ME });
        metrics = createMetrics();
        logs = [];
        sent = [];
        const result: ExecutionResult = {
            resultCode: 0,
            output: REFERENCE_OUTPUT,
            outputHash: keccak256(REFERENCE_OUTPUT),
            inferenceMs: 1,
            referenceMismatch: { resultCode: 0, outputHash: keccak256(ONNXRUNTIME_OUTPUT) },
        };
        ctx = {
            config: {
                inference: { concurrency: 1 },
                batching: { enabled: false, maxSize: 8, maxWaitMs: 0 },
            } as Partial<Config> as Config,
            logger: createLogger({
                level: "info",
                destination: { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) },
            }),
            metrics,
            signal: new AbortController().signal,
            chain: undefined as unknown as ChainClient,
            coordinator: new CoordinatorClient(undefined as unknown as ChainClient, COORDINATOR),
            store,
            wallet: { address: ME } as Wallet,
            tx: {
                send: async (kind: string, _to: string, data: string): Promise<SendOutcome> => {
                    sent.push({ kind, data });
                    return { sent: true, txId: sent.length };
                },
            } as Partial<TxSender> as TxSender,
            executor: { run: async () => result } as Partial<Executor> as Executor,
            servedModels: new Set([MODEL]),
            modelMayLoad: () => false,
            requestRound: () => undefined,
            chainTime: () => NOW,
        };
        store.addRequest({
            requestId: "1",
            modelId: MODEL,
            blockNumber: 1,
            blockHash: ethers.ZeroHash,
            request: requestToJson(request()),
            input: INPUT,
            notBefore: 0,
        });
    });

    afterEach(function () {
        store.close();
    });

    it("submits the reference result when onnxruntime disagreed, counts it and says so in the log", async function () {
        const role = createOperatorRole(ctx);
        await role.tick();
        await role.drain();
        await role.tick();

        const stored = store.getRequest("1")!;
        expect(stored.outputHash).to.equal(keccak256(REFERENCE_OUTPUT));
        const [submission] = sent;
        const call = InferenceCoordinator__factory.createInterface().parseTransaction({ data: submission!.data })!;
        expect(call.name).to.equal("submitResult");
        expect(call.args[2]).to.equal(ethers.hexlify(REFERENCE_OUTPUT));

        const series = (await metrics.referenceMismatch.get()).values;
        expect(series).to.deep.equal([{ value: 1, labels: { model_id: MODEL } }]);
        const warning = logs.find((l) => /disagrees with the reference interpreter/.test(String(l.msg)));
        expect(warning).to.include({
            level: "warn",
            request_id: "1",
            model_id: MODEL,
            output_hash: keccak256(REFERENCE_OUTPUT),
            onnxruntime_output_hash: keccak256(ONNXRUNTIME_OUTPUT),
        });
    });
});
