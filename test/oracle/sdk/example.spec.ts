import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import type { Signer } from "ethers";
import { runOffchainConsumer } from "../../../examples/offchain-consumer";
import { announcedRequests } from "../../../oracle/src/chain/requestEvents";
import { deployVerifiable } from "../../helpers/verifiable";
import { assignedSigner, INPUT, MODEL_WINDOW, TOKEN } from "../../helpers/verity";
import { DType, decodeTensors } from "../../../oracle/src/sdk";

describe("examples/offchain-consumer", function () {
    it("requests, waits and returns the finalized result while an operator serves it", async function () {
        const d = await loadFixture(deployVerifiable);
        const user = d.others[0] as Signer;
        await d.token.mint(await user.getAddress(), TOKEN);
        const lines: string[] = [];
        const running = runOffchainConsumer({
            signer: user,
            coordinator: await d.coordinator.getAddress(),
            modelId: d.modelId,
            input: [{ dtype: DType.INT8, shape: [1, 4], data: [12n, -7n, 100n, -128n] }],
            pollIntervalMs: 10,
            timeoutMs: 20_000,
            log: (line) => lines.push(line),
        });
        // The operator side: wait for the request, serve it, let the window pass, finalize.
        let request;
        while (request === undefined) {
            const logs = await ethers.provider.getLogs({ address: await d.coordinator.getAddress(), fromBlock: 0 });
            request = announcedRequests(logs)[0]?.request;
            if (request === undefined) await new Promise((r) => setTimeout(r, 10));
        }
        const { output } = d.canonical(INPUT);
        const operator = await assignedSigner(d, request);
        const receipt = await (
            await d.coordinator.connect(operator).submitResult(request, 0, output, ethers.ZeroHash)
        ).wait();
        const submitted = {
            ...request,
            status: 2n,
            operator: await operator.getAddress(),
            resultCode: 0n,
            outputHash: ethers.keccak256(output),
            challengeEndsAt: BigInt((await ethers.provider.getBlock(receipt!.blockNumber))!.timestamp + MODEL_WINDOW),
        };
        await time.increase(MODEL_WINDOW + 1);
        await d.coordinator.finalize(submitted, output);

        const result = await running;
        expect(result.status).to.equal("finalized");
        expect(result.tensors).to.deep.equal(decodeTensors(output));
        expect(lines.some((l) => l.startsWith("settled: finalized"))).to.equal(true);
    });
});
