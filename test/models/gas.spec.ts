import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ethers } from "hardhat";
import { integerMlpModel, seededRandom, type ExampleModel } from "../../models/examples";
import { DEFAULT_MAX_DISPUTE_GAS, estimateReexecution } from "../../models/toolkit/gas";
import { disputeGasBound } from "../../oracle/src/verify/disputeGas";
import { parseManifest } from "../../oracle/src/protocol/manifest";
import { compileModel } from "../../oracle/src/verify/program";
import { DType, encodeTensors } from "../../oracle/src/protocol/tensorCodec";
import { deployVerifiable } from "../helpers/verifiable";
import { hugeAddProgram } from "../helpers/programs";

const IRIS = join(__dirname, "..", "..", "models", "iris");

function irisModel(): ExampleModel {
    const manifestJson = readFileSync(join(IRIS, "iris.manifest.json"), "utf8");
    return {
        onnx: new Uint8Array(readFileSync(join(IRIS, "iris.onnx"))),
        manifestJson,
        manifest: parseManifest(manifestJson),
    };
}

describe("models/toolkit/gas (estimateReexecution)", function () {
    this.timeout(120_000);
    const cases: [string, () => ExampleModel][] = [
        ["the Iris model", irisModel],
        ["an MLP [64, 64, 10]", () => integerMlpModel({ widths: [64, 64, 10] })],
        ["an MLP [160, 160, 10] in two chunks", () => integerMlpModel({ widths: [160, 160, 10] })],
        ["an MLP [256, 256, 256, 10] in six chunks", () => integerMlpModel({ widths: [256, 256, 256, 10] })],
    ];
    for (const [what, build] of cases) {
        it(`is within 20% of the measured gas of ReexecutionResolver.reexecute for ${what}`, async function () {
            const d = await deployVerifiable(build());
            const estimate = estimateReexecution(d.model.compiled);
            const spec = d.model.compiled.analysis.inputs[0]!;
            const random = seededRandom(11);
            const n = spec.shape.reduce((a, b) => a * b, 1);
            const data = Array.from({ length: n }, () => BigInt(Math.floor(random() * 256) - 128));
            const input = encodeTensors([{ dtype: DType.INT8, shape: [...spec.shape], data }]);
            const resolver = d.reexecution!.resolver;
            // estimateGas covers the whole call: take off the transaction's base cost and its calldata.
            const calldata = resolver.interface.encodeFunctionData("reexecute", [d.modelId, input]);
            const bytes = ethers.getBytes(calldata);
            const calldataGas = bytes.reduce((s, b) => s + (b === 0 ? 4 : 16), 0);
            const measured = Number(await resolver.reexecute.estimateGas(d.modelId, input)) - 21_000 - calldataGas;
            const ratio = estimate.total / measured;
            expect(ratio, `estimate ${estimate.total}, measured ${measured}`).to.be.within(0.8, 1.2);
        });
    }

    it("the Iris README's programHash is the compiled program's", function () {
        const readme = readFileSync(join(IRIS, "README.md"), "utf8");
        const compiled = compileModel(irisModel().onnx);
        expect(readme).to.contain(`\`${compiled.programHash}\``);
        expect(readme).to.contain(`${compiled.program.length} bytes`);
    });

    it("reports the chain's dispute bound, and a model above the default maxDisputeGas as not registrable", function () {
        const small = compileModel(integerMlpModel({ widths: [4, 8, 3] }).onnx);
        const fits = estimateReexecution(small);
        expect(fits.disputeGas).to.equal(disputeGasBound(small.program));
        expect(fits.maxDisputeGas).to.equal(DEFAULT_MAX_DISPUTE_GAS);
        expect(fits.registrable).to.equal(true);
        expect(fits.collateralFloorWei > 0n).to.equal(true);
        // One int32 Add over 4,096 x 4,096 elements: its re-execution's memory alone is far beyond any block.
        const refused = estimateReexecution({ ...small, program: hugeAddProgram() });
        expect(refused.disputeGas > DEFAULT_MAX_DISPUTE_GAS).to.equal(true);
        expect(refused.registrable).to.equal(false);
    });
});
