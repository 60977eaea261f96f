/**
 * The CLI's input and revert messages say what is wrong and what to do (issue 12): a bad tensor element is named
 * with its value, and a refused request names the numbers and the option or step that fixes it.
 */
import { expect } from "chai";
import { parseTensorsJson, stageLines } from "../../../oracle/src/commands/request";
import type { RequestHistory } from "../../../oracle/src/commands/history";
import { chainError } from "../../../oracle/src/commands/context";
import { InferenceCoordinator__factory } from "../../../typechain-types";

const tensors = (data: unknown[], shape: unknown[] = [1, data.length]) =>
    JSON.stringify([{ dtype: "int32", shape, data }]);

function messageOf(f: () => unknown): string {
    try {
        f();
    } catch (error) {
        return (error as Error).message;
    }
    throw new Error("did not throw");
}

describe("verity request: messages that say what to do", function () {
    it("names the element and value that is not an integer, with the fix", function () {
        expect(messageOf(() => parseTensorsJson(tensors([1, 2.5, 3]), "--tensors"))).to.equal(
            "--tensors: tensor 0 data[1] is 2.5; want an integer (a JSON number or a decimal string); " +
                "the wire takes integers: scale a float input by 10^decimals (docs/tensor-encoding.md)",
        );
        expect(messageOf(() => parseTensorsJson(tensors([1, "x"]), "--tensors"))).to.equal(
            '--tensors: tensor 0 data[1] is "x"; want an integer (a JSON number or a decimal string)',
        );
        expect(messageOf(() => parseTensorsJson(tensors([2 ** 60]), "--tensors"))).to.match(
            /data\[0\] is 1152921504606847000; .*beyond 2\^53 a JSON number is not exact: write it as a decimal string$/,
        );
        expect(messageOf(() => parseTensorsJson(tensors([1, 2], [1, 1.5]), "--tensors"))).to.equal(
            "--tensors: tensor 0 shape[1] is 1.5; want a whole number ≥ 0",
        );
        // Decimal strings carry values beyond 2^53 exactly.
        expect(() =>
            parseTensorsJson(JSON.stringify([{ dtype: "int64", shape: [1], data: ["9007199254740993"] }]), "x"),
        ).to.not.throw();
    });

    it("explains a refused request: the input length, the callback gas, the deadline, an unregistered operator", function () {
        const coordinator = InferenceCoordinator__factory.createInterface();
        const refused = (name: string, args: unknown[]) =>
            chainError({ data: coordinator.encodeErrorResult(name, args) }, "request").message;
        expect(refused("CoordinatorInvalidInputLength", [4_001_074n, 65_536n])).to.equal(
            "request reverted: CoordinatorInvalidInputLength(4001074, 65536): the input is 4001074 bytes; this " +
                "coordinator takes 1 to 65536 (maxInputBytes): the model's manifest gives the shapes its inputs must have",
        );
        expect(refused("CoordinatorCallbackGasTooHigh", [6_000_000n, 2_500_000n])).to.match(/lower --callback-gas$/);
        expect(refused("CoordinatorInvalidDeadline", [10n, 100n, 200n])).to.match(
            /the deadline 10 is outside \[100, 200\] .*: change --deadline$/,
        );
        expect(
            refused("StakingNotRegistered", ["0x0000000000000000000000000000000000000001", "0x" + "ab".repeat(32)]),
        ).to.match(/is not registered for model 0xabab.*`verity operator register-model`/);
    });

    it("request --wait off a terminal: one plain line per stage, the full id first, no countdown", function () {
        const written: string[] = [];
        const pipe = { isTTY: false, write: (chunk: string) => written.push(chunk) };
        const id = "0x" + "12".repeat(32);
        const base: RequestHistory = { requestId: id, status: "requested", settled: false, disputes: [], events: [] };
        const served: RequestHistory = {
            ...base,
            status: "submitted",
            operator: "0x00000000000000000000000000000000000000aa",
            resultCode: 0,
            result: { code: 0, name: "OK", meaning: "the output holds the model's output tensors" },
            challengeEndsAt: 1_800_000_000,
        };
        const note = stageLines(false, pipe)!;
        for (const h of [
            base,
            base,
            served,
            served,
            served,
            { ...served, status: "finalized" as const, settled: true },
        ]) {
            note(h);
        }
        expect(written).to.deep.equal([
            `${id} requested: waiting for an operator to serve it\n`,
            `${id} served by 0x00000000000000000000000000000000000000aa (result code 0 OK): challenge window closes at 2027-01-15T08:00:00.000Z\n`,
            `${id} finalized\n`,
        ]);
        // On a terminal the spinner shows the stages; with --json stdout is the only output.
        expect(stageLines(false, { isTTY: true, write: () => true })).to.equal(undefined);
        expect(stageLines(true, pipe)).to.equal(undefined);
    });
});
