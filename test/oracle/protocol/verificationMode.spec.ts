import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
    modeName,
    VERIFICATION_MODES,
    VerificationMode,
    VerificationModeBigInt,
} from "../../../oracle/src/protocol/verificationMode";
import { VerificationMode as SdkVerificationMode } from "../../../oracle/src/sdk";
import { MODES } from "../../../oracle/src/commands/model";

/** The members of `enum VerificationMode` in contracts/interfaces/IModelRegistry.sol, in declaration order. */
function solidityModes(): string[] {
    const source = readFileSync(join(__dirname, "../../../contracts/interfaces/IModelRegistry.sol"), "utf8");
    const body = /enum VerificationMode\s*\{([^}]*)\}/.exec(source)?.[1];
    if (body === undefined) throw new Error("IModelRegistry.sol declares no enum VerificationMode");
    return body
        .replace(/\/\/.*$/gm, "")
        .split(",")
        .map((member) => member.trim())
        .filter((member) => member !== "");
}

describe("protocol/verificationMode", function () {
    it("is IModelRegistry.VerificationMode: the same members, numbered in declaration order", function () {
        const members = solidityModes();
        expect(members).to.deep.equal(["REEXECUTION", "BISECTION", "QUORUM"]);
        expect(VerificationMode).to.deep.equal(Object.fromEntries(members.map((name, index) => [name, index])));
    });

    it("derives the bigint table, the CLI's lower-case names and the SDK's export from that one table", function () {
        expect(VerificationModeBigInt).to.deep.equal({ REEXECUTION: 0n, BISECTION: 1n, QUORUM: 2n });
        expect(MODES).to.deep.equal({ reexecution: 0, bisection: 1, quorum: 2 });
        expect(SdkVerificationMode).to.equal(VerificationMode);
        expect(VERIFICATION_MODES).to.deep.equal([
            ["REEXECUTION", 0],
            ["BISECTION", 1],
            ["QUORUM", 2],
        ]);
    });

    it("names a mode by its number or bigint, and a number that is no mode as `mode <n>`", function () {
        expect(modeName(0)).to.equal("REEXECUTION");
        expect(modeName(1n)).to.equal("BISECTION");
        expect(modeName(VerificationModeBigInt.QUORUM)).to.equal("QUORUM");
        expect(modeName(7n)).to.equal("mode 7");
        expect(modeName(3)).to.equal("mode 3");
    });
});
