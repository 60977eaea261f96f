import { expect } from "chai";
import Database from "better-sqlite3";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SCHEMA_VERSION, Store, StoreError, type StoreIdentity } from "../../../oracle/src/store/store";

const IDENTITY: StoreIdentity = {
    chainId: 31337,
    coordinator: "0x" + "Ab".repeat(20),
    operator: "0x" + "Cd".repeat(20),
};

const TO = "0x" + "11".repeat(20);

/** A request as the tracker would record it; `id` doubles as a recognisable payload. */
function request(id: string, blockNumber: number, notBefore = 0) {
    return {
        requestId: id,
        modelId: "0x" + "77".repeat(32),
        blockNumber,
        blockHash: `0xhash${blockNumber}`,
        request: { requestId: id, feeWei: "1000", deadline: 99, preferred: false },
        input: new Uint8Array([1, 2, blockNumber & 0xff]),
        notBefore,
    };
}

function attempt(hash: string, maxFee = 20n, priority = 1n) {
    return { hash, raw: `0xraw-${hash}`, maxFeePerGas: maxFee, maxPriorityFeePerGas: priority };
}

function tx(nonce: number, requestIds: string[] = []) {
    return { nonce, kind: "submit" as const, to: TO, data: "0xabcdef", gasLimit: 123_456n, requestIds };
}

/** A settable clock for the store's `now`. */
function clock(start = 1_000) {
    const c = { ms: start, now: () => c.ms };
    return c;
}

function errorOf(fn: () => unknown): unknown {
    try {
        fn();
    } catch (error) {
        return error;
    }
    return undefined;
}

