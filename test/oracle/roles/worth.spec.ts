/**
 * The worth check's arithmetic (oracle/src/roles/worth.ts): exact prices, costs rounded against the node, the
 * protocol's share left out of revenue, the gas price a transaction would pay (capped), read once per cache period.
 * The operator role's use of it is in operator.spec.ts.
 */
import { expect } from "chai";
import type { BlockHeader, ChainClient } from "../../../oracle/src/chain/rpc";
import type { Config } from "../../../oracle/src/config/schema";
import {
    assessWorth,
    createWorthCheck,
    GAS_PRICE_CACHE_MS,
    parseDecimal,
    type Economics,
} from "../../../oracle/src/roles/worth";

const GWEI = 1_000_000_000n;

const economics = (over: Partial<Economics> = {}): Economics => ({
    tokenWeiPerNativeWei: "3000",
    minMarginBps: 1_000,
    overheadGas: 150_000,
    ...over,
});

/** A chain whose latest block has `baseFee` and whose node suggests `priority`; counts block reads. */
function chainWith(baseFee: bigint, priority: bigint) {
    const reads = { blocks: 0 };
    const chain = {
        getBlock: async (): Promise<BlockHeader> => {
            reads.blocks++;
            return { number: 1, hash: "0x", parentHash: "0x", timestamp: 0, baseFeePerGas: baseFee };
        },
        maxPriorityFeePerGas: async () => priority,
    } as Partial<ChainClient> as ChainClient;
    return { chain, reads };
}

const configWith = (e: Economics | undefined, maxFeePerGasGwei = 500) =>
    ({
        operator: e === undefined ? {} : { economics: e },
        transactions: { stuckAfterMs: 60_000, feeBumpPercent: 20, maxFeePerGasGwei },
    }) as Pick<Config, "operator" | "transactions">;

describe("oracle/roles/worth", function () {
    it("reads prices as exact fractions", function () {
        expect(parseDecimal("3000")).to.deep.equal({ numerator: 3000n, denominator: 1n });
        expect(parseDecimal("0.000000003")).to.deep.equal({ numerator: 3n, denominator: 10n ** 9n });
        expect(parseDecimal("12.50")).to.deep.equal({ numerator: 1250n, denominator: 100n });
        expect(() => parseDecimal("1e-9")).to.throw("not a decimal number: 1e-9");
    });

    it("prices overhead + callback gas at the gas price in stake tokens, and asks the margin on top", function () {
        // 250,000 gas × 1 gwei = 2.5e14 native wei; × 3000 = 7.5e17 token wei; + 10% = 8.25e17.
        const a = assessWorth(
            { feeWei: 825n * 10n ** 15n, protocolFeeWei: 0n, callbackGasLimit: 100_000n },
            GWEI,
            economics(),
        );
        expect(a).to.deep.include({
            gas: 250_000n,
            costNativeWei: 250_000n * GWEI,
            costWei: 750n * 10n ** 15n,
            requiredWei: 825n * 10n ** 15n,
            revenueWei: 825n * 10n ** 15n,
            worth: true,
        });
        const short = assessWorth(
            { feeWei: 825n * 10n ** 15n - 1n, protocolFeeWei: 0n, callbackGasLimit: 100_000n },
            GWEI,
            economics(),
        );
        expect(short.worth).to.equal(false);
    });

    it("prices the callback gas the consumer asks for: 2.4M more gas of callback is 2.4M gas more of cost", function () {
        const fee = { feeWei: 10n ** 18n, protocolFeeWei: 0n };
        const small = assessWorth(
            { ...fee, callbackGasLimit: 100_000n },
            GWEI,
            economics({ tokenWeiPerNativeWei: "1" }),
        );
        const big = assessWorth(
            { ...fee, callbackGasLimit: 2_500_000n },
            GWEI,
            economics({ tokenWeiPerNativeWei: "1" }),
        );
        expect(big.costWei - small.costWei).to.equal(2_400_000n * GWEI);
    });

    it("rounds the cost and the margin up, never in the requester's favour", function () {
        // 42,000 gas × 1 wei × 0.000000003 = 0.000126 token wei, rounded up to 1; 1 × 1.0001 rounded up is 2.
        const a = assessWorth(
            { feeWei: 1n, protocolFeeWei: 0n, callbackGasLimit: 0n },
            1n,
            economics({ tokenWeiPerNativeWei: "0.000000003", minMarginBps: 1, overheadGas: 42_000 }),
        );
        expect(a.costWei).to.equal(1n);
        expect(a.requiredWei).to.equal(2n);
        expect(a.worth).to.equal(false);
    });

    it("counts the fee less the protocol's share as revenue", function () {
        const a = assessWorth(
            { feeWei: 1_000n, protocolFeeWei: 100n, callbackGasLimit: 0n },
            0n,
            economics({ minMarginBps: 0 }),
        );
        expect(a.revenueWei).to.equal(900n);
        expect(a.worth).to.equal(true);
    });

    it("is not created without operator.economics", function () {
        expect(createWorthCheck(configWith(undefined), chainWith(0n, 0n).chain)).to.equal(undefined);
    });

    it("uses base fee + priority fee, capped at transactions.maxFeePerGasGwei, read once per cache period", async function () {
        const { chain, reads } = chainWith(9n * GWEI, GWEI);
        let now = 1_000_000;
        const check = createWorthCheck(configWith(economics({ minMarginBps: 0 })), chain, () => now)!;
        const request = { feeWei: 0n, protocolFeeWei: 0n, callbackGasLimit: 0n };
        expect((await check.assess(request)).gasPriceWei).to.equal(10n * GWEI);
        now += GAS_PRICE_CACHE_MS - 1;
        await check.assess(request);
        expect(reads.blocks).to.equal(1);
        now += 1;
        await check.assess(request);
        expect(reads.blocks).to.equal(2);

        const capped = createWorthCheck(configWith(economics(), 5), chainWith(9n * GWEI, GWEI).chain)!;
        expect((await capped.assess(request)).gasPriceWei).to.equal(5n * GWEI);
    });
});
