import { expect } from "chai";
import { keccak256 } from "ethers";
import { ethers } from "hardhat";
import { DType, encodeTensors } from "../../../oracle/src/protocol/tensorCodec";
import { integerMlpModel } from "../../../models/examples";
import { compileModel, OPCODES, PROGRAM_VERSION } from "../../../oracle/src/verify/program";
import { graphModel } from "./graphs";

/** A cursor over program bytes (big-endian), to check the encoding field by field. */
class Reader {
    offset = 0;
    constructor(private readonly bytes: Uint8Array) {}
    uint(size: number): number {
        let v = 0;
        for (let i = 0; i < size; i++) v = v * 256 + this.bytes[this.offset++]!;
        return v;
    }
    int(size: number): bigint {
        let v = 0n;
        for (let i = 0; i < size; i++) v = (v << 8n) | BigInt(this.bytes[this.offset++]!);
        return BigInt.asIntN(size * 8, v);
    }
    take(n: number): Uint8Array {
        const out = this.bytes.slice(this.offset, this.offset + n);
        this.offset += n;
        return out;
    }
    dims(): number[] {
        const rank = this.uint(1);
        return Array.from({ length: rank }, () => this.uint(4));
    }
    get done(): boolean {
        return this.offset === this.bytes.length;
    }
}