describe("oracle/store/store", function () {
    let dir: string;
    const opened: Store[] = [];

    /** Opens a store and remembers it so every test closes what it opened. */
    function open(path: string, identity: StoreIdentity = IDENTITY, now?: () => number): Store {
        const store = new Store(path, identity, now === undefined ? {} : { now });
        opened.push(store);
        return store;
    }

    beforeEach(function () {
        dir = mkdtempSync(join(tmpdir(), "verity-store-"));
    });

    afterEach(function () {
        for (const store of opened.splice(0)) store.close();
        rmSync(dir, { recursive: true, force: true });
    });

    describe("identity", function () {
        it("creates missing parent directories and records the identity (addresses lower-cased)", function () {
            const path = join(dir, "nested", "deeper", "node.sqlite");
            const store = open(path);
            expect(store.getMeta("schema_version")).to.equal(String(SCHEMA_VERSION));
            expect(store.getMeta("chain_id")).to.equal("31337");
            expect(store.getMeta("coordinator")).to.equal(IDENTITY.coordinator.toLowerCase());
            expect(store.getMeta("operator")).to.equal(IDENTITY.operator.toLowerCase());
        });

        for (const [field, other] of [
            ["chain_id", { ...IDENTITY, chainId: 1 }],
            ["coordinator", { ...IDENTITY, coordinator: "0x" + "ee".repeat(20) }],
            ["operator", { ...IDENTITY, operator: "0x" + "ee".repeat(20) }],
        ] as const) {
            it(`refuses to reopen the database for another ${field} (STORE_IDENTITY_MISMATCH)`, function () {
                const path = join(dir, "node.sqlite");
                open(path).addRequest(request("1", 5));
                opened.pop()!.close();

                const error = errorOf(() => open(path, other));
                expect(error).to.be.instanceOf(StoreError);
                expect((error as StoreError).code).to.equal("STORE_IDENTITY_MISMATCH");
                expect((error as StoreError).message).to.contain(field);

                // The refused open changed nothing: the original identity still opens, with its data.
                const again = open(path);
                expect(again.getMeta(field)).to.equal(
                    field === "chain_id"
                        ? "31337"
                        : (IDENTITY as unknown as Record<string, string>)[field]!.toLowerCase(),
                );
                expect(again.getRequest("1")?.state).to.equal("pending");
            });
        }

        it("refuses a database written by another schema version", function () {
            const path = join(dir, "node.sqlite");
            const store = open(path);
            store.setMeta("schema_version", String(SCHEMA_VERSION + 1));
            store.close();
            const error = errorOf(() => open(path));
            expect(error).to.be.instanceOf(StoreError);
            expect((error as StoreError).code).to.equal("STORE_IDENTITY_MISMATCH");
        });

        it("migrates a schema 1 database (no salt column) to the current version, keeping its data", function () {
            const path = join(dir, "node.sqlite");
            const store = open(path);
            store.addRequest(request("42", 7));
            store.addWatched({
                requestId: "7",
                modelId: "0x" + "77".repeat(32),
                blockNumber: 8,
                request: { requestId: "7", status: "2", challengeEndsAt: "5000" },
                input: new Uint8Array([1, 2, 3]),
                operator: "0x" + "0e".repeat(20),
                resultCode: 0,
                outputHash: "0x" + "0a".repeat(32),
            });
            store.updateWatched("7", "wrong");
            store.close();
            // What a node of schema 1 left behind.
            const v1 = new Database(path);
            v1.exec("ALTER TABLE watched DROP COLUMN salt");
            v1.prepare("UPDATE meta SET value = '1' WHERE key = 'schema_version'").run();
            v1.close();

            const again = open(path);
            expect(again.getMeta("schema_version")).to.equal(String(SCHEMA_VERSION));
            expect(SCHEMA_VERSION).to.equal(2);
            expect(again.getRequest("42")?.blockNumber).to.equal(7);
            expect(again.getWatched("7")).to.include({ state: "wrong", salt: null });
            const salt = "0x" + "5a".repeat(32);
            again.updateWatched("7", "wrong", { salt });
            expect(again.getWatched("7")!.salt).to.equal(salt);
        });

        it("reopens with the same identity (address case aside) and keeps the data", function () {
            const path = join(dir, "node.sqlite");
            const store = open(path);
            store.addRequest(request("42", 7));
            store.transaction(() => store.advance(7, "0xseven", 10));
            store.close();

            const again = open(path, {
                chainId: IDENTITY.chainId,
                coordinator: IDENTITY.coordinator.toUpperCase().replace("0X", "0x"),
                operator: IDENTITY.operator.toLowerCase(),
            });
            expect(again.getRequest("42")?.blockNumber).to.equal(7);
            expect(again.checkpoint()).to.equal(7);
        });
    });

    describe("chain position", function () {
        it("has no checkpoint before the first advance", function () {
            const store = open(":memory:");
            expect(store.checkpoint()).to.equal(undefined);
            expect(store.recordedBlocks()).to.deep.equal([]);
        });

        it("advance moves the checkpoint and records hashes newest first, pruning those older than keepBlocks", function () {
            const store = open(":memory:");
            for (const n of [10, 11, 12]) store.transaction(() => store.advance(n, `0xh${n}`, 2));
            expect(store.checkpoint()).to.equal(12);
            expect(store.recordedBlocks()).to.deep.equal([
                { number: 12, hash: "0xh12" },
                { number: 11, hash: "0xh11" },
                { number: 10, hash: "0xh10" },
            ]);
            store.transaction(() => store.advance(13, "0xh13", 2));
            // Kept: blocks numbered checkpoint - keepBlocks and above.
            expect(store.recordedBlocks().map((b) => b.number)).to.deep.equal([13, 12, 11]);
            store.transaction(() => store.advance(20, "0xh20", 2));
            expect(store.recordedBlocks()).to.deep.equal([{ number: 20, hash: "0xh20" }]);
            expect(store.checkpoint()).to.equal(20);
        });

        it("advance to an already recorded number replaces its hash", function () {
            const store = open(":memory:");
            store.transaction(() => store.advance(5, "0xold", 10));
            store.transaction(() => store.advance(5, "0xnew", 10));
            expect(store.recordedBlocks()).to.deep.equal([{ number: 5, hash: "0xnew" }]);
        });
    });

    describe("rewind", function () {
        it("marks open requests above the ancestor done/reorged, leaves older and done ones alone, returns their ids", function () {
            const c = clock();
            const store = open(":memory:", IDENTITY, c.now);
            store.addRequest(request("old", 5));
            store.addRequest(request("at", 10));
            store.addRequest(request("pending", 11));
            store.addRequest(request("computed", 12));
            store.saveResult("computed", { resultCode: 0, output: new Uint8Array([9]), outputHash: "0xout" });
            store.addRequest(request("submitting", 13));
            const txId = store.addTx(tx(0, ["submitting"]), attempt("0xa"), "submitting");
            store.addRequest(request("finished", 14));
            store.finish("finished", "finalized");
            for (const n of [5, 10, 12, 14]) store.transaction(() => store.advance(n, `0xh${n}`, 100));

            c.ms = 5_000;
            const dropped = store.rewind(10);

            expect([...dropped].sort()).to.deep.equal(["computed", "pending", "submitting"]);
            for (const id of dropped) {
                const r = store.getRequest(id)!;
                expect(r.state, id).to.equal("done");
                expect(r.outcome, id).to.equal("reorged");
                expect(r.reason, id).to.contain("above 10");
                expect(r.updatedAtMs, id).to.equal(5_000);
            }
            // The link to the pending transaction is kept, so a re-included request goes back in flight.
            expect(store.getRequest("submitting")!.txId).to.equal(txId);
            // The transaction itself is kept (the sender decides what happens to it).
            expect(store.getTx(txId)!.state).to.equal("pending");
            expect(store.getRequest("old")!.state).to.equal("pending");
            expect(store.getRequest("at")!.state).to.equal("pending");
            expect(store.getRequest("finished")!.outcome).to.equal("finalized");
            expect(store.checkpoint()).to.equal(10);
            expect(store.recordedBlocks().map((b) => b.number)).to.deep.equal([10, 5]);
        });

        it("returns nothing when no open request lies above the ancestor", function () {
            const store = open(":memory:");
            store.addRequest(request("a", 3));
            expect(store.rewind(3)).to.deep.equal([]);
            expect(store.getRequest("a")!.state).to.equal("pending");
        });
    });

    describe("requests", function () {
        it("addRequest stores a new pending request with all its fields", function () {
            const c = clock(7_000);
            const store = open(":memory:", IDENTITY, c.now);
            expect(store.addRequest(request("1", 8, 1234))).to.equal(true);
            const r = store.getRequest("1")!;
            expect(r).to.deep.equal({
                requestId: "1",
                modelId: "0x" + "77".repeat(32),
                blockNumber: 8,
                blockHash: "0xhash8",
                request: { requestId: "1", feeWei: "1000", deadline: 99, preferred: false },
                input: new Uint8Array([1, 2, 8]),
                state: "pending",
                outcome: null,
                reason: null,
                resultCode: null,
                output: null,
                outputHash: null,
                txId: null,
                notBefore: 1234,
                batchable: true,
                attempts: 0,
                seenAtMs: 7_000,
                updatedAtMs: 7_000,
            });
            expect(store.getRequest("missing")).to.equal(undefined);
        });

        it("addRequest is idempotent: a second add returns false and leaves the request as it is", function () {
            const c = clock();
            const store = open(":memory:", IDENTITY, c.now);
            store.addRequest(request("1", 8));
            store.saveResult("1", { resultCode: 3, output: new Uint8Array([4]), outputHash: "0xo" });
            const before = store.getRequest("1");
            c.ms += 1_000;
            expect(store.addRequest({ ...request("1", 9, 50), input: new Uint8Array([7]) })).to.equal(false);
            expect(store.getRequest("1")).to.deep.equal(before);
        });

        it("addRequest does not revive a request done for another reason than a reorg", function () {
            const store = open(":memory:");
            store.addRequest(request("1", 8));
            store.finish("1", "cancelled");
            expect(store.addRequest(request("1", 8))).to.equal(false);
            expect(store.getRequest("1")!.outcome).to.equal("cancelled");
        });

        it("addRequest revives a reorged request as a fresh pending one from the new announcement", function () {
            const c = clock();
            const store = open(":memory:", IDENTITY, c.now);
            store.addRequest(request("1", 8));
            store.saveResult("1", { resultCode: 0, output: new Uint8Array([4]), outputHash: "0xo" });
            expect(store.rewind(7)).to.deep.equal(["1"]);
            c.ms = 9_000;
            expect(store.addRequest(request("1", 9, 77))).to.equal(true);
            const r = store.getRequest("1")!;
            expect(r.state).to.equal("pending");
            expect(r.outcome).to.equal(null);
            expect(r.reason).to.equal(null);
            expect(r.resultCode).to.equal(null);
            expect(r.output).to.equal(null);
            expect(r.blockNumber).to.equal(9);
            expect(r.blockHash).to.equal("0xhash9");
            expect(r.notBefore).to.equal(77);
            expect(r.seenAtMs).to.equal(9_000);
        });

        it("addRequest puts a re-included request back in flight when its submission is still pending", function () {
            const store = open(":memory:", IDENTITY, clock().now);
            store.addRequest(request("1", 8));
            store.saveResult("1", { resultCode: 0, output: new Uint8Array([4]), outputHash: "0xo" });
            const txId = store.addTx(
                { nonce: 0, kind: "submit", to: "0xto", data: "0x01", gasLimit: 1n, requestIds: ["1"] },
                { hash: "0xh", raw: "0xraw", maxFeePerGas: 2n, maxPriorityFeePerGas: 1n },
                "submitting",
            );
            expect(store.rewind(7)).to.deep.equal(["1"]);
            // The same announcement (struct and input) in a later block of the new chain.
            expect(store.addRequest({ ...request("1", 9), input: request("1", 8).input })).to.equal(true);
            const r = store.getRequest("1")!;
            expect(r.state).to.equal("submitting");
            expect(r.blockNumber).to.equal(9);
            expect(r.txId).to.equal(txId);
            expect(r.outcome).to.equal(null);
            // The stored result survives: it is what the pending transaction carries.
            expect(r.output).to.deep.equal(new Uint8Array([4]));
        });

        it("addRequest starts over when a request finished on a chain a reorg replaced is announced again differently", function () {
            const c = clock();
            const store = open(":memory:", IDENTITY, c.now);
            store.addRequest(request("1", 8));
            store.finish("1", "served_by_other", "submitted by 0xother");
            // Done requests are not marked reorged: the request stays as it was...
            expect(store.rewind(7)).to.deep.equal([]);
            expect(store.getRequest("1")!.outcome).to.equal("served_by_other");
            // ...until the new chain announces it with another struct (new timestamps) and input: the old chain's
            // struct and input are no use any more (a challenge or a submission built from them would revert).
            const again = {
                ...request("1", 9, 40),
                request: { ...request("1", 9).request, deadline: 120 },
                input: new Uint8Array([5, 6]),
            };
            c.ms = 9_000;
            expect(store.addRequest(again)).to.equal(true);
            const r = store.getRequest("1")!;
            expect(r).to.include({ state: "pending", outcome: null, reason: null, blockNumber: 9, notBefore: 40 });
            expect(r.blockHash).to.equal("0xhash9");
            expect(r.request).to.deep.equal(again.request);
            expect(r.input).to.deep.equal(new Uint8Array([5, 6]));
            expect(r.seenAtMs).to.equal(9_000);

            // The very same announcement seen again (a rescan) leaves a finished request as it is.
            store.finish("1", "served_by_other", "submitted by 0xother");
            expect(store.addRequest(again)).to.equal(false);
            expect(store.getRequest("1")).to.include({ state: "done", outcome: "served_by_other" });
        });

        it("saveResult stores the result of a pending request only", function () {
            const c = clock();
            const store = open(":memory:", IDENTITY, c.now);
            store.addRequest(request("1", 8));
            c.ms = 2_000;
            store.saveResult("1", { resultCode: 2, output: new Uint8Array([5, 6]), outputHash: "0xfirst" });
            let r = store.getRequest("1")!;
            expect(r.state).to.equal("computed");
            expect(r.resultCode).to.equal(2);
            expect(r.output).to.deep.equal(new Uint8Array([5, 6]));
            expect(r.outputHash).to.equal("0xfirst");
            expect(r.updatedAtMs).to.equal(2_000);

            // Not pending any more: a second result is ignored.
            store.saveResult("1", { resultCode: 0, output: new Uint8Array([1]), outputHash: "0xsecond" });
            r = store.getRequest("1")!;
            expect(r.outputHash).to.equal("0xfirst");
            expect(r.resultCode).to.equal(2);

            store.addRequest(request("2", 8));
            store.finish("2", "declined");
            store.saveResult("2", { resultCode: 0, output: new Uint8Array([1]), outputHash: "0xx" });
            expect(store.getRequest("2")!.state).to.equal("done");
            expect(store.getRequest("2")!.outputHash).to.equal(null);
        });

        it("update moves the state and replaces only the fields given", function () {
            const c = clock();
            const store = open(":memory:", IDENTITY, c.now);
            store.addRequest(request("1", 8, 10));
            c.ms = 3_000;
            store.update("1", "submitting", { txId: 4 });
            let r = store.getRequest("1")!;
            expect(r.state).to.equal("submitting");
            expect(r.txId).to.equal(4);
            expect(r.notBefore).to.equal(10);
            expect(r.batchable).to.equal(true);
            expect(r.request).to.deep.equal(request("1", 8).request);
            expect(r.updatedAtMs).to.equal(3_000);

            store.update("1", "computed", {
                request: { requestId: "1", status: 2 },
                notBefore: 99,
                batchable: false,
                reason: "batch reverted",
            });
            r = store.getRequest("1")!;
            expect(r.state).to.equal("computed");
            expect(r.txId).to.equal(4);
            expect(r.request).to.deep.equal({ requestId: "1", status: 2 });
            expect(r.notBefore).to.equal(99);
            expect(r.batchable).to.equal(false);
            expect(r.reason).to.equal("batch reverted");

            store.update("1", "submitted", { txId: null, reason: null });
            r = store.getRequest("1")!;
            expect(r.txId).to.equal(null);
            expect(r.reason).to.equal(null);
            expect(r.batchable).to.equal(false);
        });

        it("update of an unknown request does nothing", function () {
            const store = open(":memory:");
            store.update("nope", "computed");
            expect(store.getRequest("nope")).to.equal(undefined);
            expect(store.countByState().computed).to.equal(0);
        });

        it("finish is final: a second finish does not overwrite the outcome", function () {
            const c = clock();
            const store = open(":memory:", IDENTITY, c.now);
            store.addRequest(request("1", 8));
            store.update("1", "submitting", { txId: 3 });
            c.ms = 4_000;
            store.finish("1", "finalized", "all good");
            let r = store.getRequest("1")!;
            expect(r.state).to.equal("done");
            expect(r.outcome).to.equal("finalized");
            expect(r.reason).to.equal("all good");
            expect(r.txId).to.equal(null);
            expect(r.updatedAtMs).to.equal(4_000);

            c.ms = 5_000;
            store.finish("1", "slashed", "later");
            r = store.getRequest("1")!;
            expect(r.outcome).to.equal("finalized");
            expect(r.reason).to.equal("all good");
            expect(r.updatedAtMs).to.equal(4_000);
            expect(store.outcomes()).to.deep.equal({ finalized: 1 });
        });

        it("requestsIn returns a state's requests by block then id, filtered by readyAt on not_before", function () {
            const store = open(":memory:");
            store.addRequest(request("b", 7, 200));
            store.addRequest(request("c", 5, 0));
            store.addRequest(request("a", 7, 100));
            store.addRequest(request("d", 6, 300));
            store.addRequest(request("e", 1, 0));
            store.finish("e", "expired");

            expect(store.requestsIn("pending").map((r) => r.requestId)).to.deep.equal(["c", "d", "a", "b"]);
            expect(store.requestsIn("pending", { readyAt: 150 }).map((r) => r.requestId)).to.deep.equal(["c", "a"]);
            // not_before is inclusive.
            expect(store.requestsIn("pending", { readyAt: 200 }).map((r) => r.requestId)).to.deep.equal([
                "c",
                "a",
                "b",
            ]);
            expect(store.requestsIn("pending", { limit: 2 }).map((r) => r.requestId)).to.deep.equal(["c", "d"]);
            expect(store.requestsIn("done").map((r) => r.requestId)).to.deep.equal(["e"]);
            expect(store.requestsIn("computed")).to.deep.equal([]);
            expect(store.countByState()).to.deep.equal({
                pending: 4,
                computed: 0,
                submitting: 0,
                submitted: 0,
                finalizing: 0,
                disputed: 0,
                done: 1,
            });
        });
    });

    describe("watched results", function () {
        const OPERATOR = "0x" + "de".repeat(20);

        /** Another operator's result as the tracker records it. */
        function watched(id: string, blockNumber: number) {
            return {
                requestId: id,
                modelId: "0x" + "77".repeat(32),
                blockNumber,
                request: { requestId: id, status: "2", challengeEndsAt: "5000" },
                input: new Uint8Array([1, 2, 3]),
                operator: OPERATOR,
                resultCode: 0,
                outputHash: "0x" + "0a".repeat(32),
            };
        }

        /** A watched result with a challenge transaction (pending) linked to it, in `state`. */
        function challenge(store: Store, id: string, nonce: number, state: "challenging" | "challenged"): number {
            store.addWatched(watched(id, 8));
            return store.transaction(() => {
                const txId = store.addTx(
                    { nonce, kind: "challenge", to: TO, data: "0x01", gasLimit: 1n, requestIds: [id] },
                    attempt(`0xc${nonce}`),
                    null,
                );
                store.updateWatched(id, state, { txId, bondWei: "100" });
                return txId;
            });
        }

        const MINED = { hash: "0xmined", block: 9 };
        /** What happens to a challenge transaction while its result is reorged out, and what the row becomes. */
        const cases: {
            what: string;
            from: "challenging" | "challenged";
            tx: (store: Store, txId: number) => void;
            want: "challenging" | "challenged" | "wrong";
        }[] = [
            { what: "still pending", from: "challenging", tx: () => undefined, want: "challenging" },
            {
                what: "mined",
                from: "challenging",
                tx: (s, id) => s.setTxState(id, "mined", MINED),
                want: "challenged",
            },
            {
                what: "reverted on chain",
                from: "challenging",
                tx: (s, id) => s.setTxState(id, "reverted", MINED),
                want: "wrong",
            },
            { what: "dropped", from: "challenging", tx: (s, id) => s.setTxState(id, "dropped"), want: "wrong" },
            {
                what: "turned into a no-op and mined",
                from: "challenging",
                tx: (s, id) => {
                    s.replaceTxPayload(id, "noop", TO, "0x", 21_000n);
                    s.setTxState(id, "mined", MINED);
                },
                want: "wrong",
            },
            {
                what: "mined, then reorged out with its block (pending again)",
                from: "challenged",
                tx: (s, id) => s.setTxState(id, "pending"),
                want: "challenging",
            },
        ];

        for (const { what, from, tx: happen, want } of cases) {
            it(`addWatched revives a reorged ${from} result as ${want} when its challenge was ${what}`, function () {
                const store = open(":memory:");
                const txId = challenge(store, "1", 0, from);
                if (from === "challenged") store.setTxState(txId, "mined", MINED);
                store.rewind(7);
                expect(store.getWatched("1")).to.include({ state: "done", outcome: "reorged" });
                // Meanwhile the sender records what became of the transaction (its callbacks skip a done row).
                happen(store, txId);
                // The same submission on the new chain.
                expect(store.addWatched(watched("1", 9))).to.equal(true);
                const w = store.getWatched("1")!;
                expect(w).to.include({ state: want, outcome: null, blockNumber: 9 });
                if (want === "wrong") {
                    expect(w).to.include({ txId: null, bondWei: null });
                    expect(store.bondsWei(["challenging", "challenged"])).to.equal(0n);
                } else {
                    expect(w).to.include({ txId, bondWei: "100" });
                }
            });
        }

        it("reconcileChallenges releases challenges whose transaction is no longer what their state says", function () {
            const store = open(":memory:");
            const pending = challenge(store, "pending", 0, "challenging");
            const dropped = challenge(store, "dropped", 1, "challenging");
            const mined = challenge(store, "mined", 2, "challenged");
            const noop = challenge(store, "noop", 3, "challenged");
            const unseen = challenge(store, "unseen", 4, "challenging");
            const resurrected = challenge(store, "resurrected", 5, "challenged");
            store.setTxState(dropped, "dropped");
            store.setTxState(mined, "mined", MINED);
            store.replaceTxPayload(noop, "noop", TO, "0x", 21_000n);
            store.setTxState(noop, "mined", MINED);
            store.setTxState(unseen, "mined", MINED);
            expect(store.bondsWei(["challenging", "challenged"])).to.equal(600n);

            const changes = store.reconcileChallenges();
            expect(changes).to.have.deep.members([
                { requestId: "dropped", txId: dropped, from: "challenging", to: "wrong" },
                { requestId: "noop", txId: noop, from: "challenged", to: "wrong" },
                { requestId: "unseen", txId: unseen, from: "challenging", to: "challenged" },
                { requestId: "resurrected", txId: resurrected, from: "challenged", to: "challenging" },
            ]);
            expect(store.getWatched("pending")).to.include({ state: "challenging", txId: pending, bondWei: "100" });
            expect(store.getWatched("mined")).to.include({ state: "challenged", txId: mined, bondWei: "100" });
            expect(store.getWatched("dropped")).to.include({ state: "wrong", txId: null, bondWei: null });
            expect(store.getWatched("noop")).to.include({ state: "wrong", txId: null, bondWei: null });
            expect(store.bondsWei(["challenging", "challenged"])).to.equal(400n);
            expect(store.reconcileChallenges()).to.deep.equal([]);
        });

        it("reconcileChallenges and addWatched follow a commitment's transaction too, keeping the salt", function () {
            const store = open(":memory:");
            const salt = "0x" + "5a".repeat(32);
            /** A watched result with a commitment transaction linked to it, in `state`. */
            const committing = (id: string, nonce: number, state: "committing" | "committed"): number => {
                store.addWatched(watched(id, 8));
                return store.transaction(() => {
                    const txId = store.addTx(
                        { nonce, kind: "commit_challenge", to: TO, data: "0x02", gasLimit: 1n, requestIds: [id] },
                        attempt(`0xd${nonce}`),
                        null,
                    );
                    store.updateWatched(id, state, { txId, bondWei: "100", salt });
                    return txId;
                });
            };
            const pending = committing("pending", 0, "committing");
            const mined = committing("mined", 1, "committing");
            const dropped = committing("dropped", 2, "committing");
            const reverted = committing("reverted", 3, "committing");
            const resurrected = committing("resurrected", 4, "committed");
            store.addWatched(watched("onChain", 8));
            store.updateWatched("onChain", "committed", { bondWei: "100", salt }); // found on chain, no transaction
            store.setTxState(mined, "mined", MINED);
            store.setTxState(dropped, "dropped");
            store.setTxState(reverted, "reverted", MINED);
            expect(store.bondsWei(["committing", "committed"])).to.equal(600n);

            expect(store.reconcileChallenges()).to.have.deep.members([
                { requestId: "mined", txId: mined, from: "committing", to: "committed" },
                { requestId: "dropped", txId: dropped, from: "committing", to: "wrong" },
                { requestId: "reverted", txId: reverted, from: "committing", to: "wrong" },
                { requestId: "resurrected", txId: resurrected, from: "committed", to: "committing" },
            ]);
            expect(store.getWatched("pending")).to.include({ state: "committing", txId: pending, bondWei: "100" });
            expect(store.getWatched("mined")).to.include({ state: "committed", txId: mined, bondWei: "100" });
            expect(store.getWatched("onChain")).to.include({ state: "committed", txId: null, bondWei: "100" });
            for (const id of ["dropped", "reverted"]) {
                expect(store.getWatched(id)).to.include({ state: "wrong", txId: null, bondWei: null, salt });
            }
            expect(store.bondsWei(["committing", "committed"])).to.equal(400n);

            // A reorg takes the submission away and brings it back: the row takes its commitment's state by then.
            store.rewind(7);
            store.setTxState(pending, "mined", MINED);
            expect(store.addWatched(watched("pending", 9))).to.equal(true);
            expect(store.getWatched("pending")).to.include({ state: "committed", txId: pending, salt });
        });

        it("reopenWatched takes up a result closed as window_closed again, with the new struct; other outcomes stay", function () {
            const store = open(":memory:");
            store.addWatched(watched("1", 8));
            store.updateWatched("1", "wrong", { expectedCode: 0, expectedHash: "0x" + "0b".repeat(32) });
            store.postponeWatched("1", "wrong", 50, "refused");
            store.finishWatched("1", "window_closed", "too late");
            const restarted = { requestId: "1", status: "2", challengeEndsAt: "9000" };
            expect(store.reopenWatched("1", restarted)).to.equal(true);
            const w = store.getWatched("1")!;
            expect(w).to.include({ state: "unchecked", outcome: null, reason: null, attempts: 0, notBefore: 0 });
            expect(w).to.include({ expectedCode: null, expectedHash: null, txId: null, bondWei: null });
            expect(w.request).to.deep.equal(restarted);
            // Open rows, and rows done for another reason, are left alone.
            expect(store.reopenWatched("1", watched("1", 8).request)).to.equal(false);
            store.finishWatched("1", "lost");
            expect(store.reopenWatched("1", restarted)).to.equal(false);
            expect(store.getWatched("1")).to.include({ state: "done", outcome: "lost" });
        });
    });

    describe("transactions", function () {
        it("addTx stores the transaction and its first attempt, and links the requests to it", function () {
            const c = clock(6_000);
            const store = open(":memory:", IDENTITY, c.now);
            store.addRequest(request("1", 8));
            store.addRequest(request("2", 8));
            store.addRequest(request("3", 8));
            const txId = store.transaction(() =>
                store.addTx({ ...tx(4, ["1", "2"]), kind: "submit_batch" }, attempt("0xfeed", 30n, 2n), "submitting"),
            );
            expect(store.getTx(txId)).to.deep.equal({
                id: txId,
                nonce: 4,
                kind: "submit_batch",
                to: TO,
                data: "0xabcdef",
                gasLimit: 123_456n,
                state: "pending",
                requestIds: ["1", "2"],
                createdAtMs: 6_000,
                minedHash: null,
                minedBlock: null,
            });
            expect(store.attempts(txId)).to.deep.equal([
                {
                    txId,
                    hash: "0xfeed",
                    raw: "0xraw-0xfeed",
                    maxFeePerGas: 30n,
                    maxPriorityFeePerGas: 2n,
                    sentAtMs: 6_000,
                },
            ]);
            for (const id of ["1", "2"]) {
                expect(store.getRequest(id)!.state).to.equal("submitting");
                expect(store.getRequest(id)!.txId).to.equal(txId);
            }
            expect(store.getRequest("3")!.state).to.equal("pending");
            expect(store.getRequest("3")!.txId).to.equal(null);
            expect(store.getTx(txId + 1)).to.equal(undefined);
        });

        it("addTx with a null request state leaves the requests alone", function () {
            const store = open(":memory:");
            store.addRequest(request("1", 8));
            store.addTx(tx(0, ["1"]), attempt("0x1"), null);
            expect(store.getRequest("1")!.state).to.equal("pending");
            expect(store.getRequest("1")!.txId).to.equal(null);
        });

        it("addTx inside a transaction that fails keeps neither the transaction, its attempt, nor the request links", function () {
            const store = open(":memory:");
            store.addRequest(request("1", 8));
            store.saveResult("1", { resultCode: 0, output: new Uint8Array([1]), outputHash: "0xo" });
            expect(() =>
                store.transaction(() => {
                    store.addTx(tx(0, ["1"]), attempt("0x1"), "submitting");
                    throw new Error("crash after addTx");
                }),
            ).to.throw("crash after addTx");
            expect(store.pendingTxs()).to.deep.equal([]);
            expect(store.getTx(1)).to.equal(undefined);
            expect(store.attempts(1)).to.deep.equal([]);
            expect(store.nextStoredNonce()).to.equal(0);
            expect(store.getRequest("1")!.state).to.equal("computed");
            expect(store.getRequest("1")!.txId).to.equal(null);
        });

        it("nextStoredNonce is one past the highest nonce not dropped", function () {
            const store = open(":memory:");
            expect(store.nextStoredNonce()).to.equal(0);
            const first = store.addTx(tx(0), attempt("0x0"), null);
            const second = store.addTx(tx(1), attempt("0x1"), null);
            const third = store.addTx(tx(2), attempt("0x2"), null);
            expect(store.nextStoredNonce()).to.equal(3);
            store.setTxState(first, "mined", { hash: "0x0", block: 9 });
            expect(store.nextStoredNonce()).to.equal(3);
            store.setTxState(third, "dropped");
            expect(store.nextStoredNonce()).to.equal(2);
            store.setTxState(second, "reverted", { hash: "0x1", block: 10 });
            expect(store.nextStoredNonce()).to.equal(2);
        });

        it("pendingTxs lists pending transactions by nonce; setTxState records where one was mined", function () {
            const store = open(":memory:");
            const late = store.addTx(tx(7), attempt("0x7"), null);
            const early = store.addTx(tx(3), attempt("0x3"), null);
            const mined = store.addTx(tx(5), attempt("0x5"), null);
            store.setTxState(mined, "mined", { hash: "0x5", block: 42 });
            expect(store.pendingTxs().map((t) => t.id)).to.deep.equal([early, late]);
            expect(store.getTx(mined)).to.include({ state: "mined", minedHash: "0x5", minedBlock: 42 });
        });

        it("minedTxsFrom lists mined and reverted transactions from a nonce on, by nonce", function () {
            const store = open(":memory:");
            const ids = [0, 1, 2, 3, 4].map((n) => store.addTx(tx(n), attempt(`0x${n}`), null));
            store.setTxState(ids[4]!, "mined", { hash: "0x4", block: 14 });
            store.setTxState(ids[0]!, "mined", { hash: "0x0", block: 10 });
            store.setTxState(ids[2]!, "reverted", { hash: "0x2", block: 12 });
            store.setTxState(ids[3]!, "dropped");
            expect(store.minedTxsFrom(1).map((t) => t.nonce)).to.deep.equal([2, 4]);
            expect(store.minedTxsFrom(0).map((t) => t.nonce)).to.deep.equal([0, 2, 4]);
            expect(store.minedTxsFrom(5)).to.deep.equal([]);
        });

        it("attempts are listed newest first (by sent time, then insertion); touchAttempt makes one the newest", function () {
            const c = clock();
            const store = open(":memory:", IDENTITY, c.now);
            const txId = store.addTx(tx(0), attempt("0xa"), null); // sent at 1000
            store.addAttempt({ ...attempt("0xc"), txId, sentAtMs: 3_000 });
            store.addAttempt({ ...attempt("0xb"), txId, sentAtMs: 2_000 });
            store.addAttempt({ ...attempt("0xd"), txId, sentAtMs: 3_000 });
            expect(store.attempts(txId).map((a) => a.hash)).to.deep.equal(["0xd", "0xc", "0xb", "0xa"]);

            // The same hash again is ignored (a re-signed identical transaction).
            store.addAttempt({ ...attempt("0xb", 999n), txId, sentAtMs: 9_000 });
            expect(store.attempts(txId).find((a) => a.hash === "0xb")!.maxFeePerGas).to.equal(20n);

            c.ms = 4_000;
            store.touchAttempt("0xa");
            expect(store.attempts(txId).map((a) => a.hash)).to.deep.equal(["0xa", "0xd", "0xc", "0xb"]);
            expect(store.attempts(txId)[0]!.sentAtMs).to.equal(4_000);

            const other = store.addTx(tx(1), attempt("0xz"), null);
            expect(store.attempts(other).map((a) => a.hash)).to.deep.equal(["0xz"]);
        });

        it("replaceTxPayload turns a transaction into another payload at the same nonce, with no requests", function () {
            const store = open(":memory:");
            store.addRequest(request("1", 8));
            const txId = store.addTx(tx(6, ["1"]), attempt("0x6"), "submitting");
            store.replaceTxPayload(txId, "noop", IDENTITY.operator, "0x", 21_000n);
            const t = store.getTx(txId)!;
            expect(t).to.include({ nonce: 6, kind: "noop", to: IDENTITY.operator, data: "0x", state: "pending" });
            expect(t.gasLimit).to.equal(21_000n);
            expect(t.requestIds).to.deep.equal([]);
            expect(store.attempts(txId).map((a) => a.hash)).to.deep.equal(["0x6"]);
        });
    });

    describe("persistence", function () {
        it("keeps requests, transactions, attempts, blocks and meta across close and reopen", function () {
            const path = join(dir, "node.sqlite");
            const store = open(path);
            store.addRequest(request("1", 8, 5));
            store.saveResult("1", { resultCode: 1, output: new Uint8Array([8, 9]), outputHash: "0xo" });
            const txId = store.transaction(() => store.addTx(tx(3, ["1"]), attempt("0xabc", 50n, 5n), "submitting"));
            store.transaction(() => store.advance(8, "0xh8", 10));
            store.setMeta("custom", "value");
            const request1 = store.getRequest("1");
            const tx1 = store.getTx(txId);
            const attempts1 = store.attempts(txId);
            store.close();

            const again = open(path);
            expect(again.getRequest("1")).to.deep.equal(request1);
            expect(again.getTx(txId)).to.deep.equal(tx1);
            expect(again.attempts(txId)).to.deep.equal(attempts1);
            expect(again.nextStoredNonce()).to.equal(4);
            expect(again.checkpoint()).to.equal(8);
            expect(again.recordedBlocks()).to.deep.equal([{ number: 8, hash: "0xh8" }]);
            expect(again.getMeta("custom")).to.equal("value");
        });

        it("keeps nothing of a transaction that throws midway, and everything committed before it", function () {
            const path = join(dir, "node.sqlite");
            const store = open(path);
            store.transaction(() => {
                store.addRequest(request("kept", 4));
                store.advance(4, "0xh4", 10);
            });
            expect(() =>
                store.transaction(() => {
                    store.addRequest(request("lost", 6));
                    store.update("kept", "computed");
                    store.addTx(tx(0, ["kept"]), attempt("0xlost"), "submitting");
                    store.advance(6, "0xh6", 10);
                    store.setMeta("lost", "yes");
                    throw new Error("crash midway");
                }),
            ).to.throw("crash midway");
            store.close();

            const again = open(path);
            expect(again.getRequest("lost")).to.equal(undefined);
            expect(again.getRequest("kept")!.state).to.equal("pending");
            expect(again.getRequest("kept")!.txId).to.equal(null);
            expect(again.pendingTxs()).to.deep.equal([]);
            expect(again.nextStoredNonce()).to.equal(0);
            expect(again.checkpoint()).to.equal(4);
            expect(again.recordedBlocks()).to.deep.equal([{ number: 4, hash: "0xh4" }]);
            expect(again.getMeta("lost")).to.equal(undefined);
        });

        it("close is idempotent", function () {
            const store = open(":memory:");
            store.close();
            expect(() => store.close()).to.not.throw();
        });
    });
});
