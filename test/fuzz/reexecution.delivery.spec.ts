/**
 * The promise of REEXECUTION, end to end on chain with the real resolver: whenever one challenger watches a
 * result's window (asks the chain's `isWrongResult` and challenges when it says so), the consumer's callback
 * receives the model's canonical result (the reference interpreter's), whatever the operator submitted: an honest
 * answer, a corrupted output, a wrong result code, an answer to malformed input. Without a watcher, a lie is
 * delivered as submitted: the guarantee is economic, and rests on someone watching (docs/protocol.md).
 */
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import fc from "fast-check";
import { ethers } from "hardhat";

import { DType, encodeTensors } from "../../oracle/src/protocol/tensorCodec";
import { challengeAs, fundBond } from "../helpers/disputes";
import { deployVerifiable } from "../helpers/verifiable";
import { ResultCode, applyEvents, assignedSigner, sendRequest, submit } from "../helpers/verity";

type Lie = "honest" | "corruptOutput" | "wrongCode" | "emptyOutput";

describe("REEXECUTION: a watched result is always delivered correct (fast-check, real resolver)", function () {
    it("delivers the canonical result of every watched request, whatever the operator submits", async function () {
        const d = await loadFixture(deployVerifiable);
        const resolver = d.reexecution!.resolver;
        let watchedLies = 0;
        await fc.assert(
            fc.asyncProperty(
                fc.oneof(
                    {
                        weight: 5,
                        arbitrary: fc.array(fc.integer({ min: -128, max: 127 }), { minLength: 4, maxLength: 4 }),
                    },
                    {
                        weight: 1,
                        arbitrary: fc.array(fc.integer({ min: -128, max: 127 }), { minLength: 5, maxLength: 5 }),
                    },
                ),
                fc.constantFrom<Lie>("honest", "corruptOutput", "wrongCode", "emptyOutput"),
                fc.boolean(),
                fc.nat(),
                async (values, lie, watched, seed) => {
                    // Five values do not fit the model's [1, 4] input: the canonical answer is INVALID_INPUT.
                    const input = encodeTensors([
                        { dtype: DType.INT8, shape: [1, values.length], data: values.map(BigInt) },
                    ]);
                    const canonical = d.canonical(input);
                    let code = canonical.resultCode;
                    let output = canonical.output;
                    if (lie === "corruptOutput") {
                        output = Uint8Array.from(canonical.output.length > 0 ? canonical.output : [0]);
                        output[seed % output.length] = (output[seed % output.length]! + 1 + (seed % 255)) % 256;
                    } else if (lie === "wrongCode") {
                        code = canonical.resultCode === ResultCode.OK ? ResultCode.INVALID_INPUT : ResultCode.OK;
                    } else if (lie === "emptyOutput") {
                        output = new Uint8Array(0);
                        code = ResultCode.OK;
                    }
                    const requested = await sendRequest(d, { input, callbackGasLimit: 500_000 });
                    const operator = await assignedSigner(d, requested);
                    let request = await submit(d, requested, output, { operator, resultCode: code });
                    const wrong = await resolver.isWrongResult(d.modelId, input, code, ethers.keccak256(output));
                    const lied =
                        code !== canonical.resultCode || ethers.hexlify(output) !== ethers.hexlify(canonical.output);
                    expect(wrong, "the chain's check agrees with the reference").to.equal(lied);
                    if (watched && wrong) {
                        watchedLies++;
                        await fundBond(d, d.challenger, BigInt(request.bondWei));
                        ({ request } = await challengeAs(d, d.challenger, request, ethers.hexlify(input)));
                    }
                    // A challenge of a wrong result is decided in its own transaction (the resolver re-executes)
                    // and ends the request; any other result is still open, as last submitted.
                    const open = await d.coordinator.isCommitted(request);
                    expect(open, "open unless a watcher proved it wrong").to.equal(!(watched && wrong));
                    if (open) {
                        await time.increaseTo(Number(request.challengeEndsAt));
                        const tx = await d.coordinator.finalize(request, output);
                        request = applyEvents(request, await tx.wait());
                    }
                    expect(await d.consumer.lastRequestId()).to.equal(BigInt(request.requestId));
                    const delivered = {
                        code: Number(await d.consumer.lastResultCode()),
                        outputHash: await d.consumer.lastOutputHash(),
                    };
                    const want =
                        watched || !lied ? { code: canonical.resultCode, output: canonical.output } : { code, output };
                    expect(delivered).to.deep.equal({ code: want.code, outputHash: ethers.keccak256(want.output) });
                },
            ),
            { numRuns: 30 },
        );
        expect(watchedLies, "the run exercised disputes").to.be.greaterThan(0);
    });
});
