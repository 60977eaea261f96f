import { expect } from "chai";
import { ethers } from "ethers";
import { InferenceCoordinator__factory } from "../../../typechain-types";
import type { RpcLog } from "../../../oracle/src/chain/rpc";
import { packRequestTerms, requestToJson, type Request } from "../../../oracle/src/chain/requestEvents";
import { VerificationModeBigInt } from "../../../oracle/src/protocol/verificationMode";
import { createTracker } from "../../../oracle/src/roles/tracker";
import { Store, type RequestState, type StoreIdentity } from "../../../oracle/src/store/store";
import { createMetrics } from "../../../oracle/src/internal/metrics";

const iface = InferenceCoordinator__factory.createInterface();
type EventName = Parameters<typeof iface.getEvent>[0];

const COORDINATOR = ethers.getAddress("0x" + "c0".repeat(20));
/** Our operator; mixed-case hex so a checksummed event address differs from the lowercase config value. */
const OURS = ethers.getAddress("0x" + "ab".repeat(20));
const OTHER = ethers.getAddress("0x" + "de".repeat(20));
const CONSUMER = ethers.getAddress("0x" + "ce".repeat(20));
const CHALLENGER = ethers.getAddress("0x" + "fa".repeat(20));
const RESOLVER = ethers.getAddress("0x" + "9e".repeat(20));
const MODEL = "0x" + "7a".repeat(32);
const OTHER_MODEL = "0x" + "7b".repeat(32);
const INPUT = new Uint8Array([1, 2, 3, 250, 251]);
const OUTPUT = new Uint8Array([9, 8, 7]);
const OUTPUT_HASH = ethers.keccak256(OUTPUT);
const TRACE = "0x" + "5c".repeat(32);

const IDENTITY: StoreIdentity = { chainId: 31337, coordinator: COORDINATOR, operator: OURS };

/** The struct as announced in InferenceRequested (status Requested, nothing submitted yet). */
function announced(id: bigint, overrides: Partial<Request> = {}): Request {
    return {
        requestId: id,
        modelId: MODEL,
        inputHash: ethers.keccak256(INPUT),
        consumer: CONSUMER,
        feeWei: 1_000n,
        assignedOperator: ethers.ZeroAddress,
        collateralWei: 500n,
        protocolFeeWei: 10n,
        deadline: 5_000n,
        exclusiveUntil: 1_100n,
        callbackGasLimit: 200_000n,
        challengeWindowSeconds: 600n,
        bondWei: 50n,
        mode: VerificationModeBigInt.REEXECUTION,
        status: 1n,
        disputeRounds: 0n,
        operator: ethers.ZeroAddress,
        resultCode: 0n,
        challengeEndsAt: 0n,
        outputHash: ethers.ZeroHash,
        traceCommitment: ethers.ZeroHash,
        ...overrides,
    };
}

/** The struct after `operator` submitted OUTPUT with window end `challengeEndsAt`. */
function submittedStruct(id: bigint, operator: string, challengeEndsAt: bigint): Request {
    return announced(id, {
        status: 2n,
        operator,
        resultCode: 0n,
        challengeEndsAt,
        outputHash: OUTPUT_HASH,
        traceCommitment: TRACE,
    });
}

let logIndex = 0;

/** A coordinator log as the node's RPC client returns it. */
function coordinatorLog(name: EventName, values: readonly unknown[], blockNumber = 10): RpcLog {
    const { data, topics } = iface.encodeEventLog(iface.getEvent(name)!, values);
    return {
        address: COORDINATOR,
        topics,
        data,
        blockNumber,
        blockHash: ethers.zeroPadValue(ethers.toBeHex(blockNumber), 32),
        transactionHash: "0x" + "cc".repeat(32),
        index: logIndex++,
        removed: false,
    };
}

const requested = (id: bigint, modelId = MODEL, blockNumber = 10): RpcLog =>
    coordinatorLog(
        "InferenceRequested",
        [id, modelId, CONSUMER, packRequestTerms(announced(id, { modelId })), ethers.hexlify(INPUT)],
        blockNumber,
    );
const resultSubmitted = (id: bigint, operator: string, challengeEndsAt: bigint, output = OUTPUT): RpcLog =>
    coordinatorLog("ResultSubmitted", [id, operator, 0, TRACE, challengeEndsAt, ethers.hexlify(output)]);
