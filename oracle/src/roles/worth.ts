/**
 * The worth check of the operator role (`operator.economics`): what serving a request costs this node, priced in
 * stake tokens, against what the request pays it.
 *
 * Cost: the gas of submitting and finalizing the result, `overheadGas`, plus the consumer's `callbackGasLimit`
 * (the finalizer must forward all of it, and pays for what the callback burns), at the gas price a transaction
 * sent now would pay (the latest base fee plus the suggested priority fee, capped by
 * `transactions.maxFeePerGasGwei` as the transaction sender caps it), converted to stake-token base units at
 * `tokenWeiPerNativeWei`. Revenue: the request's fee less the protocol's share (`feeWei - protocolFeeWei`), what the
 * coordinator credits the operator at finalization. A request is worth serving when revenue ≥ cost × (1 +
 * `minMarginBps` / 10,000); the margin absorbs a gas price that rises before the finalization, which comes a
 * challenge window later.
 */
import { parseUnits } from "ethers";
import { DEFAULT_PRIORITY_FEE_WEI } from "../chain/txSender";
import type { ChainClient } from "../chain/rpc";
import type { Config } from "../config/schema";

/** How long a gas price read from the chain is reused: one read serves a whole round of admissions. */
export const GAS_PRICE_CACHE_MS = 5_000;

const BPS = 10_000n;

/** The worth check's settings, as validated from `operator.economics`. */
export type Economics = NonNullable<Config["operator"]["economics"]>;

/** An exact positive fraction. */
export interface Ratio {
    numerator: bigint;
    denominator: bigint;
}

/** A validated decimal string ("3000", "0.000000003") as an exact fraction. */
export function parseDecimal(text: string): Ratio {
    const match = /^([0-9]+)(?:\.([0-9]+))?$/.exec(text);
    if (match === null) throw new Error(`not a decimal number: ${text}`);
    const fraction = match[2] ?? "";
    return { numerator: BigInt(`${match[1]}${fraction}`), denominator: 10n ** BigInt(fraction.length) };
}

const ceilDiv = (a: bigint, b: bigint): bigint => (a + b - 1n) / b;

/** What a request pays the operator, what serving it costs, and the verdict. Amounts are wei, decimal-free. */
export interface WorthAssessment {
    /** The request's whole fee (stake-token wei). */
    feeWei: bigint;
    /** The treasury's part of it. */
    protocolFeeWei: bigint;
    /** What the operator is credited: `feeWei - protocolFeeWei`. */
    revenueWei: bigint;
    /** Gas the node spends on it: `overheadGas + callbackGasLimit`. */
    gas: bigint;
    callbackGasLimit: bigint;
    gasPriceWei: bigint;
    /** The gas at `gasPriceWei`, in native wei. */
    costNativeWei: bigint;
    /** The same in stake-token wei (rounded up). */
    costWei: bigint;
    /** The least revenue worth serving for: `costWei × (1 + minMarginBps / 10,000)`, rounded up. */
    requiredWei: bigint;
    minMarginBps: number;
    worth: boolean;
}

/** Judges one request at `gasPriceWei` (pure: the numbers in, the verdict out). */
export function assessWorth(
    request: { feeWei: bigint; protocolFeeWei: bigint; callbackGasLimit: bigint },
    gasPriceWei: bigint,
    economics: Economics,
): WorthAssessment {
    const price = parseDecimal(economics.tokenWeiPerNativeWei);
    const gas = BigInt(economics.overheadGas) + request.callbackGasLimit;
    const costNativeWei = gas * gasPriceWei;
    const costWei = ceilDiv(costNativeWei * price.numerator, price.denominator);
    const requiredWei = ceilDiv(costWei * (BPS + BigInt(economics.minMarginBps)), BPS);
    const revenueWei = request.feeWei - request.protocolFeeWei;
    return {
        feeWei: request.feeWei,
        protocolFeeWei: request.protocolFeeWei,
        revenueWei,
        gas,
        callbackGasLimit: request.callbackGasLimit,
        gasPriceWei,
        costNativeWei,
        costWei,
        requiredWei,
        minMarginBps: economics.minMarginBps,
        worth: revenueWei >= requiredWei,
    };
}

/** The gas price a transaction sent now pays: base fee + suggested priority fee, at most the configured cap. */
export async function currentGasPrice(chain: ChainClient, maxFeePerGasWei: bigint): Promise<bigint> {
    const latest = await chain.getBlock("latest");
    const priority = await chain.maxPriorityFeePerGas(DEFAULT_PRIORITY_FEE_WEI);
    const price = (latest?.baseFeePerGas ?? 0n) + priority;
    return price > maxFeePerGasWei ? maxFeePerGasWei : price;
}

export interface WorthCheck {
    /** The assessment of `request` at the current gas price. */
    assess(request: { feeWei: bigint; protocolFeeWei: bigint; callbackGasLimit: bigint }): Promise<WorthAssessment>;
}

/**
 * The worth check of `config.operator.economics`, or undefined when it is not configured (every request is then
 * served). The gas price is read at most every GAS_PRICE_CACHE_MS.
 */
export function createWorthCheck(
    config: Pick<Config, "operator" | "transactions">,
    chain: ChainClient,
    now: () => number = Date.now,
): WorthCheck | undefined {
    const economics = config.operator.economics;
    if (economics === undefined) return undefined;
    const maxFeePerGasWei = parseUnits(String(config.transactions.maxFeePerGasGwei), "gwei");
    let cached: { atMs: number; gasPriceWei: bigint } | undefined;
    return {
        async assess(request) {
            const at = now();
            if (cached === undefined || at - cached.atMs >= GAS_PRICE_CACHE_MS || at < cached.atMs) {
                cached = { atMs: at, gasPriceWei: await currentGasPrice(chain, maxFeePerGasWei) };
            }
            return assessWorth(request, cached.gasPriceWei, economics);
        },
    };
}
