/**
 * IntegerExecutor.gasBound: the bound a REEXECUTION model's registration relies on ("a dispute always fits").
 * Soundness: for every program here (each ONNX specification example in the subset, random integer MLPs, and
 * broadcasting shapes that make the strided maps do the most work per element), the gas a measured run spends
 * (ExecutorHarness.measure: the executor call, its cold access and its return data) is at most the bound, on
 * inputs at the edges of every range. Usefulness: the bound stays within a small factor of the measured cost of
 * the models Verity ships, so that registration accepts them.
 */
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import fc from "fast-check";
import { ethers } from "hardhat";

import { integerMlpModel } from "../../models/examples";
import { DType, encodeTensors } from "../../oracle/src/protocol/tensorCodec";
import { compileModel } from "../../oracle/src/verify/program";
import type { ExecutorHarness, IntegerExecutor } from "../../typechain-types";
import { ONNX_SPEC_CASES, specCaseInput, specCaseModel } from "../shared/onnxSpecExamples";
import { graphModel } from "../oracle/verify/graphs";
import { hostileCases } from "../helpers/programs";

async function deployExecutor(): Promise<{ executor: IntegerExecutor; harness: ExecutorHarness }> {
    const executor = await ethers.deployContract("IntegerExecutor");
    const harness = await ethers.deployContract("ExecutorHarness");
    return { executor, harness };
}

/** Measured gas of one run, and the bound, for `program` on `input`. */
async function measured(
    d: { executor: IntegerExecutor; harness: ExecutorHarness },
    program: Uint8Array,
    input: Uint8Array,
): Promise<{ used: bigint; bound: bigint; code: bigint }> {
    const [used, code, output] = await d.harness.measure(await d.executor.getAddress(), program, input, {
        gasLimit: 29_000_000,
    });
    const [bound, outputBytes] = await d.executor.gasBound(program);
    // The output length the bound states is the one a successful run returns.
    if (code === 0n) expect(ethers.getBytes(output).length).to.equal(Number(outputBytes));
    return { used, bound, code };
}

function int8Input(k: number, value: (i: number) => number): Uint8Array {
    return encodeTensors([
        { dtype: DType.INT8, shape: [1, k], data: Array.from({ length: k }, (_, i) => BigInt(value(i))) },
    ]);
}