const resultChallenged = (id: bigint): RpcLog => coordinatorLog("ResultChallenged", [id, CHALLENGER, RESOLVER, 77n]);
const windowRestarted = (id: bigint, challengeEndsAt: bigint): RpcLog =>
    coordinatorLog("ChallengeWindowRestarted", [id, challengeEndsAt, 1]);
const resultFinalized = (id: bigint): RpcLog => coordinatorLog("ResultFinalized", [id, true, 50_000n]);
const requestCancelled = (id: bigint): RpcLog => coordinatorLog("RequestCancelled", [id, CONSUMER, 1_000n]);
const disputeResolved = (id: bigint, operatorAtFault: boolean): RpcLog =>
    coordinatorLog("DisputeResolved", [id, operatorAtFault, CHALLENGER, OURS, 500n, 250n]);
const disputeExpired = (id: bigint): RpcLog => coordinatorLog("DisputeExpired", [id, CHALLENGER]);
const resultVoided = (id: bigint): RpcLog => coordinatorLog("ResultVoided", [id, 3]);

describe("oracle/roles/tracker", function () {
    let store: Store;
    let track: (logs: RpcLog[]) => void;

    beforeEach(function () {
        store = new Store(":memory:", IDENTITY);
        track = createTracker({ store, operator: OURS.toLowerCase(), models: new Set([MODEL]) });
    });

    afterEach(function () {
        store.close();
    });

    /** Records request `id` as announced, then walks it to `state` with the store's own methods. */
    function seed(id: bigint, state: Exclude<RequestState, "done">, options: { withOutput?: boolean } = {}): void {
        const requestId = id.toString();
        store.addRequest({
            requestId,
            modelId: MODEL,
            blockNumber: 10,
            blockHash: "0x" + "0a".repeat(32),
            request: requestToJson(announced(id)),
            input: INPUT,
            notBefore: 0,
        });
        if (state === "pending") return;
        if (options.withOutput !== false) {
            store.saveResult(requestId, { resultCode: 0, output: OUTPUT, outputHash: OUTPUT_HASH });
        }
        if (state === "computed") return;
        if (state === "submitting") {
            store.update(requestId, "submitting", { txId: 7 });
            return;
        }
        store.update(requestId, "submitted", {
            request: requestToJson(submittedStruct(id, OURS, 2_000n)),
            notBefore: 2_000,
            txId: null,
        });
        if (state === "submitted") return;
        if (state === "finalizing") {
            store.update(requestId, "finalizing", { txId: 9 });
            return;
        }
        store.update(requestId, "disputed", {
            request: requestToJson({ ...submittedStruct(id, OURS, 2_000n), status: 3n }),
        });
    }

    const get = (id: bigint) => {
        const stored = store.getRequest(id.toString());
        expect(stored, `request ${id} in the store`).to.not.equal(undefined);
        return stored!;
    };

    describe("InferenceRequested", function () {
        it("records a request of a followed model as pending, with its struct and input bytes", function () {
            track([requested(1n, MODEL, 42)]);
            const stored = get(1n);
            expect(stored.state).to.equal("pending");
            expect(stored.outcome).to.equal(null);
            expect(stored.modelId).to.equal(MODEL);
            expect(stored.blockNumber).to.equal(42);
            expect(stored.blockHash).to.equal(ethers.zeroPadValue(ethers.toBeHex(42), 32));
            expect(stored.request).to.deep.equal(requestToJson(announced(1n)));
            expect(stored.input).to.deep.equal(INPUT);
            expect(stored.notBefore).to.equal(0);
            expect(stored.output).to.equal(null);
        });

        it("ignores a request for a model the node does not follow", function () {
            track([requested(2n, OTHER_MODEL)]);
            expect(store.getRequest("2")).to.equal(undefined);
            expect(Object.values(store.countByState()).reduce((a, b) => a + b, 0)).to.equal(0);
        });

        it("keeps one row, left as it is, when the same announcement is seen twice", async function () {
            const metrics = createMetrics();
            track = createTracker({ store, operator: OURS.toLowerCase(), models: new Set([MODEL]), metrics });
            const log = requested(3n);
            track([log]);
            store.saveResult("3", { resultCode: 0, output: OUTPUT, outputHash: OUTPUT_HASH });
            track([log]);
            expect(store.countByState()).to.deep.include({ pending: 0, computed: 1 });
            expect(Object.values(store.countByState()).reduce((a, b) => a + b, 0)).to.equal(1);
            expect(get(3n).output).to.deep.equal(OUTPUT);
            const seen = (await metrics.requestsSeen.get()).values.find((v) => v.labels.model_id === MODEL);
            expect(seen?.value).to.equal(1);
        });

        it("ignores logs that are not coordinator events and events of unknown requests", function () {
            const foreign: RpcLog = {
                ...requested(4n),
                topics: [ethers.id("Transfer(address,address,uint256)")],
                data: "0x",
            };
            track([foreign, resultSubmitted(5n, OURS, 2_000n), requestCancelled(6n)]);
            expect(Object.values(store.countByState()).reduce((a, b) => a + b, 0)).to.equal(0);
        });
    });

    describe("ResultSubmitted", function () {
        it("finishes a request another operator served as done/served_by_other", function () {
            seed(10n, "computed");
            track([resultSubmitted(10n, OTHER, 2_000n)]);
            const stored = get(10n);
            expect(stored.state).to.equal("done");
            expect(stored.outcome).to.equal("served_by_other");
            expect(stored.reason).to.equal(`submitted by ${OTHER.toLowerCase()}`);
        });

        for (const from of ["computed", "submitting"] as const) {
            it(`moves our ${from} request to submitted with the struct the event describes`, function () {
                seed(11n, from);
                track([resultSubmitted(11n, OURS, 2_345n)]);
                const stored = get(11n);
                expect(stored.state).to.equal("submitted");
                expect(stored.outcome).to.equal(null);
                expect(stored.request).to.deep.equal(requestToJson(submittedStruct(11n, OURS, 2_345n)));
                expect(stored.request.status).to.equal("2");
                expect(stored.request.operator).to.equal(OURS);
                expect(stored.request.outputHash).to.equal(OUTPUT_HASH);
                expect(stored.request.challengeEndsAt).to.equal("2345");
                expect(stored.notBefore).to.equal(2_345);
                expect(stored.txId).to.equal(null);
                expect(stored.output).to.deep.equal(OUTPUT);
            });
        }

        it("restores the output, result code and hash from the event when the stored output is gone", function () {
            seed(12n, "pending");
            expect(get(12n).output).to.equal(null);
            track([resultSubmitted(12n, OURS, 2_000n)]);
            const stored = get(12n);
            expect(stored.state).to.equal("submitted");
            expect(stored.output).to.deep.equal(OUTPUT);
            expect(stored.resultCode).to.equal(0);
            expect(stored.outputHash).to.equal(OUTPUT_HASH);
        });

        it("keeps a stored output rather than overwriting it from the event", function () {
            seed(13n, "computed");
            track([resultSubmitted(13n, OURS, 2_000n, new Uint8Array([0xee]))]);
            expect(get(13n).output).to.deep.equal(OUTPUT);
        });

        it("leaves our request alone while its finalization is in flight", function () {
            seed(14n, "finalizing");
            const before = get(14n);
            track([resultSubmitted(14n, OURS, 9_999n)]);
            const after = get(14n);
            expect(after.state).to.equal("finalizing");
            expect(after.txId).to.equal(9);
            expect(after.request).to.deep.equal(before.request);
            expect(after.notBefore).to.equal(before.notBefore);
        });
    });

    describe("ResultChallenged and ChallengeWindowRestarted", function () {
        it("marks our challenged result disputed and drops the finalize transaction link", function () {
            seed(20n, "finalizing");
            track([resultChallenged(20n)]);
            const stored = get(20n);
            expect(stored.state).to.equal("disputed");
            expect(stored.request.status).to.equal("3");
            expect(stored.txId).to.equal(null);
        });

        it("puts a rejected challenge back to submitted with the new window", function () {
            seed(21n, "disputed");
            track([windowRestarted(21n, 3_600n)]);
            const stored = get(21n);
            expect(stored.state).to.equal("submitted");
            expect(stored.request).to.deep.equal(
                requestToJson({ ...submittedStruct(21n, OURS, 3_600n), disputeRounds: 1n }),
            );
            expect(stored.notBefore).to.equal(3_600);
        });
    });

    describe("terminal events", function () {
        it("finishes our finalization in flight as done/finalized", function () {
            seed(30n, "finalizing");
            track([resultFinalized(30n)]);
            const stored = get(30n);
            expect(stored.state).to.equal("done");
            expect(stored.outcome).to.equal("finalized");
            expect(stored.txId).to.equal(null);
        });

        it("finishes a result finalized without our transaction as done/finalized_by_other", function () {
            seed(31n, "submitted");
            track([resultFinalized(31n)]);
            const stored = get(31n);
            expect(stored.state).to.equal("done");
            expect(stored.outcome).to.equal("finalized_by_other");
        });

        it("finishes a cancelled request as done/cancelled", function () {
            seed(32n, "pending");
            track([requestCancelled(32n)]);
            expect(get(32n)).to.deep.include({ state: "done", outcome: "cancelled" });
        });

        it("finishes a dispute lost by the operator as done/slashed", function () {
            seed(33n, "disputed");
            track([disputeResolved(33n, true)]);
            expect(get(33n)).to.deep.include({ state: "done", outcome: "slashed" });
        });

        it("leaves a dispute won by the operator as it is (the restarted window decides)", function () {
            seed(34n, "disputed");
            const before = get(34n);
            track([disputeResolved(34n, false)]);
            const after = get(34n);
            expect(after.state).to.equal("disputed");
            expect(after.outcome).to.equal(null);
            expect(after.request).to.deep.equal(before.request);
            expect(after.notBefore).to.equal(before.notBefore);
        });

        it("finishes an expired dispute as done/voided", function () {
            seed(35n, "disputed");
            track([disputeExpired(35n)]);
            expect(get(35n)).to.deep.include({ state: "done", outcome: "voided" });
        });

        it("finishes a request voided after its last inconclusive dispute (ResultVoided) as done/voided", function () {
            seed(36n, "disputed");
            track([resultVoided(36n)]);
            expect(get(36n)).to.deep.include({ state: "done", outcome: "voided" });
        });
    });

    describe("requests the node had finished", function () {
        it("reopens a request given up as reverted when our own result shows up on chain", function () {
            seed(40n, "computed");
            store.postpone("40", "computed", 1_030, "submission would revert");
            store.finish("40", "reverted", "gave up");
            track([resultSubmitted(40n, OURS, 2_500n)]);
            const stored = get(40n);
            expect(stored.state).to.equal("submitted");
            expect(stored.outcome).to.equal(null);
            expect(stored.reason).to.equal(null);
            expect(stored.attempts).to.equal(0);
            expect(stored.request).to.deep.equal(requestToJson(submittedStruct(40n, OURS, 2_500n)));
            expect(stored.notBefore).to.equal(2_500);
        });

        it("does not reopen a reverted request for another operator's result", function () {
            seed(41n, "computed");
            store.finish("41", "reverted", "gave up");
            track([resultSubmitted(41n, OTHER, 2_500n)]);
            const stored = get(41n);
            expect(stored.state).to.equal("done");
            expect(stored.outcome).to.equal("reverted");
            expect(stored.reason).to.equal("gave up");
        });

        it("does not reopen a reverted request for a challenge or window restart of another operator's result", function () {
            seed(43n, "computed");
            store.finish("43", "reverted", "gave up");
            // Another operator's result (ignored: the request is done), then that result is challenged.
            track([resultSubmitted(43n, OTHER, 2_500n), resultChallenged(43n), windowRestarted(43n, 4_000n)]);
            const stored = get(43n);
            expect(stored.state).to.equal("done");
            expect(stored.outcome).to.equal("reverted");
        });

        it("reopens a reverted request for a challenge of our own result", function () {
            seed(44n, "computed");
            track([resultSubmitted(44n, OURS, 2_500n)]);
            store.finish("44", "reverted", "gave up");
            track([resultChallenged(44n)]);
            expect(get(44n).state).to.equal("disputed");
        });

        it("never reopens a request done for another reason, even for our own result", function () {
            seed(42n, "computed");
            store.finish("42", "cancelled");
            track([resultSubmitted(42n, OURS, 2_500n), resultChallenged(42n), windowRestarted(42n, 3_000n)]);
            const stored = get(42n);
            expect(stored.state).to.equal("done");
            expect(stored.outcome).to.equal("cancelled");
            expect(stored.request).to.deep.equal(requestToJson(announced(42n)));
        });
    });
});
