import { expect } from "chai";
import { keccak256 as ethersKeccak256, toUtf8Bytes } from "ethers";
import fc from "fast-check";
import { keccak256 } from "../../../oracle/src/internal/keccak";
import { seededRandom } from "../../../models/examples";

describe("oracle/internal/keccak", function () {
    it("hashes the known vectors", function () {
        expect(keccak256(new Uint8Array(0))).to.equal(
            "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470",
        );
        expect(keccak256(toUtf8Bytes("hello world"))).to.equal(
            "0x47173285a8d7341e5e972fc677286384f802f8ef42a5ec5f03bbfa254cb01fad",
        );
    });

    it("agrees with ethers on every length up to four blocks (136 bytes each), and on views", function () {
        const random = seededRandom(0x6b656363);
        const bytes = Uint8Array.from({ length: 4 * 136 + 2 }, () => Math.floor(random() * 256));
        for (let length = 0; length <= bytes.length; length++) {
            const data = bytes.subarray(0, length);
            expect(keccak256(data), `length ${length}`).to.equal(ethersKeccak256(data));
        }
        const view = bytes.subarray(3, 200); // not at the start of its buffer
        expect(keccak256(view)).to.equal(ethersKeccak256(view));
    });

    it("agrees with ethers on arbitrary bytes", function () {
        fc.assert(
            fc.property(fc.uint8Array({ maxLength: 1_000 }), (data) => keccak256(data) === ethersKeccak256(data)),
            { numRuns: 500 },
        );
    });
});