describe("verify/program (compileModel)", function () {
    it("is deterministic and hashes the program with keccak256", function () {
        const a = compileModel(integerMlpModel({ widths: [8, 6, 3] }).onnx);
        const b = compileModel(integerMlpModel({ widths: [8, 6, 3] }).onnx);
        expect(Buffer.from(a.program).equals(Buffer.from(b.program))).to.equal(true);
        expect(a.programHash).to.equal(keccak256(a.program));
        const other = compileModel(integerMlpModel({ widths: [8, 6, 3], seed: 7 }).onnx);
        expect(other.programHash).to.not.equal(a.programHash);
    });

    it("encodes inputs with their declared range, constants, ops and outputs as the format says", function () {
        // y = MatMulInteger(x, w; b_zero_point per column) + bias; int8 B stored column-major as w + 128.
        const model = graphModel({
            inputs: [{ name: "x", type: "uint8", shape: [1, 3], range: [0, 200] }],
            outputs: [{ name: "y", type: "int32", shape: [1, 2] }],
            initializers: [
                { name: "w", dims: [3, 2], data: Int8Array.from([1, -2, 3, -4, 5, -128]) },
                { name: "az", dims: [], data: Uint8Array.from([7]) },
                { name: "bz", dims: [2], data: Int8Array.from([-1, 2]) },
                { name: "bias", dims: [2], data: Int32Array.from([100, -100]) },
            ],
            nodes: [
                { opType: "MatMulInteger", inputs: ["x", "w", "az", "bz"], outputs: ["mm"] },
                { opType: "Add", inputs: ["mm", "bias"], outputs: ["y"] },
            ],
        });
        const { program } = compileModel(model);
        const r = new Reader(program);
        expect(r.uint(1)).to.equal(PROGRAM_VERSION);
        expect(r.uint(2)).to.equal(4); // x, mm, bias, y
        expect(r.uint(1)).to.equal(1); // one input
        expect([r.uint(1), r.dims(), r.int(8), r.int(8)]).to.deep.equal([2, [1, 3], 0n, 200n]);
        expect(r.uint(2)).to.equal(1); // one constant: the bias (B and zero points are inlined)
        expect([r.uint(2), r.uint(1), r.dims()]).to.deep.equal([2, 6, [2]]);
        expect([r.int(4), r.int(4)]).to.deep.equal([100n, -100n]);
        expect(r.uint(2)).to.equal(2); // two ops
        // MatMulInteger: header, a, k, n, aZero, bSigned, bZeroCount, zero points, weights column by column.
        expect([r.uint(1), r.uint(2), r.uint(1), r.dims()]).to.deep.equal([OPCODES.MatMulInteger, 1, 6, [1, 2]]);
        expect([r.uint(2), r.uint(4), r.uint(4), r.int(2), r.uint(1)]).to.deep.equal([0, 3, 2, 7n, 1]);
        expect([r.uint(2), r.int(2), r.int(2)]).to.deep.equal([2, -1n, 2n]);
        expect([...r.take(6)]).to.deep.equal([1 + 128, 3 + 128, 5 + 128, -2 + 128, -4 + 128, -128 + 128]);
        // Add: mm and the bias [2] both lay out like the output [1, 2] (map kind 0: same index).
        expect([r.uint(1), r.uint(2), r.uint(1), r.dims()]).to.deep.equal([OPCODES.Add, 3, 6, [1, 2]]);
        expect([r.uint(2), r.uint(1), r.uint(2), r.uint(1)]).to.deep.equal([1, 0, 2, 0]);
        expect([r.uint(1), r.uint(2)]).to.deep.equal([1, 3]); // one output: slot 3
        expect(r.done).to.equal(true);
    });

    it("uses explicit strides for a broadcast that is not a trailing block", function () {
        const model = graphModel({
            inputs: [
                { name: "a", type: "int8", shape: [2, 1], range: [-10, 10] },
                { name: "b", type: "int8", shape: [1, 3], range: [-10, 10] },
            ],
            outputs: [{ name: "y", type: "int8", shape: [2, 3] }],
            nodes: [{ opType: "Add", inputs: ["a", "b"], outputs: ["y"] }],
        });
        const r = new Reader(compileModel(model).program);
        r.take(1 + 2 + 1 + 2 * (1 + 1 + 8 + 16)); // header and the two inputs
        expect(r.uint(2)).to.equal(0); // no constants
        expect(r.uint(2)).to.equal(1);
        expect([r.uint(1), r.uint(2), r.uint(1), r.dims()]).to.deep.equal([OPCODES.Add, 2, 3, [2, 3]]);
        // a [2, 1]: stride 1 along dim 0, broadcast (0) along dim 1; b [1, 3] is a trailing block (kind 1, m = 3).
        expect([r.uint(2), r.uint(1), r.uint(4), r.uint(4)]).to.deep.equal([0, 2, 1, 0]);
        expect([r.uint(2), r.uint(1), r.uint(4)]).to.deep.equal([1, 1, 3]);
    });

    it("turns a variadic Max into a chain of binary ops and Flatten into Reshape", function () {
        const model = graphModel({
            inputs: [
                { name: "a", type: "int32", shape: [2, 2] },
                { name: "b", type: "int32", shape: [2] },
                { name: "c", type: "int32", shape: [] },
            ],
            outputs: [{ name: "y", type: "int32", shape: [1, 4] }],
            nodes: [
                { opType: "Max", inputs: ["a", "b", "c"], outputs: ["m"] },
                { opType: "Flatten", inputs: ["m"], outputs: ["y"], attributes: { axis: { int: 0 } } },
            ],
        });
        const { program, analysis } = compileModel(model);
        expect(analysis.opCounts).to.deep.equal({ Max: 1, Flatten: 1 });
        const opcodes: number[] = [];
        const r = new Reader(program);
        r.take(1 + 2);
        r.uint(1);
        for (let i = 0; i < 3; i++) {
            r.uint(1);
            r.dims();
            r.take(16);
        }
        r.uint(2);
        const ops = r.uint(2);
        expect(ops).to.equal(3);
        for (let i = 0; i < ops; i++) {
            const op = r.uint(1);
            opcodes.push(op);
            r.uint(2);
            r.uint(1);
            r.dims();
            if (op === OPCODES.Max) {
                for (let k = 0; k < 2; k++) {
                    r.uint(2);
                    const kind = r.uint(1);
                    if (kind === 1) r.uint(4);
                }
            } else r.uint(2);
        }
        expect(opcodes).to.deep.equal([OPCODES.Max, OPCODES.Max, OPCODES.Reshape]);
        expect([r.uint(1), r.uint(2)]).to.deep.equal([1, 5]);
        expect(r.done).to.equal(true);
    });

    it("writes uint8 constants of 128 and above as unsigned bytes (and the executor reads them back)", async function () {
        const model = graphModel({
            inputs: [{ name: "i", type: "int64", shape: [2], range: [0, 2] }],
            outputs: [{ name: "y", type: "uint8", shape: [2] }],
            initializers: [{ name: "table", dims: [3], data: Uint8Array.from([7, 200, 255]) }],
            nodes: [{ opType: "Gather", inputs: ["table", "i"], outputs: ["y"] }],
        });
        const { program } = compileModel(model);
        const executor = await ethers.deployContract("IntegerExecutor");
        const input = encodeTensors([{ dtype: DType.INT64, shape: [2], data: [2n, 1n] }]);
        const [code, output] = await executor.execute(program, input);
        expect(code).to.equal(0n);
        expect(output).to.equal(
            ethers.hexlify(encodeTensors([{ dtype: DType.UINT8, shape: [2], data: [255n, 200n] }])),
        );
    });
});
