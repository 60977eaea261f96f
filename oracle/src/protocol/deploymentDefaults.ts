/**
 * The deployment parameters and their defaults, by the Ignition module's parameter names: the one list both ways
 * of deploying read. The Ignition module (deploy/modules/Verity.ts) passes each as its `m.getParameter` default;
 * `verity deploy` (DEFAULT_PARAMETERS in oracle/src/commands/deploy.ts) writes the bigints as decimal strings, the
 * form its parameters file and manifest hold. test/deploy/Verity.module.spec.ts pins the two to each other and to
 * what the module deploys.
 *
 * Wei amounts are bigints (they can exceed 2^53), everything else a number; the order is the one `verity deploy`
 * lists them in.
 */
export const DEPLOYMENT_DEFAULTS = {
    minChallengeWindowSeconds: 60,
    maxChallengeWindowSeconds: 86_400,
    minCollateralWei: 10n ** 17n,
    unbondingDelaySeconds: 7 * 86_400,
    disputeTimeoutSeconds: 2 * 86_400,
    exclusiveWindowSeconds: 30,
    minDeadlineSeconds: 120,
    maxDeadlineSeconds: 7 * 86_400,
    maxCallbackGasLimit: 2_500_000,
    maxInputBytes: 65_536,
    /**
     * What a request pays per unit of the callback gas it asks for, in stake-token base units per gas unit, on top
     * of the model's fee: the finalizer (in practice the operator) pays the callback's gas, and this is what covers
     * it. Set it to gas price × the native coin's price in stake tokens:
     * `gasPriceWei × (nativeCoinPrice / stakeTokenPrice) × 10^(stakeTokenDecimals − 18)`, with headroom for the gas
     * price to rise before finalization (e.g. 0.05 gwei, ETH at 3,000 and an 18-decimals token at 1:
     * 0.05e9 × 3,000 = 1.5 × 10^11). The default, 10^9, is that formula at a 1-gwei gas price with a stake token
     * worth one native coin: a non-zero placeholder (callback gas is never free), not a price fit for any
     * particular chain.
     */
    callbackGasFeeWei: 10n ** 9n,
    protocolFeeBps: 0,
    challengerRewardBps: 5_000,
    failedChallengeOperatorBps: 9_000,
    challengeBondBps: 1_000,
    minChallengeBondWei: 10n ** 18n,
    /** EIP-7825's per-transaction gas cap (Ethereum since Osaka): a dispute must fit in one transaction. */
    maxDisputeGas: 16_777_216,
    disputeGasPriceWei: 10n ** 9n,
} as const;

/** A deployment parameter's name (the Ignition module's). */
export type DeploymentParameter = keyof typeof DEPLOYMENT_DEFAULTS;