describe("IntegerExecutor: gasBound", function () {
    it("reverts like execute on a malformed program (ExecutorUnsupportedVersion, ExecutorTooManyElements)", async function () {
        const { executor } = await loadFixture(deployExecutor);
        await expect(executor.gasBound("0x02")).to.be.revertedWithCustomError(executor, "ExecutorUnsupportedVersion");
        // One int32 input of 2^25 elements: more than a tensor may have.
        // One int32 input of 4,096 x 8,192 = 2^25 elements: more than a tensor may have.
        const huge = Uint8Array.from([
            1,
            0,
            1,
            1,
            DType.INT32,
            2,
            0,
            0,
            0x10,
            0,
            0,
            0,
            0x20,
            0,
            ...new Array(16).fill(0),
        ]);
        await expect(executor.gasBound(huge)).to.be.revertedWithCustomError(executor, "ExecutorTooManyElements");
    });

    it("bounds every ONNX specification example in the subset", async function () {
        const d = await loadFixture(deployExecutor);
        for (const c of ONNX_SPEC_CASES.filter((x) => x.outsideSubset === undefined)) {
            const { program } = compileModel(specCaseModel(c));
            const { used, bound } = await measured(d, program, specCaseInput(c));
            expect(used, `${c.op}: ${c.name}`).to.be.lessThanOrEqual(bound);
        }
    });

    it("bounds broadcasting that walks rank-4 strided maps with size-1 dims (the most work per element)", async function () {
        const d = await loadFixture(deployExecutor);
        const bShape = [1, 5, 1, 6];
        const bData = Array.from({ length: 30 }, (_, i) => i + 1);
        for (const opType of ["Add", "Mul", "Div", "Max"]) {
            // Div's divisor must be a constant: b is an initializer there, a second input elsewhere.
            const constantB = opType === "Div";
            const model = graphModel({
                inputs: [
                    { name: "a", type: "int32", shape: [3, 1, 4, 1], range: [-1000, 1000] },
                    ...(constantB
                        ? []
                        : [{ name: "b", type: "int32" as const, shape: bShape, range: [1, 1000] as [number, number] }]),
                ],
                outputs: [{ name: "y", type: "int32", shape: [3, 5, 4, 6] }],
                nodes: [{ opType, inputs: ["a", "b"], outputs: ["y"] }],
                initializers: constantB ? [{ name: "b", dims: bShape, data: Int32Array.from(bData) }] : [],
            });
            const { program } = compileModel(model);
            const a = {
                dtype: DType.INT32,
                shape: [3, 1, 4, 1],
                data: Array.from({ length: 12 }, (_, i) => BigInt(i * 7 - 40)),
            };
            const b = { dtype: DType.INT32, shape: bShape, data: bData.map(BigInt) };
            const input = encodeTensors(constantB ? [a] : [a, b]);
            const { used, bound, code } = await measured(d, program, input);
            expect(code, opType).to.equal(0n);
            expect(used, opType).to.be.lessThanOrEqual(bound);
        }
    });

    it("bounds random integer MLPs on inputs at the edges of int8 (fast-check)", async function () {
        const d = await loadFixture(deployExecutor);
        await fc.assert(
            fc.asyncProperty(
                fc.array(fc.integer({ min: 1, max: 96 }), { minLength: 2, maxLength: 4 }),
                fc.integer({ min: 1, max: 3 }),
                fc.integer(),
                fc.constantFrom(-128, 127, 0, 1),
                async (widths, batch, seed, edge) => {
                    const example = integerMlpModel({ widths, batch, seed });
                    const { program } = compileModel(example.onnx);
                    const k = widths[0]!;
                    const input = encodeTensors([
                        {
                            dtype: DType.INT8,
                            shape: [batch, k],
                            data: Array.from({ length: batch * k }, (_, i) => BigInt(i % 2 === 0 ? edge : -1 - edge)),
                        },
                    ]);
                    const { used, bound } = await measured(d, program, input);
                    expect(used, `widths ${widths.join(",")} batch ${batch}`).to.be.lessThanOrEqual(bound);
                },
            ),
            { numRuns: 40 },
        );
    });

    it("bounds hand-built programs on each op's most expensive path, in total and per element", async function () {
        // What a hostile publisher could store: k = 1 MatMulInteger rows, rank-8 strided maps that carry through
        // seven dims of 1 at every element, Clip hitting both bounds, ArgMax over a dim of 1, single-element
        // Gathers, thousands of tiny ops. The per-element check compares the growth from 1,000 to 3,000
        // elements, which no fixed cost of the bound can hide.
        const d = await loadFixture(deployExecutor);
        const small = hostileCases(1_000);
        const large = hostileCases(3_000);
        for (let i = 0; i < large.length; i++) {
            const a = await measured(d, small[i]!.program, small[i]!.input);
            const b = await measured(d, large[i]!.program, large[i]!.input);
            expect(b.code, large[i]!.name).to.equal(0n);
            expect(b.used, large[i]!.name).to.be.lessThanOrEqual(b.bound);
            expect(b.used - a.used, `${large[i]!.name}: growth`).to.be.lessThanOrEqual(b.bound - a.bound);
        }
    });

    it("bounds a run that stops early (INVALID_INPUT) below a full one", async function () {
        const d = await loadFixture(deployExecutor);
        const { program } = compileModel(integerMlpModel({ widths: [16, 32, 4] }).onnx);
        const short = await measured(
            d,
            program,
            int8Input(15, () => 1),
        );
        expect(short.code).to.equal(1n);
        expect(short.used).to.be.lessThanOrEqual(short.bound);
    });

    it("stays within 3x of the measured cost of a shipped-size MLP, so that registration accepts it", async function () {
        const d = await loadFixture(deployExecutor);
        const { program } = compileModel(integerMlpModel({ widths: [64, 64, 10] }).onnx);
        const { used, bound } = await measured(
            d,
            program,
            int8Input(64, (i) => (i % 2 === 0 ? 127 : -128)),
        );
        expect(bound).to.be.greaterThanOrEqual(used);
        expect(bound).to.be.lessThanOrEqual(3n * used);
    });
});
