import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import { ethers } from "hardhat";

import { DType, DTYPES, encodeTensors, type Tensor } from "../../oracle/src/protocol/tensorCodec";
import type { TensorsHarness } from "../../typechain-types";
import type { Tensors } from "../../typechain-types/contracts/test/TensorsHarness";
import {
    EDGE_VECTORS,
    ELEMENT_AT_CASES,
    EMPTY_LIST_HEX,
    EXAMPLE_HASH,
    EXAMPLE_HEX,
    EXAMPLE_TENSORS,
    MALFORMED_CASES,
    SOLIDITY_ERRORS,
    edgeVectorHex,
} from "../shared/tensorVectors";

const MAX_ELEMENTS = 2n ** 24n;

/** A decoded Solidity tensor as a codec Tensor. */
function toTensor(output: Tensors.TensorStructOutput): Tensor {
    return { dtype: Number(output.dtype), shape: output.shape.map(Number), data: [...output.data] };
}

function scalar(dtype: number, value: bigint): Tensor {
    return { dtype, shape: [], data: [value] };
}

describe("Tensors", function () {
    async function deployHarness(): Promise<{ harness: TensorsHarness }> {
        const harness = await ethers.deployContract("TensorsHarness");
        return { harness };
    }

    describe("constants", function () {
        it("match the version, limits and dtype codes of the TypeScript codec", async function () {
            const { harness } = await loadFixture(deployHarness);
            const [version, maxTensors, maxRank, maxElements, dtypes] = await harness.constants();
            expect([version, maxTensors, maxRank, maxElements]).to.deep.equal([1n, 255n, 8n, MAX_ELEMENTS]);
            expect(dtypes.map(Number)).to.deep.equal([...DTYPES.keys()]);
        });
    });

    describe("encode", function () {
        it("encodes the worked example of docs/tensor-encoding.md byte for byte", async function () {
            const { harness } = await loadFixture(deployHarness);
            expect(await harness.encode([...EXAMPLE_TENSORS])).to.equal(EXAMPLE_HEX);
            expect(await harness.hash([...EXAMPLE_TENSORS])).to.equal(EXAMPLE_HASH);
        });

        it("encodes the empty list as version and a zero count", async function () {
            const { harness } = await loadFixture(deployHarness);
            expect(await harness.encode([])).to.equal(EMPTY_LIST_HEX);
        });

        for (const vector of EDGE_VECTORS) {
            it(`writes ${DType[vector.dtype]} range edges as big-endian two's complement`, async function () {
                const { harness } = await loadFixture(deployHarness);
                const tensor: Tensor = { dtype: vector.dtype, shape: [vector.data.length], data: vector.data };
                expect(await harness.encode([tensor])).to.equal(edgeVectorHex(vector));
            });
        }

        it("encodes a rank-8 tensor and 255 tensors, the largest allowed", async function () {
            const { harness } = await loadFixture(deployHarness);
            const rank8: Tensor = { dtype: DType.INT16, shape: [1, 2, 1, 1, 1, 1, 1, 2], data: [1n, 2n, 3n, -4n] };
            const many = Array.from({ length: 255 }, (_, i) => scalar(DType.UINT8, BigInt(i)));
            for (const list of [[rank8], many]) {
                expect(await harness.encode(list)).to.equal(ethers.hexlify(encodeTensors(list)));
            }
        });

        it("reverts on more than 255 tensors (TensorsTooManyTensors)", async function () {
            const { harness } = await loadFixture(deployHarness);
            const many = Array.from({ length: 256 }, () => scalar(DType.UINT8, 0n));
            await expect(harness.encode(many))
                .to.be.revertedWithCustomError(harness, "TensorsTooManyTensors")
                .withArgs(256, 255);
        });

        it("reverts on an unknown dtype, naming the tensor (TensorsUnknownDtype)", async function () {
            const { harness } = await loadFixture(deployHarness);
            await expect(harness.encode([scalar(DType.INT8, 0n), scalar(1, 0n)]))
                .to.be.revertedWithCustomError(harness, "TensorsUnknownDtype")
                .withArgs(1, 1);
        });

        it("reverts on a rank above 8 (TensorsRankTooLarge)", async function () {
            const { harness } = await loadFixture(deployHarness);
            const tensor: Tensor = { dtype: DType.UINT8, shape: Array<number>(9).fill(1), data: [0n] };
            await expect(harness.encode([tensor]))
                .to.be.revertedWithCustomError(harness, "TensorsRankTooLarge")
                .withArgs(0, 9, 8);
        });

        it("reverts on a zero dim (TensorsZeroDim)", async function () {
            const { harness } = await loadFixture(deployHarness);
            const tensor: Tensor = { dtype: DType.UINT8, shape: [2, 1, 0], data: [] };
            await expect(harness.encode([tensor]))
                .to.be.revertedWithCustomError(harness, "TensorsZeroDim")
                .withArgs(0, 2);
        });

        it("reverts on more than 2^24 elements before looking at the data (TensorsTooManyElements)", async function () {
            const { harness } = await loadFixture(deployHarness);
            const tensor: Tensor = { dtype: DType.UINT8, shape: [4097, 4097], data: [] };
            await expect(harness.encode([tensor]))
                .to.be.revertedWithCustomError(harness, "TensorsTooManyElements")
                .withArgs(0, 4097 * 4097, MAX_ELEMENTS);
        });

        it("reverts on data whose length is not the product of the dims (TensorsShapeMismatch)", async function () {
            const { harness } = await loadFixture(deployHarness);
            const tensor: Tensor = { dtype: DType.INT32, shape: [2, 2], data: [1n, 2n, 3n] };
            await expect(harness.encode([tensor]))
                .to.be.revertedWithCustomError(harness, "TensorsShapeMismatch")
                .withArgs(0, 3, 4);
        });

        for (const info of DTYPES.values()) {
            it(`reverts on ${info.name} elements just outside its range (TensorsValueOutOfRange)`, async function () {
                const { harness } = await loadFixture(deployHarness);
                for (const value of [info.min - 1n, info.max + 1n]) {
                    const tensor: Tensor = { dtype: info.dtype, shape: [2], data: [0n, value] };
                    await expect(harness.encode([scalar(DType.INT8, 0n), tensor]))
                        .to.be.revertedWithCustomError(harness, "TensorsValueOutOfRange")
                        .withArgs(1, 1, value, info.min, info.max);
                }
            });
        }

        it("reverts on the first invalid tensor, checked in list order", async function () {
            const { harness } = await loadFixture(deployHarness);
            const bad = [
                { dtype: DType.INT8, shape: [1], data: [200n] },
                { dtype: 99, shape: [1], data: [0n] },
            ];
            await expect(harness.encode(bad))
                .to.be.revertedWithCustomError(harness, "TensorsValueOutOfRange")
                .withArgs(0, 0, 200, -128, 127);
        });
    });

    describe("decode", function () {
        it("decodes the worked example", async function () {
            const { harness } = await loadFixture(deployHarness);
            expect((await harness.decode(EXAMPLE_HEX)).map(toTensor)).to.deep.equal(EXAMPLE_TENSORS);
        });

        it("decodes the empty list", async function () {
            const { harness } = await loadFixture(deployHarness);
            expect(await harness.decode(EMPTY_LIST_HEX)).to.deep.equal([]);
        });

        for (const vector of EDGE_VECTORS) {
            it(`decodes ${DType[vector.dtype]} range edges, sign-extending signed dtypes`, async function () {
                const { harness } = await loadFixture(deployHarness);
                expect((await harness.decode(edgeVectorHex(vector))).map(toTensor)).to.deep.equal([
                    { dtype: vector.dtype, shape: [vector.data.length], data: vector.data },
                ]);
            });
        }

        it("round-trips a rank-8 tensor and a 64-element bool tensor through encode", async function () {
            const { harness } = await loadFixture(deployHarness);
            const list: Tensor[] = [
                { dtype: DType.INT64, shape: [2, 1, 1, 1, 1, 1, 1, 2], data: [-(2n ** 63n), -1n, 0n, 2n ** 63n - 1n] },
                { dtype: DType.BOOL, shape: [8, 8], data: Array.from({ length: 64 }, (_, i) => BigInt(i % 3 === 0)) },
            ];
            const encoded = await harness.encode(list);
            expect((await harness.decode(encoded)).map(toTensor)).to.deep.equal(list);
        });

        for (const c of MALFORMED_CASES) {
            const error = SOLIDITY_ERRORS[c.code].name;
            it(`reverts on ${c.what} (${error})`, async function () {
                const { harness } = await loadFixture(deployHarness);
                await expect(harness.decode(c.hex))
                    .to.be.revertedWithCustomError(harness, error)
                    .withArgs(...c.args);
            });
        }
    });

    describe("validate", function () {
        it("returns the tensor count of valid input", async function () {
            const { harness } = await loadFixture(deployHarness);
            expect(await harness.validate(EXAMPLE_HEX)).to.equal(3);
            expect(await harness.validate(EMPTY_LIST_HEX)).to.equal(0);
        });

        it("accepts exactly the eight dtype codes of the table, out of all 256 (TensorsUnknownDtype)", async function () {
            const { harness } = await loadFixture(deployHarness);
            for (let code = 0; code < 256; code++) {
                const info = DTYPES.get(code);
                const scalarBytes = ethers.concat(["0x0101", ethers.toBeHex(code, 1), "0x00"]);
                if (info === undefined) {
                    await expect(harness.validate(scalarBytes))
                        .to.be.revertedWithCustomError(harness, "TensorsUnknownDtype")
                        .withArgs(0, code);
                } else {
                    const withData = ethers.concat([scalarBytes, new Uint8Array(info.size)]);
                    expect(await harness.validate(withData), info.name).to.equal(1);
                }
            }
        });

        for (const c of MALFORMED_CASES) {
            const error = SOLIDITY_ERRORS[c.code].name;
            it(`reverts like decode on ${c.what} (${error})`, async function () {
                const { harness } = await loadFixture(deployHarness);
                await expect(harness.validate(c.hex))
                    .to.be.revertedWithCustomError(harness, error)
                    .withArgs(...c.args);
            });
        }
    });

    describe("elementAt", function () {
        for (const c of ELEMENT_AT_CASES) {
            const error = c.error === undefined ? undefined : SOLIDITY_ERRORS[c.error.code].name;
            const name = c.error === undefined ? `returns ${c.value} for ${c.what}` : `reverts on ${c.what} (${error})`;
            it(name, async function () {
                const { harness } = await loadFixture(deployHarness);
                const call = harness.elementAt(c.hex, c.tensorIndex, c.elementIndex);
                if (c.error === undefined || error === undefined) {
                    expect(await call).to.equal(c.value);
                } else {
                    await expect(call)
                        .to.be.revertedWithCustomError(harness, error)
                        .withArgs(...c.error.args);
                }
            });
        }

        it("reads every element of every dtype's edge vector", async function () {
            const { harness } = await loadFixture(deployHarness);
            for (const vector of EDGE_VECTORS) {
                for (const [i, value] of vector.data.entries()) {
                    expect(await harness.elementAt(edgeVectorHex(vector), 0, i)).to.equal(value);
                }
            }
        });

        it("reads from the last of several tensors, including a rank-3 tensor", async function () {
            const { harness } = await loadFixture(deployHarness);
            const list: Tensor[] = [
                { dtype: DType.UINT16, shape: [2, 3, 2], data: Array.from({ length: 12 }, (_, i) => BigInt(i * 1000)) },
                scalar(DType.INT64, -5n),
                { dtype: DType.UINT32, shape: [4], data: [7n, 8n, 9n, 2n ** 32n - 1n] },
            ];
            const encoded = await harness.encode(list);
            expect(await harness.elementAt(encoded, 0, 11)).to.equal(11_000);
            expect(await harness.elementAt(encoded, 1, 0)).to.equal(-5);
            expect(await harness.elementAt(encoded, 2, 3)).to.equal(2n ** 32n - 1n);
        });
    });

    describe("constructors", function () {
        it("builds typed vectors of shape [n]", async function () {
            const { harness } = await loadFixture(deployHarness);
            expect(toTensor(await harness.int8Vector([-128, 0, 127]))).to.deep.equal({
                dtype: DType.INT8,
                shape: [3],
                data: [-128n, 0n, 127n],
            });
            expect(toTensor(await harness.uint8Vector([0, 255]))).to.deep.equal({
                dtype: DType.UINT8,
                shape: [2],
                data: [0n, 255n],
            });
            expect(toTensor(await harness.int32Vector([-(2 ** 31), 2 ** 31 - 1]))).to.deep.equal({
                dtype: DType.INT32,
                shape: [2],
                data: [-(2n ** 31n), 2n ** 31n - 1n],
            });
            expect(toTensor(await harness.int64Vector([-(2n ** 63n)]))).to.deep.equal({
                dtype: DType.INT64,
                shape: [1],
                data: [-(2n ** 63n)],
            });
            expect(toTensor(await harness.boolVector([true, false, true]))).to.deep.equal({
                dtype: DType.BOOL,
                shape: [3],
                data: [1n, 0n, 1n],
            });
            expect(toTensor(await harness.vector(DType.UINT16, [1n, 2n]))).to.deep.equal({
                dtype: DType.UINT16,
                shape: [2],
                data: [1n, 2n],
            });
        });

        it("builds scalars and tensors of any shape", async function () {
            const { harness } = await loadFixture(deployHarness);
            expect(toTensor(await harness.scalar(DType.INT16, -7n))).to.deep.equal(scalar(DType.INT16, -7n));
            expect(toTensor(await harness.fromInt256(DType.UINT8, [1, 2], [3n, 4n]))).to.deep.equal({
                dtype: DType.UINT8,
                shape: [1, 2],
                data: [3n, 4n],
            });
        });

        it("wraps one tensor in a list (single)", async function () {
            const { harness } = await loadFixture(deployHarness);
            const tensor: Tensor = { dtype: DType.INT32, shape: [3], data: [-2n, 0n, 0x12345678n] };
            const list = await harness.single(tensor);
            expect(list.map(toTensor)).to.deep.equal([tensor]);
            expect(await harness.encode(list.map(toTensor))).to.equal("0x0101060100000003fffffffe0000000012345678");
        });

        it("leaves an empty vector to be rejected by encode (TensorsZeroDim)", async function () {
            const { harness } = await loadFixture(deployHarness);
            const empty = toTensor(await harness.int8Vector([]));
            await expect(harness.encode([empty]))
                .to.be.revertedWithCustomError(harness, "TensorsZeroDim")
                .withArgs(0, 0);
        });
    });
});
