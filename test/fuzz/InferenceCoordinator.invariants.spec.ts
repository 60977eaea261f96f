import { expect } from "chai";
import { ethers } from "hardhat";
import fc from "fast-check";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import type {
    AddressLike,
    BaseContract,
    BytesLike,
    ContractTransactionReceipt,
    ContractTransactionResponse,
    Signer,
    TypedDataDomain,
} from "ethers";
import type { IInferenceCoordinator } from "../../typechain-types/contracts/InferenceCoordinator";
import {
    ATTESTATION_TYPES,
    DEFAULT_PARAMS,
    DISPUTE_GAS_PRICE_WEI,
    MAX_DISPUTE_GAS,
    Mode,
    NO_FEE_LIMIT,
    DISPUTE_TIMEOUT,
    INPUT,
    MODEL_COLLATERAL,
    MODEL_FEE,
    MODEL_WINDOW,
    OUTPUT,
    Status,
    TOKEN,
    UNBONDING_DELAY,
    WRONG_OUTPUT,
    applyEvents,
    deployCore,
    deployCoordinator,
    fund,
    registerModel,
    requestsFrom,
    storeProgram,
    type Request,
} from "../helpers/verity";
import { expectedBond } from "../helpers/disputes";
import { challengeCommitment } from "../../oracle/src/chain/coordinator";
import { integerMlpModel } from "../../models/examples";
import { DType, encodeTensors } from "../../oracle/src/protocol/tensorCodec";
import { loadVerifiableModel, runVerifiable } from "../../oracle/src/verify/execute";

/*
 * Model-based property test of the coordinator and staking economics.
 *
 * fast-check generates a sequence of actions over every state-changing entry point of the coordinator and staking
 * except renounceOwnership and the role-gated staking hooks (lock, unlock, slash: the coordinator's own calls,
 * reached through the actions): stake, unbond, withdraw unbonded, register / unregister / evict for a model
 * (operator-set changes, which move the rotation's picks for later requests, never an existing request's window: its
 * assignee is fixed when it is made), deposit, consumer / account withdraw, request (with no fee limit, the quoted
 * fee, or the fee quoted before the model's last fee change), submit, submitAttestedResults (EIP-712 attestations
 * relayed by a stranger, in batches), challenge, decide, finalize, finalizeBatch, cancel, expireDispute,
 * proveEquivocation, proveFraud, replays of settled requests, time jumps, and the owner's and the publisher's entry
 * points, each sent by the account allowed to and by others: setParams, setTreasury (a new treasury, the zero
 * address), setResolver (on the coordinator, where every mode has its resolver; on the court, where BISECTION and
 * QUORUM have none until a run sets them, once), transferOwnership / acceptOwnership (Ownable2Step, among four
 * accounts, a hand-over to the zero address cancelling one pending) and ModelRegistry.setModelFee (of the requested
 * models, the proof-only ones, the inactive one and an unknown id). The actors are 3 operators, 2 consumers (one
 * stores results, one reverts or burns its callback gas), 2 challengers, a stranger (relayer, reporter, and an
 * attester without stake), the treasury, a second treasury account, the owner (the deployer, or whom it handed the
 * coordinator over to: the depositor, the stranger or the second treasury) and the models' publisher. Requests go to
 * two REEXECUTION models resolved by TestResolver; proofs also name a QUORUM model, a deactivated model, an unknown
 * id and a fraud model whose program is a real compiled integer MLP. Fraud proofs need a REEXECUTION resolver that
 * re-executes (TestResolver cannot), so they go to a second coordinator, the "court", built on the same registry and
 * staking with the real ReexecutionResolver and SLASHER_ROLE: its slashes hit the same stakes the run tracks.
 * Actions pick actors and requests by index from the model state and may be invalid on purpose (wrong status, stale
 * or forged struct, too early / too late, wrong operator, no free stake, forged or malleable signature, wrong
 * signer, not an equivocation, not a fraud, proof already used, ...). A TypeScript model predicts, for every action,
 * either its exact effects (balances, stakes, operator sets, request structs, disputes, emitted coordinator and
 * court events) or the exact custom error it reverts with; after a revert nothing observable may have changed.
 *
 * Invariants checked after every step (`checkInvariants`):
 * - token.balanceOf(coordinator) == sum of coordinator balances + fees of live requests + bonds of open disputes;
 *   token.balanceOf(court) == sum of court balances; token.balanceOf(staking) == sum over operators of stakedWei +
 *   unbondingWei == everything ever staked - withdrawn - slashed (by verdicts and by proofs).
 * - lockedWei of each operator == collateral of its live Submitted/Disputed requests, and lockedWei <= stakedWei
 *   (proofs slash free, then unbonding stake, never locked collateral).
 * - Each model's operator set (getOperators, in order) == the model's, so the rotation's pick is predicted exactly.
 * - Proofs: each (operator, model, input[, request for QUORUM]) is slashed at most once per coordinator; every proof
 *   of a key already slashed (by equivocation or fraud) reverts with CoordinatorEquivocationAlreadyProven, checked
 *   again by eth_call right after each successful proof.
 * - isCommitted(model struct) for every live request (the exact struct, every field, is what is committed);
 *   false for a settled request's last struct (its commitment ended); getDispute matches.
 * - At most one terminal event per request (ResultFinalized, RequestCancelled, DisputeResolved(atFault),
 *   DisputeExpired); once settled, finalize / cancel / challenge / expire / submit / decide with every struct version
 *   ever committed revert with CoordinatorUnknownRequest (`checkSettledIsDead`, plus the `replay` action, in which a
 *   relayed attestation of a settled request is skipped with BatchItemSkipped).
 * - Callbacks: exactly one delivery per finalized / slashed / expired request, none otherwise; the Store consumer's
 *   `callbacks` counter equals the number of its settled-and-delivered requests, the failing consumer's stays 0.
 * - Balances, stakes, nonces, callbackFailed and the Store consumer's last result agree with the model.
 * - Parameters: the owner's changes (setParams, within bounds) apply to later requests only (each live request's
 *   struct keeps the fee, protocol fee, exclusive window and bond it fixed, checked through its commitment); the
 *   dispute terms fixed at deployment never change, and attempts to change them or leave the bounds revert.
 * - Owner and publisher: owner(), pendingOwner(), treasury() and each mode's resolver (on both coordinators) are the
 *   model's; only the current owner's calls pass (the previous owner's and the pending owner's revert with
 *   OwnableUnauthorizedAccount), a resolver is never replaced. Each model's fee, in the registry and in the
 *   coordinator's copy (quoteFee), is the model's. These are read at the start and after each owner or publisher
 *   action (nothing else writes them). Protocol fees and the treasury's shares of slashes and lost bonds are
 *   credited to the treasury of the moment they are paid (the balance checks after every step fail if any goes to
 *   an earlier one, whose balance stays where it was); a fee change prices later requests only (their structs and
 *   escrow are checked), and only the publisher's applies.
 *
 * Every predicted transaction is mined at a timestamp the test sets (time.setNextBlockTimestamp) with a fixed gas
 * limit, so boundary times (deadline, window end, dispute expiry, unbonding) are exact and reverting transactions
 * are mined too.
 *
 * Environment: FUZZ_RUNS (default 25), FUZZ_MAX_ACTIONS (default 100), FUZZ_SEED and FUZZ_PATH (replay a failure
 * printed by fast-check), FUZZ_NO_SHRINK=1 (report the first failure unshrunk), FUZZ_TRACE=1 (print every run's
 * steps), FUZZ_STATS=1 (print outcome counts per action).
 */

const FUZZ_RUNS = Number.parseInt(process.env.FUZZ_RUNS ?? "25", 10);
const MAX_ACTIONS = Number.parseInt(process.env.FUZZ_MAX_ACTIONS ?? "100", 10);
const FUZZ_SEED = process.env.FUZZ_SEED === undefined ? undefined : Number.parseInt(process.env.FUZZ_SEED, 10);
const FUZZ_PATH = process.env.FUZZ_PATH;

/** Every predicted transaction gets this gas limit: enough for a batch of 2.5M-gas callbacks. */
const TX = { gasLimit: 16_000_000 };

const BPS = 10_000n;
const EXCLUSIVE_WINDOW = BigInt(DEFAULT_PARAMS.exclusiveWindowSeconds);
const MIN_DEADLINE = BigInt(DEFAULT_PARAMS.minDeadlineSeconds);
const MAX_DEADLINE = BigInt(DEFAULT_PARAMS.maxDeadlineSeconds);
const MAX_CALLBACK_GAS = BigInt(DEFAULT_PARAMS.maxCallbackGasLimit);
const MAX_INPUT_BYTES = BigInt(DEFAULT_PARAMS.maxInputBytes);
const CALLBACK_GAS_FEE = BigInt(DEFAULT_PARAMS.callbackGasFeeWei);
const PROTOCOL_FEE_BPS = BigInt(DEFAULT_PARAMS.protocolFeeBps);
const CHALLENGER_REWARD_BPS = BigInt(DEFAULT_PARAMS.challengerRewardBps);
const FAILED_CHALLENGE_OPERATOR_BPS = BigInt(DEFAULT_PARAMS.failedChallengeOperatorBps);
const CHALLENGE_BOND_BPS = BigInt(DEFAULT_PARAMS.challengeBondBps);
const MIN_CHALLENGE_BOND = BigInt(DEFAULT_PARAMS.minChallengeBondWei);
const MAX_DISPUTE_ROUNDS = 3n;

const RESERVED_FROM = 128n;
const VOIDED = 255n;

/** Two REEXECUTION models with different fee, collateral and window. */
const MODELS = [
    { salt: "fuzz-model-a", feeWei: MODEL_FEE, collateralWei: MODEL_COLLATERAL, windowSeconds: MODEL_WINDOW },
    { salt: "fuzz-model-b", feeWei: TOKEN / 20n, collateralWei: 25n * TOKEN, windowSeconds: 1_800 },
] as const;
const INITIAL_STAKE = 40n * TOKEN;
const INITIAL_DEPOSIT = (3n * TOKEN) / 10n;
const CHALLENGER_TOKENS = 1_000n * TOKEN;
/** The correct output a resolver delivers with `deliverResult`. */
const VERDICT_OUTPUT = OUTPUT;
const EVIDENCE = ethers.toUtf8Bytes("fuzz evidence");
/** The salt of every challenge commitment (a commitment is per request and challenger; a used one is deleted). */
const SALT = ethers.id("fuzz challenge salt");
/** secp256k1 group order: a malleable signature replaces s with n - s. */
const SECP256K1_N = BigInt("0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141");

/**
 * Models that only proofs and operator-set changes name (never requested): the fraud model, REEXECUTION with a real
 * compiled integer MLP (input int8 [1, 4]) as program; a QUORUM model (an equivocation must be two answers to one
 * request); a REEXECUTION model deactivated after the first operator registered for it; and an id never registered.
 */
const FRAUD_MODEL = { salt: "fuzz-model-fraud", collateralWei: 6n * TOKEN };
const QUORUM_MODEL = { salt: "fuzz-model-quorum", collateralWei: 3n * TOKEN };
const INACTIVE_MODEL = { salt: "fuzz-model-inactive", collateralWei: 2n * TOKEN };
const UNKNOWN_MODEL = ethers.id("fuzz-model-unknown");
/** Inputs that attestations answer: two the MLP takes and one of the wrong shape (its answer is INVALID_INPUT). */
const PROOF_INPUTS = [
    INPUT,
    encodeTensors([{ dtype: DType.INT8, shape: [1, 4], data: [1n, -2n, 3n, -4n] }]),
    encodeTensors([{ dtype: DType.INT8, shape: [1, 5], data: [1n, 2n, 3n, 4n, 5n] }]),
];
const PROOF_INPUT_HASHES = PROOF_INPUTS.map((input) => ethers.keccak256(input).toLowerCase());
/** Answers (result code, output) an equivocating operator signs. */
const ANSWERS = [
    { code: 0, output: OUTPUT },
    { code: 0, output: WRONG_OUTPUT },
    { code: 1, output: new Uint8Array(0) },
    { code: 2, output: OUTPUT },
];
/** Request ids that equivocation attestations carry: 0 (an off-chain answer) or some request's. */
const ATTESTED_IDS = [0n, 1n, 2n];

// ---------------------------------------------------------------------------------------------------------------
// Fixture
// ---------------------------------------------------------------------------------------------------------------

/** deployCore + two models, three staked operators (op3 serves model A only), two funded consumers, two challengers. */
async function deployFuzzFixture() {
    const core = await deployCore();
    const [depositor, stranger, challenger2, treasury2] = core.others;
    if (depositor === undefined || stranger === undefined || challenger2 === undefined || treasury2 === undefined) {
        throw new Error("signers");
    }
    const stakingAddress = await core.staking.getAddress();
    const coordinatorAddress = await core.coordinator.getAddress();
    const modelIds: string[] = [];
    for (const m of MODELS) {
        modelIds.push(
            await registerModel(core.registry, core.publisher, {
                salt: ethers.id(m.salt),
                feeWei: m.feeWei,
                collateralWei: m.collateralWei,
                windowSeconds: m.windowSeconds,
            }),
        );
    }
    for (const [i, op] of core.operators.entries()) {
        await core.token.mint(await op.getAddress(), INITIAL_STAKE);
        await core.token.connect(op).approve(stakingAddress, INITIAL_STAKE);
        await core.staking.connect(op).stake(INITIAL_STAKE);
        await core.staking.connect(op).registerForModel(modelIds[0]!);
        if (i < 2) await core.staking.connect(op).registerForModel(modelIds[1]!);
    }
    // Proof-only models (see FRAUD_MODEL). The first operator registers for the inactive one before it is
    // deactivated, so that unregistering from an inactive model is reachable.
    const example = integerMlpModel({ widths: [4, 8, 3] });
    const mlp = loadVerifiableModel(example.onnx);
    const fraudModelId = await registerModel(core.registry, core.publisher, {
        salt: ethers.id(FRAUD_MODEL.salt),
        onnxHash: ethers.keccak256(example.onnx),
        programHash: await storeProgram(core.programStore, mlp.compiled.program),
        collateralWei: FRAUD_MODEL.collateralWei,
    });
    const quorumModelId = await registerModel(core.registry, core.publisher, {
        salt: ethers.id(QUORUM_MODEL.salt),
        mode: Mode.QUORUM,
        collateralWei: QUORUM_MODEL.collateralWei,
    });
    const inactiveModelId = await registerModel(core.registry, core.publisher, {
        salt: ethers.id(INACTIVE_MODEL.salt),
        collateralWei: INACTIVE_MODEL.collateralWei,
    });
    await core.staking.connect(core.operators[0]!).registerForModel(inactiveModelId);
    await core.registry.connect(core.publisher).deactivateModel(inactiveModelId);
    // The court: a second coordinator on the same registry and staking, whose REEXECUTION resolver is the real
    // re-executing one, allowed to slash the same stakes.
    const court = await deployCoordinator([
        await core.registry.getAddress(),
        stakingAddress,
        DISPUTE_TIMEOUT,
        await core.admin.getAddress(),
        await core.treasury.getAddress(),
        DEFAULT_PARAMS,
    ]);
    await core.staking.grantRole(await core.staking.SLASHER_ROLE(), await court.getAddress());
    const executor = await ethers.deployContract("IntegerExecutor");
    const reexecution = await ethers.deployContract("ReexecutionResolver", [
        await court.getAddress(),
        await core.registry.getAddress(),
        await core.programStore.getAddress(),
        await executor.getAddress(),
        MAX_DISPUTE_GAS,
        DISPUTE_GAS_PRICE_WEI,
    ]);
    await court.setResolver(Mode.REEXECUTION, await reexecution.getAddress());
    /** The MLP's canonical answer to each proof input (the reference interpreter's, which the chain's agrees with). */
    const canonical = PROOF_INPUTS.map((input) => {
        const r = runVerifiable(mlp, input);
        return { code: r.resultCode, output: r.output };
    });

    const badConsumer = await ethers.deployContract("TestConsumer", [coordinatorAddress]);
    const consumers = [core.consumer, badConsumer];
    for (const c of consumers) await fund(core, await c.getAddress(), INITIAL_DEPOSIT);
    const challengers = [core.challenger, challenger2];
    for (const ch of challengers) {
        await core.token.mint(await ch.getAddress(), CHALLENGER_TOKENS);
        await core.token.connect(ch).approve(coordinatorAddress, ethers.MaxUint256);
    }
    /** Models whose operator set the run tracks: the two requested ones, then the inactive one. */
    const setModelIds = [...modelIds, inactiveModelId];
    const operatorSets: string[][] = [];
    for (const id of setModelIds) operatorSets.push([...(await core.staking.getOperators(id))]);
    return {
        ...core,
        modelIds,
        consumers,
        challengers,
        depositor,
        stranger,
        treasury2,
        setModelIds,
        operatorSets,
        fraudModelId,
        quorumModelId,
        court,
        courtReexecution: await reexecution.getAddress(),
        canonical,
    };
}

type Fixture = Awaited<ReturnType<typeof deployFuzzFixture>>;

// ---------------------------------------------------------------------------------------------------------------
// Actions
// ---------------------------------------------------------------------------------------------------------------

/** Which struct is sent for a request: the committed one, an older one, or one with a field forged. */
interface Version {
    kind: "current" | "stale" | "forged";
    n: number;
}
/** A request picked by index among those in the status the action wants (or among all requests when `any`). */
interface Sel {
    i: number;
    any: boolean;
}
interface VerdictChoice {
    atFault: boolean;
    conclusive: boolean;
    deliver: boolean;
    code: number;
}

/**
 * Who signs a relayed result (see relaySigner): the assigned operator, another operator, the stranger (no stake, not
 * registered), the assigned operator over another attestation (the contract recovers an unrelated address) or a
 * malleable (high-s) copy of the assigned operator's signature.
 */
type AttestedSigner = "assigned" | "other" | "stranger" | "forged" | "malleable";
/**
 * How a proof is spoiled, if at all. `reuse` proves again a key already slashed on that coordinator (by either kind
 * of proof); the others break one requirement: another signer, model or input for the second answer, the same answer
 * twice (another trace commitment), a signature over another attestation, a malleable signature; for fraud, an
 * on-chain request id, an input that does not hash to the attested one, a QUORUM model.
 */
type EquivocationTamper =
    "none" | "reuse" | "otherSigner" | "otherModel" | "otherInput" | "sameAnswer" | "forged" | "malleable";
type FraudTamper = "none" | "reuse" | "onchain" | "inputMismatch" | "quorumModel" | "forged" | "malleable";

type Action =
    | { kind: "stake"; op: number; amount: bigint }
    | { kind: "register"; op: number; model: number; pickFree: boolean }
    | { kind: "unregister"; op: number; model: number; pickMember: boolean; evict: boolean }
    | { kind: "unbond"; op: number; permille: number }
    | { kind: "withdrawUnbonded"; op: number; wait: number | null }
    | { kind: "deposit"; consumer: number; amount: bigint }
    | { kind: "consumerWithdraw"; consumer: number; permille: number }
    | { kind: "withdraw"; holder: number; permille: number }
    | {
          kind: "request";
          consumer: number;
          model: number;
          deadlineIn: number;
          gas: number;
          preferred: number;
          emptyInput: boolean;
          /** The maxFeeWei sent: no limit, quoteFee's answer, or the fee before the model's last fee change. */
          maxFee: "none" | "quoted" | "stale";
      }
    | {
          kind: "submit";
          sel: Sel;
          version: Version;
          other: number | null;
          wrong: boolean;
          code: number;
          wait: number | null;
          waitRef: "exclusive" | "deadline";
      }
    | {
          kind: "challenge";
          sel: Sel;
          version: Version;
          challenger: number;
          decideNow: boolean;
          verdict: VerdictChoice;
          wait: number | null;
      }
    | {
          kind: "submitAttested";
          items: { sel: Sel; version: Version; signer: AttestedSigner; other: number; wrong: boolean; code: number }[];
          wait: number | null;
      }
    | {
          kind: "proveEquivocation";
          court: boolean;
          signer: number;
          model: number;
          input: number;
          answers: [number, number];
          /** Indexes into ATTESTED_IDS; null: the second answer carries the first one's request id. */
          ids: [number, number | null];
          tamper: EquivocationTamper;
          reporter: number;
      }
    | {
          kind: "proveFraud";
          signer: number;
          input: number;
          claim: "canonical" | "wrongOutput" | "wrongCode";
          tamper: FraudTamper;
          reporter: number;
      }
    | { kind: "decide"; sel: Sel; version: Version; verdict: VerdictChoice; direct: boolean }
    | { kind: "finalize"; sel: Sel; version: Version; wrongBytes: boolean; wait: number | null }
    | { kind: "finalizeBatch"; items: { sel: Sel; version: Version; wrongBytes: boolean }[]; wait: boolean }
    | { kind: "cancel"; sel: Sel; version: Version; viaConsumer: boolean; wait: number | null }
    | { kind: "expire"; sel: Sel; version: Version; wait: number | null }
    | { kind: "replay"; i: number; version: number; op: number }
    | { kind: "setParams"; change: ParamsChange; by: By }
    | { kind: "setTreasury"; to: number | "zero"; by: By }
    | { kind: "setResolver"; court: boolean; mode: number; resolver: "test" | "stranger" | "zero"; by: By }
    | { kind: "transferOwnership"; to: number | "zero"; by: By }
    | { kind: "acceptOwnership"; by: "pending" | number }
    | { kind: "setModelFee"; model: number; feeWei: bigint; by: "publisher" | number }
    | { kind: "advance"; seconds: number };

/**
 * Who sends an owner-gated call: the coordinator's owner of the moment, or an account of env.admins by index (the
 * deployer, the depositor, the stranger, the second treasury: maybe the owner, the previous or the pending owner).
 */
type By = "owner" | number;

/** An owner's parameter change: new values within the bounds, a field fixed at deployment, or one out of bounds. */
type ParamsChange =
    | {
          kind: "valid";
          exclusiveWindow: number;
          minDeadline: number;
          maxCallbackGas: number;
          callbackGasFee: bigint;
          protocolFeeBps: number;
          challengeBondBps: number;
      }
    | { kind: "fixed"; field: "challengerRewardBps" | "failedChallengeOperatorBps" | "minChallengeBondWei" }
    | { kind: "outOfBounds"; field: "challengeBondBps" | "protocolFeeBps" };

/** fc.record with plain objects (readable counterexamples). */
function rec<T extends object>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> {
    return fc.record(model).map((value) => ({ ...value }) as T);
}

function weighted<T>(...items: [number, fc.Arbitrary<T>][]): fc.Arbitrary<T> {
    return fc.oneof(...items.map(([weight, arbitrary]) => ({ weight, arbitrary })));
}

/** A proof's tamper: mostly none, sometimes a reused key, else one of `broken` (each breaks one requirement). */
function tamperArb<T extends string>(...broken: Exclude<T, "none" | "reuse">[]): fc.Arbitrary<T> {
    return weighted<T>([8, fc.constant("none" as T)], [2, fc.constant("reuse" as T)], [3, fc.constantFrom(...broken)]);
}

const selArb: fc.Arbitrary<Sel> = rec({
    i: fc.nat(),
    any: weighted([8, fc.constant(false)], [1, fc.constant(true)]),
});
const versionArb: fc.Arbitrary<Version> = rec({
    kind: weighted<Version["kind"]>(
        [12, fc.constant("current")],
        [1, fc.constant("stale")],
        [1, fc.constant("forged")],
    ),
    n: fc.nat(),
});
const verdictArb: fc.Arbitrary<VerdictChoice> = rec({
    atFault: fc.boolean(),
    conclusive: fc.boolean(),
    deliver: fc.boolean(),
    code: weighted([8, fc.constant(0)], [2, fc.constantFrom(1, 2)], [1, fc.constant(200)]),
});
/** Offset from the action's reference time (deadline, window end, ...), or no wait. */
const waitArb = weighted<number | null>([1, fc.constant(null)], [1, fc.integer({ min: -2, max: 2 })]);
/** Share of a balance in per mille; 0 means zero, 1001 means one wei more than the balance. */
const permilleArb = weighted([1, fc.constant(0)], [6, fc.integer({ min: 1, max: 1000 })], [1, fc.constant(1001)]);

/** Relative frequency of each action kind, tuned so that most runs see disputes decided both ways and expiries. */
const ACTION_WEIGHTS: Record<Action["kind"], number> = {
    stake: 1,
    register: 1,
    unregister: 1,
    unbond: 1,
    withdrawUnbonded: 1,
    deposit: 1,
    consumerWithdraw: 1,
    withdraw: 1,
    request: 9,
    submit: 8,
    submitAttested: 3,
    challenge: 5,
    decide: 3,
    finalize: 3,
    finalizeBatch: 2,
    cancel: 2,
    expire: 2,
    replay: 1,
    proveEquivocation: 2,
    proveFraud: 1,
    setParams: 1,
    setTreasury: 1,
    setResolver: 1,
    // A hand-over takes both, and only later owner calls show who is authorised then: at 1 each, most runs ended
    // under the deployer (of 100 runs, 15 hand-overs; no setParams by a new owner).
    transferOwnership: 2,
    acceptOwnership: 2,
    setModelFee: 1,
    advance: 4,
};

/** The actions after which observations read the settings (see Env.observeSettings). */
const SETTINGS_KINDS = new Set<Action["kind"]>([
    "setTreasury",
    "setResolver",
    "transferOwnership",
    "acceptOwnership",
    "setModelFee",
]);

/** Index into the models whose operator set is tracked (requested A and B, the inactive one) or the unknown id. */
const setModelArb = weighted([8, fc.integer({ min: 0, max: 1 })], [1, fc.constant(2)], [1, fc.constant(3)]);
/** Mostly the owner; else any of env.admins (the owner a quarter of the time). */
const byArb = weighted<By>([6, fc.constant("owner")], [1, fc.nat()]);

const actionArb: fc.Arbitrary<Action> = weighted<Action>(
    [
        ACTION_WEIGHTS.stake,
        rec({
            kind: fc.constant("stake" as const),
            op: fc.nat(),
            amount: weighted([1, fc.constant(0n)], [5, fc.bigInt({ min: 1n, max: 50n * TOKEN })]),
        }),
    ],
    [
        ACTION_WEIGHTS.register,
        rec({
            kind: fc.constant("register" as const),
            op: fc.nat(),
            model: setModelArb,
            pickFree: weighted([3, fc.constant(true)], [1, fc.constant(false)]),
        }),
    ],
    [
        ACTION_WEIGHTS.unregister,
        rec({
            kind: fc.constant("unregister" as const),
            op: fc.nat(),
            model: setModelArb,
            pickMember: weighted([3, fc.constant(true)], [1, fc.constant(false)]),
            // Staking.evict by the stranger instead of the operator's own unregisterFromModel.
            evict: weighted([1, fc.constant(false)], [1, fc.constant(true)]),
        }),
    ],
    [ACTION_WEIGHTS.unbond, rec({ kind: fc.constant("unbond" as const), op: fc.nat(), permille: permilleArb })],
    [
        ACTION_WEIGHTS.withdrawUnbonded,
        rec({
            kind: fc.constant("withdrawUnbonded" as const),
            op: fc.nat(),
            wait: weighted<number | null>([3, fc.constant(null)], [1, fc.integer({ min: -1, max: 1 })]),
        }),
    ],
    [
        ACTION_WEIGHTS.deposit,
        rec({
            kind: fc.constant("deposit" as const),
            consumer: fc.nat(),
            amount: weighted([1, fc.constant(0n)], [5, fc.bigInt({ min: 1n, max: TOKEN })]),
        }),
    ],
    [
        ACTION_WEIGHTS.consumerWithdraw,
        rec({ kind: fc.constant("consumerWithdraw" as const), consumer: fc.nat(), permille: permilleArb }),
    ],
    [ACTION_WEIGHTS.withdraw, rec({ kind: fc.constant("withdraw" as const), holder: fc.nat(), permille: permilleArb })],
    [
        ACTION_WEIGHTS.setParams,
        rec({
            kind: fc.constant("setParams" as const),
            by: byArb,
            change: weighted<ParamsChange>(
                [
                    6,
                    rec({
                        kind: fc.constant("valid" as const),
                        exclusiveWindow: fc.integer({ min: 0, max: 40 }),
                        minDeadline: fc.integer({ min: 41, max: 200 }),
                        maxCallbackGas: fc.integer({ min: 300_000, max: Number(MAX_CALLBACK_GAS) }),
                        callbackGasFee: fc.bigInt({ min: 0n, max: 2n * CALLBACK_GAS_FEE }),
                        protocolFeeBps: fc.integer({ min: 0, max: 1_000 }),
                        challengeBondBps: fc.integer({ min: 0, max: 10_000 }),
                    }),
                ],
                [
                    1,
                    rec({
                        kind: fc.constant("fixed" as const),
                        field: fc.constantFrom(
                            "challengerRewardBps" as const,
                            "failedChallengeOperatorBps" as const,
                            "minChallengeBondWei" as const,
                        ),
                    }),
                ],
                [
                    1,
                    rec({
                        kind: fc.constant("outOfBounds" as const),
                        field: fc.constantFrom("challengeBondBps" as const, "protocolFeeBps" as const),
                    }),
                ],
            ),
        }),
    ],
    [
        ACTION_WEIGHTS.setTreasury,
        rec({
            kind: fc.constant("setTreasury" as const),
            // Index into env.treasuries: the first treasury, the second, a challenger, an operator, a consumer.
            to: weighted<number | "zero">([6, fc.nat()], [1, fc.constant("zero" as const)]),
            by: byArb,
        }),
    ],
    [
        ACTION_WEIGHTS.setResolver,
        rec({
            kind: fc.constant("setResolver" as const),
            court: fc.boolean(),
            mode: fc.integer({ min: Mode.REEXECUTION, max: Mode.QUORUM }),
            resolver: weighted(
                [3, fc.constantFrom("test" as const, "stranger" as const)],
                [1, fc.constant("zero" as const)],
            ),
            by: byArb,
        }),
    ],
    [
        ACTION_WEIGHTS.transferOwnership,
        rec({
            kind: fc.constant("transferOwnership" as const),
            // Index into env.admins (the owner itself included), or the zero address: cancels a pending hand-over.
            to: weighted<number | "zero">([6, fc.nat()], [1, fc.constant("zero" as const)]),
            by: byArb,
        }),
    ],
    [
        ACTION_WEIGHTS.acceptOwnership,
        rec({
            kind: fc.constant("acceptOwnership" as const),
            by: weighted<"pending" | number>([3, fc.constant("pending" as const)], [1, fc.nat()]),
        }),
    ],
    [
        ACTION_WEIGHTS.setModelFee,
        rec({
            kind: fc.constant("setModelFee" as const),
            // Index into env.proofModels: A, B, the fraud model, QUORUM, inactive, unknown.
            model: weighted([6, fc.constantFrom(0, 1)], [2, fc.constantFrom(2, 3)], [1, fc.constantFrom(4, 5)]),
            feeWei: weighted(
                [12, fc.bigInt({ min: 1n, max: TOKEN / 20n })],
                [1, fc.constant(0n)],
                // The largest fee: a request's fee no longer fits uint96 (FeeAboveMax) unless its callback gas is free.
                [1, fc.constant(NO_FEE_LIMIT)],
            ),
            // The publisher; else any of env.admins (the coordinator's owner cannot change a publisher's fee).
            by: weighted<"publisher" | number>([5, fc.constant("publisher" as const)], [1, fc.nat()]),
        }),
    ],
    [
        ACTION_WEIGHTS.request,
        rec({
            kind: fc.constant("request" as const),
            consumer: fc.nat(),
            model: fc.nat(),
            deadlineIn: weighted(
                [2, fc.integer({ min: Number(MIN_DEADLINE), max: 300 })],
                [12, fc.integer({ min: 300, max: 7_200 })],
                [4, fc.integer({ min: 7_200, max: Number(MAX_DEADLINE) })],
                [1, fc.constantFrom(0, Number(MIN_DEADLINE) - 1, Number(MAX_DEADLINE) + 1)],
            ),
            gas: weighted(
                [16, fc.integer({ min: 200_000, max: 600_000 })],
                [4, fc.integer({ min: 200_000, max: Number(MAX_CALLBACK_GAS) })],
                [1, fc.constant(Number(MAX_CALLBACK_GAS) + 1)],
            ),
            preferred: weighted([4, fc.constant(0)], [2, fc.integer({ min: 1, max: 3 })], [1, fc.constant(4)]),
            emptyInput: weighted([30, fc.constant(false)], [1, fc.constant(true)]),
            maxFee: weighted(
                [8, fc.constant("none" as const)],
                [2, fc.constant("quoted" as const)],
                [1, fc.constant("stale" as const)],
            ),
        }),
    ],
    [
        ACTION_WEIGHTS.submit,
        rec({
            kind: fc.constant("submit" as const),
            sel: selArb,
            version: versionArb,
            other: weighted<number | null>([3, fc.constant(null)], [2, fc.nat()]),
            wrong: fc.boolean(),
            code: weighted([10, fc.constant(0)], [2, fc.constantFrom(1, 2)], [1, fc.constantFrom(128, 255)]),
            wait: weighted<number | null>([2, fc.constant(null)], [1, fc.integer({ min: -2, max: 2 })]),
            waitRef: weighted([4, fc.constant("exclusive" as const)], [1, fc.constant("deadline" as const)]),
        }),
    ],
    [
        ACTION_WEIGHTS.submitAttested,
        rec({
            kind: fc.constant("submitAttested" as const),
            items: fc.array(
                rec({
                    sel: selArb,
                    version: versionArb,
                    signer: weighted<AttestedSigner>(
                        [12, fc.constant("assigned")],
                        [2, fc.constant("other")],
                        [1, fc.constantFrom("stranger", "forged", "malleable")],
                    ),
                    other: fc.nat(),
                    wrong: fc.boolean(),
                    code: weighted([10, fc.constant(0)], [2, fc.constantFrom(1, 2)], [1, fc.constant(128)]),
                }),
                { minLength: 1, maxLength: 3 },
            ),
            wait: weighted<number | null>([2, fc.constant(null)], [1, fc.integer({ min: -2, max: 2 })]),
        }),
    ],
    [
        ACTION_WEIGHTS.proveEquivocation,
        rec({
            kind: fc.constant("proveEquivocation" as const),
            court: weighted([3, fc.constant(false)], [1, fc.constant(true)]),
            signer: weighted([6, fc.integer({ min: 0, max: 2 })], [1, fc.constant(3)]),
            // Index into env.proofModels: A, B, the fraud model, QUORUM, inactive, unknown.
            model: weighted(
                [5, fc.constantFrom(0, 1)],
                [3, fc.constant(2)],
                [2, fc.constant(3)],
                [1, fc.constantFrom(4, 5)],
            ),
            input: fc.nat(),
            answers: fc.tuple(fc.nat(), fc.nat()),
            ids: fc.tuple(fc.nat(), weighted<number | null>([3, fc.constant(null)], [1, fc.nat()])),
            tamper: tamperArb<EquivocationTamper>(
                "otherSigner",
                "otherModel",
                "otherInput",
                "sameAnswer",
                "forged",
                "malleable",
            ),
            reporter: fc.nat(),
        }),
    ],
    [
        ACTION_WEIGHTS.proveFraud,
        rec({
            kind: fc.constant("proveFraud" as const),
            signer: weighted([6, fc.integer({ min: 0, max: 2 })], [1, fc.constant(3)]),
            input: fc.nat(),
            claim: weighted(
                [1, fc.constant("canonical" as const)],
                [2, fc.constant("wrongOutput" as const)],
                [1, fc.constant("wrongCode" as const)],
            ),
            tamper: tamperArb<FraudTamper>("onchain", "inputMismatch", "quorumModel", "forged", "malleable"),
            reporter: fc.nat(),
        }),
    ],
    [
        ACTION_WEIGHTS.challenge,
        rec({
            kind: fc.constant("challenge" as const),
            sel: selArb,
            version: versionArb,
            challenger: fc.nat(),
            decideNow: weighted([2, fc.constant(false)], [1, fc.constant(true)]),
            verdict: verdictArb,
            wait: waitArb,
        }),
    ],
    [
        ACTION_WEIGHTS.decide,
        rec({
            kind: fc.constant("decide" as const),
            sel: selArb,
            version: versionArb,
            verdict: verdictArb,
            direct: weighted([8, fc.constant(false)], [1, fc.constant(true)]),
        }),
    ],
    [
        ACTION_WEIGHTS.finalize,
        rec({
            kind: fc.constant("finalize" as const),
            sel: selArb,
            version: versionArb,
            wrongBytes: weighted([8, fc.constant(false)], [1, fc.constant(true)]),
            wait: waitArb,
        }),
    ],
    [
        ACTION_WEIGHTS.finalizeBatch,
        rec({
            kind: fc.constant("finalizeBatch" as const),
            items: fc.array(
                rec({
                    sel: selArb,
                    version: versionArb,
                    wrongBytes: weighted([15, fc.constant(false)], [1, fc.constant(true)]),
                }),
                { minLength: 1, maxLength: 4 },
            ),
            wait: fc.boolean(),
        }),
    ],
    [
        ACTION_WEIGHTS.cancel,
        rec({
            kind: fc.constant("cancel" as const),
            sel: selArb,
            version: versionArb,
            viaConsumer: fc.boolean(),
            wait: waitArb,
        }),
    ],
    [
        ACTION_WEIGHTS.expire,
        rec({ kind: fc.constant("expire" as const), sel: selArb, version: versionArb, wait: waitArb }),
    ],
    [
        ACTION_WEIGHTS.replay,
        rec({ kind: fc.constant("replay" as const), i: fc.nat(), version: fc.nat(), op: fc.nat() }),
    ],
    [
        ACTION_WEIGHTS.advance,
        rec({
            kind: fc.constant("advance" as const),
            seconds: weighted(
                [8, fc.integer({ min: 1, max: 120 })],
                [6, fc.integer({ min: 120, max: 1_200 })],
                [1, fc.integer({ min: 86_000, max: 90_000 })],
            ),
        }),
    ],
);

// ---------------------------------------------------------------------------------------------------------------
// Model
// ---------------------------------------------------------------------------------------------------------------

/** A Request with every field normalised (bigints, checksummed addresses, lower-case hex). */
interface Req {
    requestId: bigint;
    modelId: string;
    inputHash: string;
    consumer: string;
    feeWei: bigint;
    assignedOperator: string;
    collateralWei: bigint;
    protocolFeeWei: bigint;
    deadline: bigint;
    exclusiveUntil: bigint;
    callbackGasLimit: bigint;
    challengeWindowSeconds: bigint;
    bondWei: bigint;
    mode: bigint;
    status: bigint;
    disputeRounds: bigint;
    operator: string;
    resultCode: bigint;
    challengeEndsAt: bigint;
    outputHash: string;
    traceCommitment: string;
}

interface StakeState {
    staked: bigint;
    locked: bigint;
    unbonding: bigint;
    readyAt: bigint;
}

interface DisputeState {
    challenger: string;
    bondWei: bigint;
    openedAt: bigint;
}

type Terminal = "finalized" | "cancelled" | "slashed" | "expired" | "voided";

interface Tracked {
    id: bigint;
    consumer: number;
    model: number;
    /** The committed struct while live; the last committed struct once terminal. */
    cur: Req;
    /** Every struct that was ever committed for this request. */
    versions: Req[];
    /** The submitted output bytes. */
    output: Uint8Array | null;
    dispute: DisputeState | null;
    terminal: Terminal | null;
}

interface StoreView {
    callbacks: bigint;
    lastRequestId: bigint;
    lastResultCode: bigint;
    lastOutputHash: string;
}

/** The owner-settable parameters the model predicts requests with (they change with setParams). */
interface ParamsState {
    exclusiveWindow: bigint;
    minDeadline: bigint;
    maxDeadline: bigint;
    maxCallbackGas: bigint;
    callbackGasFee: bigint;
    protocolFeeBps: bigint;
    challengeBondBps: bigint;
}

/** A key slashed by a proof (keccak256(operator, modelId, inputHash, scope)) and what it was proven with. */
interface ProofRecord {
    key: string;
    /** Index into env.attesters, env.proofModels and PROOF_INPUTS. */
    signer: number;
    model: number;
    input: number;
    /** The request id for a QUORUM model, else 0. */
    scope: bigint;
}

/**
 * What the owner sets: who owns the coordinator and who is pending (Ownable2Step), where its protocol fees and
 * treasury shares go, and each mode's resolver on the coordinator and on the court (whose owner stays the deployer).
 */
interface AdminState {
    owner: string;
    pendingOwner: string;
    treasury: string;
    resolvers: { main: string[]; court: string[] };
}

interface Model {
    params: ParamsState;
    admin: AdminState;
    /** Each proof model's fee (env.proofModels; 0 for the unknown id), and the fee before its last change. */
    modelFees: bigint[];
    previousFees: bigint[];
    balances: Record<string, bigint>;
    stakes: Record<string, StakeState>;
    /** Each tracked model's operator set in the staking contract's order (env.setModels minus the unknown id). */
    operatorSets: string[][];
    nonces: bigint[];
    requests: Tracked[];
    callbackFailed: Record<string, boolean>;
    store: StoreView;
    /** Keys slashed by proofs, per coordinator: each can be slashed once on each. */
    proofs: { main: ProofRecord[]; court: ProofRecord[] };
    /** Balances at the court (reporters' rewards and the treasury's share of fraud and equivocation slashes). */
    courtBalances: Record<string, bigint>;
    /** Every token that entered or left the staking contract. */
    ledger: { staked: bigint; withdrawn: bigint; slashed: bigint };
}

const ZERO_DISPUTE: DisputeState = { challenger: ethers.ZeroAddress, bondWei: 0n, openedAt: 0n };

function toAddress(x: AddressLike): string {
    if (typeof x !== "string") throw new Error("expected an address string");
    return ethers.getAddress(x);
}

function toHex(x: BytesLike): string {
    return ethers.hexlify(x).toLowerCase();
}

function toReq(r: Request): Req {
    return {
        requestId: ethers.toBigInt(r.requestId),
        modelId: toHex(r.modelId),
        inputHash: toHex(r.inputHash),
        consumer: toAddress(r.consumer),
        feeWei: ethers.toBigInt(r.feeWei),
        assignedOperator: toAddress(r.assignedOperator),
        collateralWei: ethers.toBigInt(r.collateralWei),
        protocolFeeWei: ethers.toBigInt(r.protocolFeeWei),
        deadline: ethers.toBigInt(r.deadline),
        exclusiveUntil: ethers.toBigInt(r.exclusiveUntil),
        callbackGasLimit: ethers.toBigInt(r.callbackGasLimit),
        challengeWindowSeconds: ethers.toBigInt(r.challengeWindowSeconds),
        bondWei: ethers.toBigInt(r.bondWei),
        mode: ethers.toBigInt(r.mode),
        status: ethers.toBigInt(r.status),
        disputeRounds: ethers.toBigInt(r.disputeRounds),
        operator: toAddress(r.operator),
        resultCode: ethers.toBigInt(r.resultCode),
        challengeEndsAt: ethers.toBigInt(r.challengeEndsAt),
        outputHash: toHex(r.outputHash),
        traceCommitment: toHex(r.traceCommitment),
    };
}

function sameReq(a: Req, b: Req): boolean {
    return (Object.keys(a) as (keyof Req)[]).every((k) => a[k] === b[k]);
}

/** Whether `s` is exactly the struct committed for the live request `t`. */
function matches(t: Tracked, s: Req): boolean {
    return t.terminal === null && sameReq(t.cur, s);
}

function idKey(id: bigint): string {
    return id.toString();
}

function sum(values: bigint[]): bigint {
    return values.reduce((a, b) => a + b, 0n);
}

function maxBig(a: bigint, b: bigint): bigint {
    return a > b ? a : b;
}

function minBig(a: bigint, b: bigint): bigint {
    return a < b ? a : b;
}

// ---------------------------------------------------------------------------------------------------------------
// Environment: contracts, actors, and what the chain actually emitted
// ---------------------------------------------------------------------------------------------------------------

/** Indexes into env.proofModels. */
const PROOF_MODEL = { fraud: 2, quorum: 3 } as const;
/** Index of the inactive model among the models with a tracked operator set (A, B, inactive). */
const INACTIVE_SET = 2;
/** What registering for each model with a tracked operator set needs staked. */
const SET_MODEL_COLLATERAL = [MODELS[0].collateralWei, MODELS[1].collateralWei, INACTIVE_MODEL.collateralWei];

/** A model that proofs may name. */
interface ProofModel {
    id: string;
    mode: number;
    collateralWei: bigint;
    feeWei: bigint;
    registered: boolean;
    active: boolean;
}

interface Env {
    d: Fixture;
    coordinator: string;
    /** The second coordinator, with the real ReexecutionResolver (fraud proofs). */
    court: string;
    staking: string;
    resolver: string;
    token: string;
    ops: string[];
    opSigners: Signer[];
    consumers: string[];
    challengers: string[];
    /** The treasury at deployment (still the court's), and a second account the owner may make treasury. */
    treasury: string;
    treasury2: string;
    /** The deployer: the coordinator's first owner, the court's owner for good. */
    admin: string;
    depositor: string;
    stranger: string;
    publisher: string;
    /** Who may own the coordinator, and who sends owner calls in these runs: admin, depositor, stranger, treasury2. */
    admins: string[];
    /** What the owner may make the treasury: the two treasuries, a challenger, an operator, the Store consumer. */
    treasuries: string[];
    /** Accounts that withdraw their own coordinator balance: operators, challengers, the two treasuries. */
    holders: string[];
    /** Every address that can hold a coordinator balance in these runs. */
    accounts: string[];
    signers: Map<string, Signer>;
    /** Who signs attestations: the operators, then the stranger (never staked). */
    attesters: string[];
    /** Who sends proofs and collects their rewards: the challengers, the stranger, the first operator. */
    reporters: string[];
    /** Accounts that can hold a balance at the court: the reporters and the treasury. */
    courtAccounts: string[];
    /** Models proofs name: A, B, the fraud model, the QUORUM model, the inactive model, an unknown id. */
    proofModels: ProofModel[];
    /** Models operators register for: A, B, the inactive model, an unknown id. */
    setModels: string[];
    /** The EIP-712 domains attestations are signed for. */
    domains: { main: TypedDataDomain; court: TypedDataDomain };
    /** Terminal coordinator events actually emitted, per request id. */
    terminalEvents: Map<string, Terminal[]>;
    /** Callback deliveries actually emitted (ResultFinalized / ResultDelivered), with their success flag. */
    deliveries: Map<string, boolean[]>;
    /**
     * Whether observations read the settings (owner, pending owner, treasury, resolvers, model fees): at the start
     * and after the actions that may change them (SETTINGS_KINDS), since no other entry point writes them (19 reads:
     * a sixth more time per step). A misdirected fee or share still shows in the balances at once.
     */
    observeSettings: boolean;
    log: string[];
}

async function makeEnv(d: Fixture): Promise<Env> {
    const ops = await Promise.all(d.operators.map((o) => o.getAddress()));
    const consumers = await Promise.all(d.consumers.map((c) => c.getAddress()));
    const challengers = await Promise.all(d.challengers.map((c) => c.getAddress()));
    const treasury = await d.treasury.getAddress();
    const admin = await d.admin.getAddress();
    const depositor = await d.depositor.getAddress();
    const stranger = await d.stranger.getAddress();
    const treasury2 = await d.treasury2.getAddress();
    const publisher = await d.publisher.getAddress();
    const signers = new Map<string, Signer>();
    d.operators.forEach((s, i) => signers.set(ops[i]!, s));
    d.challengers.forEach((s, i) => signers.set(challengers[i]!, s));
    signers.set(treasury, d.treasury);
    signers.set(treasury2, d.treasury2);
    signers.set(stranger, d.stranger);
    signers.set(admin, d.admin);
    signers.set(depositor, d.depositor);
    signers.set(publisher, d.publisher);
    const coordinator = await d.coordinator.getAddress();
    const court = await d.court.getAddress();
    const { chainId } = await ethers.provider.getNetwork();
    const domain = (verifyingContract: string): TypedDataDomain => ({
        name: "Verity",
        version: "1",
        chainId,
        verifyingContract,
    });
    const reporters = [...challengers, stranger, ops[0]!];
    const [modelA, modelB] = d.modelIds as [string, string];
    const [inactiveModel] = d.setModelIds.slice(2) as [string];
    return {
        d,
        coordinator,
        court,
        staking: await d.staking.getAddress(),
        resolver: await d.resolver.getAddress(),
        token: await d.token.getAddress(),
        ops,
        opSigners: d.operators,
        consumers,
        challengers,
        treasury,
        treasury2,
        admin,
        depositor,
        stranger,
        publisher,
        admins: [admin, depositor, stranger, treasury2],
        treasuries: [treasury, treasury2, challengers[1]!, ops[2]!, consumers[0]!],
        holders: [...ops, ...challengers, treasury, treasury2],
        accounts: [...consumers, ...ops, ...challengers, treasury, treasury2, admin, depositor, stranger],
        signers,
        attesters: [...ops, stranger],
        reporters,
        courtAccounts: [...reporters, treasury],
        proofModels: [
            { id: modelA, mode: Mode.REEXECUTION, collateralWei: MODELS[0].collateralWei, feeWei: MODELS[0].feeWei },
            { id: modelB, mode: Mode.REEXECUTION, collateralWei: MODELS[1].collateralWei, feeWei: MODELS[1].feeWei },
            { id: d.fraudModelId, mode: Mode.REEXECUTION, collateralWei: FRAUD_MODEL.collateralWei, feeWei: MODEL_FEE },
            { id: d.quorumModelId, mode: Mode.QUORUM, collateralWei: QUORUM_MODEL.collateralWei, feeWei: MODEL_FEE },
            {
                id: inactiveModel,
                mode: Mode.REEXECUTION,
                collateralWei: INACTIVE_MODEL.collateralWei,
                feeWei: MODEL_FEE,
                active: false,
            },
            { id: UNKNOWN_MODEL, mode: Mode.REEXECUTION, collateralWei: 0n, feeWei: 0n, registered: false },
        ].map((pm) => ({ registered: true, active: true, ...pm, id: pm.id.toLowerCase() })),
        setModels: [...d.setModelIds, UNKNOWN_MODEL].map((id) => id.toLowerCase()),
        domains: { main: domain(coordinator), court: domain(court) },
        terminalEvents: new Map(),
        deliveries: new Map(),
        observeSettings: true,
        log: [],
    };
}

/**
 * Makes sure `challenger` holds a commitment of a challenge of request `id` with SALT, made in an earlier block than
 * the next one (challenges are commit-reveal). The commit, when needed, is mined at latest + 1 and moves no balance.
 */
async function ensureCommitted(env: Env, id: bigint, challenger: string): Promise<void> {
    const commitment = challengeCommitment(id, challenger, SALT);
    if ((await env.d.coordinator.getChallengeCommitment(commitment)) !== 0n) return;
    await nextTimestamp();
    await (await env.d.coordinator.connect(signerOf(env, challenger)).commitChallenge(commitment, TX)).wait();
}

/** The sender an owner-gated action names (see By): `owner`, or one of env.admins by index. */
function senderOf(env: Env, owner: string, by: By): string {
    return by === "owner" ? owner : env.admins[by % env.admins.length]!;
}

function signerOf(env: Env, address: string): Signer {
    const s = env.signers.get(address);
    if (s === undefined) throw new Error(`no signer for ${address}`);
    return s;
}

function initialModel(env: Env): Model {
    const balances: Record<string, bigint> = {};
    for (const a of env.accounts) balances[a] = 0n;
    for (const c of env.consumers) balances[c] = INITIAL_DEPOSIT;
    const stakes: Record<string, StakeState> = {};
    for (const op of env.ops) stakes[op] = { staked: INITIAL_STAKE, locked: 0n, unbonding: 0n, readyAt: 0n };
    const courtBalances: Record<string, bigint> = {};
    for (const a of env.courtAccounts) courtBalances[a] = 0n;
    return {
        params: {
            exclusiveWindow: EXCLUSIVE_WINDOW,
            minDeadline: MIN_DEADLINE,
            maxDeadline: MAX_DEADLINE,
            maxCallbackGas: MAX_CALLBACK_GAS,
            callbackGasFee: CALLBACK_GAS_FEE,
            protocolFeeBps: PROTOCOL_FEE_BPS,
            challengeBondBps: CHALLENGE_BOND_BPS,
        },
        admin: {
            owner: env.admin,
            pendingOwner: ethers.ZeroAddress,
            treasury: env.treasury,
            resolvers: {
                main: [env.resolver, env.resolver, env.resolver],
                court: [env.d.courtReexecution, ethers.ZeroAddress, ethers.ZeroAddress],
            },
        },
        modelFees: env.proofModels.map((pm) => pm.feeWei),
        previousFees: env.proofModels.map((pm) => pm.feeWei),
        balances,
        stakes,
        operatorSets: env.d.operatorSets.map((set) => [...set]),
        nonces: env.consumers.map(() => 0n),
        requests: [],
        callbackFailed: {},
        store: { callbacks: 0n, lastRequestId: 0n, lastResultCode: 0n, lastOutputHash: ethers.ZeroHash },
        proofs: { main: [], court: [] },
        courtBalances,
        ledger: { staked: BigInt(env.ops.length) * INITIAL_STAKE, withdrawn: 0n, slashed: 0n },
    };
}

// ---------------------------------------------------------------------------------------------------------------
// Observation of the chain
// ---------------------------------------------------------------------------------------------------------------

interface Observation {
    tokenAtCoordinator: bigint;
    tokenAtStaking: bigint;
    wallets: Record<string, bigint>;
    balances: Record<string, bigint>;
    nonces: bigint[];
    stakes: Record<string, StakeState>;
    /** isCommitted of each tracked request's model struct (`cur`: the live one, or the last one once settled). */
    committed: Record<string, boolean>;
    disputes: Record<string, DisputeState>;
    callbackFailed: Record<string, boolean>;
    store: StoreView;
    badCallbacks: bigint;
    operatorSets: string[][];
    tokenAtCourt: bigint;
    courtBalances: Record<string, bigint>;
    /** Read only when env.observeSettings (see there); null otherwise. */
    settings: Settings | null;
}

/**
 * The owner's settings, and each registered proof model's fee: the registry's, and the coordinator's copy (quoteFee
 * with no callback gas).
 */
interface Settings {
    admin: AdminState;
    modelFees: { registry: bigint[]; coordinator: bigint[] };
}

async function observeSettings(env: Env): Promise<Settings> {
    const { coordinator, court, registry } = env.d;
    const registered = env.proofModels.filter((pm) => pm.registered).map((pm) => pm.id);
    const modes = [Mode.REEXECUTION, Mode.BISECTION, Mode.QUORUM];
    const [owner, pendingOwner, treasury, main, courtResolvers, registryFees, coordinatorFees] = await Promise.all([
        coordinator.owner(),
        coordinator.pendingOwner(),
        coordinator.treasury(),
        Promise.all(modes.map((mode) => coordinator.getResolver(mode))),
        Promise.all(modes.map((mode) => court.getResolver(mode))),
        Promise.all(registered.map(async (id) => (await registry.getModelTerms(id)).feeWei)),
        Promise.all(registered.map((id) => coordinator.quoteFee(id, 0))),
    ]);
    return {
        admin: { owner, pendingOwner, treasury, resolvers: { main, court: courtResolvers } },
        modelFees: { registry: registryFees, coordinator: coordinatorFees },
    };
}

async function record<T>(keys: string[], f: (k: string) => Promise<T>): Promise<Record<string, T>> {
    const values = await Promise.all(keys.map(f));
    const out: Record<string, T> = {};
    keys.forEach((k, i) => (out[k] = values[i]!));
    return out;
}

/**
 * The calldata of isCommitted(struct), per struct object: the model replaces a request's struct (`t.cur = {...}`)
 * and never mutates one, so each is encoded once, and the per-step reads stay as cheap as one word-sized view each
 * (ethers' contract wrapper, which resolves and encodes the 21 fields on every call, costs about three times more).
 */
const isCommittedCalldata = new WeakMap<Req, string>();

async function isCommitted(env: Env, r: Req): Promise<boolean> {
    let data = isCommittedCalldata.get(r);
    if (data === undefined) {
        data = env.d.coordinator.interface.encodeFunctionData("isCommitted", [r]);
        isCommittedCalldata.set(r, data);
    }
    const ret = await ethers.provider.call({ to: env.coordinator, data });
    return env.d.coordinator.interface.decodeFunctionResult("isCommitted", ret)[0] as boolean;
}

async function observe(env: Env, m: Model): Promise<Observation> {
    const { coordinator, staking, token } = env.d;
    const [store, bad] = env.d.consumers as [Fixture["consumer"], Fixture["consumer"]];
    const ids = m.requests.map((t) => t.id);
    const keys = ids.map(idKey);
    const wallets = [...new Set([...env.accounts, ...env.ops, env.coordinator, env.court, env.staking])];
    const [tokenAtCoordinator, tokenAtStaking, walletBalances, balances, nonces, stakes] = await Promise.all([
        token.balanceOf(env.coordinator),
        token.balanceOf(env.staking),
        record(wallets, (a) => token.balanceOf(a)),
        record(env.accounts, (a) => coordinator.balanceOf(a)),
        Promise.all(env.consumers.map((c) => coordinator.requestNonce(c))),
        record(env.ops, async (op): Promise<StakeState> => {
            const s = await staking.getStake(op);
            return { staked: s.stakedWei, locked: s.lockedWei, unbonding: s.unbondingWei, readyAt: s.unbondingReadyAt };
        }),
    ]);
    const trackedSets = env.setModels.slice(0, m.operatorSets.length);
    const [operatorSets, tokenAtCourt, courtBalances] = await Promise.all([
        Promise.all(trackedSets.map(async (id) => [...(await staking.getOperators(id))])),
        token.balanceOf(env.court),
        record(env.courtAccounts, (a) => env.d.court.balanceOf(a)),
    ]);
    const settings = env.observeSettings ? await observeSettings(env) : null;
    const structs = new Map(m.requests.map((t) => [idKey(t.id), t.cur]));
    const [committed, disputes, callbackFailed, storeView, badCallbacks] = await Promise.all([
        record(keys, (k) => isCommitted(env, structs.get(k)!)),
        record(keys, async (k): Promise<DisputeState> => {
            const dsp = await coordinator.getDispute(BigInt(k));
            return { challenger: toAddress(dsp.challenger), bondWei: dsp.bondWei, openedAt: dsp.openedAt };
        }),
        record(keys, (k) => coordinator.callbackFailed(BigInt(k))),
        (async (): Promise<StoreView> => ({
            callbacks: await store.callbacks(),
            lastRequestId: await store.lastRequestId(),
            lastResultCode: await store.lastResultCode(),
            lastOutputHash: (await store.lastOutputHash()).toLowerCase(),
        }))(),
        bad.callbacks(),
    ]);
    return {
        tokenAtCoordinator,
        tokenAtStaking,
        wallets: walletBalances,
        balances,
        nonces,
        stakes,
        committed,
        disputes,
        callbackFailed,
        store: storeView,
        badCallbacks,
        operatorSets,
        tokenAtCourt,
        courtBalances,
        settings,
    };
}

// ---------------------------------------------------------------------------------------------------------------
// Invariants
// ---------------------------------------------------------------------------------------------------------------

async function checkInvariants(env: Env, m: Model, observed: Observation | null): Promise<void> {
    const obs = observed ?? (await observe(env, m));
    const live = m.requests.filter((t) => t.terminal === null);

    // Token conservation at the coordinator: every token it holds is a balance, an escrowed fee or an open bond.
    const held = sum(env.accounts.map((a) => obs.balances[a]!));
    const escrowed = sum(live.map((t) => t.cur.feeWei));
    const bonds = sum(Object.values(obs.disputes).map((dsp) => dsp.bondWei));
    expect(obs.tokenAtCoordinator).to.equal(
        held + escrowed + bonds,
        "coordinator token balance == sum of balances + fees of live requests + bonds of open disputes",
    );
    // The parameters the model predicts requests with are the chain's; the dispute terms never moved.
    const params = await env.d.coordinator.getParams();
    expect({
        exclusiveWindow: params.exclusiveWindowSeconds,
        minDeadline: params.minDeadlineSeconds,
        maxDeadline: params.maxDeadlineSeconds,
        maxCallbackGas: params.maxCallbackGasLimit,
        callbackGasFee: params.callbackGasFeeWei,
        protocolFeeBps: params.protocolFeeBps,
        challengeBondBps: params.challengeBondBps,
    }).to.deep.equal(m.params, "owner-settable parameters");
    expect([params.challengerRewardBps, params.failedChallengeOperatorBps, params.minChallengeBondWei]).to.deep.equal(
        [CHALLENGER_REWARD_BPS, FAILED_CHALLENGE_OPERATOR_BPS, MIN_CHALLENGE_BOND],
        "dispute terms fixed at deployment",
    );
    // Token conservation at staking: what operators hold there is what came in minus what left (withdrawals, and
    // slashes by verdicts and by proofs, which go to the coordinator or court that slashed).
    expect(obs.tokenAtStaking).to.equal(
        sum(env.ops.map((op) => obs.stakes[op]!.staked + obs.stakes[op]!.unbonding)),
        "staking token balance == sum of staked + unbonding",
    );
    expect(obs.tokenAtStaking).to.equal(
        m.ledger.staked - m.ledger.withdrawn - m.ledger.slashed,
        "staking token balance == staked - withdrawn - slashed",
    );
    // Token conservation at the court: it only ever holds proof slashes, all credited to reporters and treasury.
    expect(obs.tokenAtCourt).to.equal(
        sum(env.courtAccounts.map((a) => obs.courtBalances[a]!)),
        "court token balance == sum of court balances",
    );
    expect(obs.courtBalances).to.deep.equal(m.courtBalances, "court balances");
    if (obs.settings !== null) {
        // The owner's settings: owner, pending owner, treasury, resolvers (set once, never replaced).
        expect(obs.settings.admin).to.deep.equal(m.admin, "owner, pending owner, treasury and resolvers");
        // Model fees: the registry's and the coordinator's copy agree with the model (only the publisher's change).
        const fees = m.modelFees.filter((_, i) => env.proofModels[i]!.registered);
        expect(obs.settings.modelFees).to.deep.equal(
            { registry: fees, coordinator: fees },
            "model fees (registry, quoteFee)",
        );
    }
    // The operator sets, in order: the rotation's pick is set[requestId % length].
    expect(obs.operatorSets).to.deep.equal(m.operatorSets, "operator sets (getOperators)");
    // Locked collateral == collateral of the operator's live Submitted/Disputed requests, and never above stake.
    for (const op of env.ops) {
        const want = sum(
            live
                .filter((t) => t.cur.status !== BigInt(Status.Requested) && t.cur.operator === op)
                .map((t) => t.cur.collateralWei),
        );
        const s = obs.stakes[op]!;
        expect(s.locked).to.equal(want, `lockedWei of ${op} == collateral of its in-flight results`);
        expect(s.locked <= s.staked, `lockedWei <= stakedWei for ${op}`).to.be.true;
    }
    for (const t of m.requests) {
        const k = idKey(t.id);
        // Commitments: a live request is committed to exactly the model's struct; a settled one's last struct (the
        // one committed when it settled) is committed no more.
        expect(obs.committed[k]).to.equal(
            t.terminal === null,
            t.terminal === null
                ? `live request ${t.id} is committed to the model's struct`
                : `settled request ${t.id} (${t.terminal}): its last struct is no longer committed`,
        );
        const wantDispute = t.terminal === null && t.cur.status === BigInt(Status.Disputed) ? t.dispute : ZERO_DISPUTE;
        expect(obs.disputes[k]).to.deep.equal(wantDispute, `dispute of request ${t.id}`);
        // At most one terminal outcome, and the one the model expects.
        const terminals = env.terminalEvents.get(k) ?? [];
        expect(terminals.length).to.be.at.most(1, `request ${t.id} settled more than once: ${terminals.join(",")}`);
        expect(terminals[0] ?? null).to.equal(t.terminal, `terminal outcome of request ${t.id}`);
        // Exactly one callback per finalized / slashed / expired request, none before settlement or on cancel.
        const deliveries = env.deliveries.get(k) ?? [];
        const delivers = t.terminal !== null && t.terminal !== "cancelled";
        expect(deliveries.length).to.equal(delivers ? 1 : 0, `callbacks delivered for request ${t.id}`);
        // The storing consumer's callbacks succeed; the reverting / gas-burning consumer's fail.
        for (const ok of deliveries) expect(ok).to.equal(t.consumer === 0, `callback outcome of request ${t.id}`);
    }
    // Each consumer's callback counter == number of its requests finalized or delivered after a dispute.
    const storeDelivered = m.requests.filter((t) => t.consumer === 0 && (env.deliveries.get(idKey(t.id)) ?? []).length);
    expect(obs.store.callbacks).to.equal(BigInt(storeDelivered.length), "Store consumer callbacks == its settlements");
    expect(obs.badCallbacks).to.equal(0n, "a failing consumer never counts a callback");

    // Everything else agrees with the model.
    expect(obs.balances).to.deep.equal(m.balances, "coordinator balances");
    expect(obs.stakes).to.deep.equal(m.stakes, "operator stakes");
    expect(obs.nonces).to.deep.equal(m.nonces, "request nonces");
    expect(obs.store).to.deep.equal(m.store, "Store consumer's last delivery");
    for (const t of m.requests) {
        const k = idKey(t.id);
        expect(obs.callbackFailed[k]).to.equal(m.callbackFailed[k] ?? false, `callbackFailed(${t.id})`);
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Executing a predicted transaction
// ---------------------------------------------------------------------------------------------------------------

const ANY = Symbol("any");
type ExpectedEvent = [string, ...unknown[]];

/** A prediction: the coordinator's (and the court's) exact events, or the exact custom error. */
type Outcome =
    | { ok: true; events: ExpectedEvent[]; courtEvents?: ExpectedEvent[] }
    | { ok: false; contract: BaseContract; error: string; args: unknown[] };

function reverts(contract: BaseContract, error: string, ...args: unknown[]): Outcome {
    return { ok: false, contract, error, args };
}

/** A revert without data (`error` ""): a call whose answer could not be decoded, e.g. to an account without code. */
function revertsWithoutReason(contract: BaseContract): Outcome {
    return { ok: false, contract, error: "", args: [] };
}

/**
 * How asking the resolver of `mode` (equivocation: `exactResults`; fraud proofs: `checkResult`) fails, if it does:
 * no resolver reverts CoordinatorNoResolver; the stranger's address (an account without code, which the court's
 * owner may set) answers nothing decodable. Undefined when the resolver answers (TestResolver, the real one).
 */
function resolverFailure(env: Env, m: Model, where: "main" | "court", mode: number): Outcome | undefined {
    const target = where === "court" ? env.d.court : env.d.coordinator;
    const resolver = m.admin.resolvers[where][mode]!;
    if (resolver === ethers.ZeroAddress) return reverts(target, "CoordinatorNoResolver", mode);
    if (resolver === env.stranger) return revertsWithoutReason(target);
    return undefined;
}

function normalizeValue(v: unknown): string {
    if (typeof v === "bigint") return v.toString();
    if (typeof v === "number") return BigInt(v).toString();
    if (typeof v === "boolean") return String(v);
    if (typeof v === "string") return v.toLowerCase();
    if (v instanceof Uint8Array) return toHex(v);
    throw new Error(`cannot compare event argument ${String(v)}`);
}

/** The events `at` (the coordinator, or the court) emitted in a receipt. */
function coordinatorEvents(
    env: Env,
    receipt: ContractTransactionReceipt,
    at = env.coordinator,
): { name: string; args: unknown[] }[] {
    const out: { name: string; args: unknown[] }[] = [];
    for (const log of receipt.logs) {
        if (log.address.toLowerCase() !== at.toLowerCase()) continue;
        const parsed = env.d.coordinator.interface.parseLog(log);
        if (parsed === null) throw new Error("unparsable coordinator log");
        out.push({ name: parsed.name, args: [...parsed.args] });
    }
    return out;
}

/** Records the terminal and callback events the chain actually emitted. */
function recordEmitted(env: Env, events: { name: string; args: unknown[] }[]): void {
    const push = <T>(map: Map<string, T[]>, id: unknown, value: T) => {
        const k = normalizeValue(id);
        map.set(k, [...(map.get(k) ?? []), value]);
    };
    for (const e of events) {
        if (e.name === "ResultFinalized") {
            push(env.terminalEvents, e.args[0], "finalized");
            push(env.deliveries, e.args[0], e.args[1] as boolean);
        } else if (e.name === "RequestCancelled") {
            push(env.terminalEvents, e.args[0], "cancelled");
        } else if (e.name === "DisputeResolved" && e.args[1] === true) {
            push(env.terminalEvents, e.args[0], "slashed");
        } else if (e.name === "DisputeExpired") {
            push(env.terminalEvents, e.args[0], "expired");
        } else if (e.name === "ResultVoided") {
            push(env.terminalEvents, e.args[0], "voided");
        } else if (e.name === "ResultDelivered") {
            push(env.deliveries, e.args[0], e.args[2] as boolean);
        }
    }
}

function expectEvents(
    actual: { name: string; args: unknown[] }[],
    expected: ExpectedEvent[],
    what = "coordinator",
): void {
    expect(actual.map((e) => e.name)).to.deep.equal(
        expected.map((e) => e[0]),
        `${what} events emitted`,
    );
    actual.forEach((e, i) => {
        const want = expected[i]!.slice(1);
        want.forEach((w, j) => {
            if (w === ANY) return;
            expect(normalizeValue(e.args[j])).to.equal(normalizeValue(w), `${e.name} argument ${j}`);
        });
    });
}

/** Sets the next block's timestamp to `target` (or the earliest possible) and returns it. */
async function nextTimestamp(target?: bigint): Promise<bigint> {
    const latest = BigInt(await time.latest());
    const ts = target !== undefined && target > latest ? target : latest + 1n;
    await time.setNextBlockTimestamp(ts);
    return ts;
}

interface Executed {
    receipt: ContractTransactionReceipt | null;
    obs: Observation | null;
}

/**
 * Sends the transaction (mined at `ts`) and checks it against the prediction: on success the exact coordinator
 * events; on revert the exact custom error and arguments, and that no observable state changed.
 */
async function execute(
    env: Env,
    model: Model,
    ts: bigint,
    send: () => Promise<ContractTransactionResponse>,
    outcome: Outcome,
): Promise<Executed> {
    if (!outcome.ok) {
        const before = await observe(env, model);
        if (outcome.error === "") await expect(send()).to.be.revertedWithoutReason();
        else {
            const assertion = expect(send()).to.be.revertedWithCustomError(outcome.contract, outcome.error);
            await (outcome.args.length > 0 ? assertion.withArgs(...outcome.args) : assertion);
        }
        expect(BigInt(await time.latest())).to.equal(ts, "the reverted transaction was mined at the set time");
        const after = await observe(env, model);
        expect(after).to.deep.equal(before, `rejected action (${outcome.error}) changed state`);
        env.log.push(`    -> reverted ${outcome.error}(${outcome.args.map(String).join(", ")})`);
        return { receipt: null, obs: after };
    }
    const receipt = await (await send()).wait();
    if (receipt === null) throw new Error("no receipt");
    const block = await ethers.provider.getBlock(receipt.blockNumber);
    expect(BigInt(block!.timestamp)).to.equal(ts, "the transaction was mined at the set time");
    const events = coordinatorEvents(env, receipt);
    recordEmitted(env, events);
    expectEvents(events, outcome.events);
    const courtEvents = coordinatorEvents(env, receipt, env.court);
    expectEvents(courtEvents, outcome.courtEvents ?? [], "court");
    env.log.push(`    -> ok [${[...events, ...courtEvents].map((e) => e.name).join(", ")}]`);
    return { receipt, obs: null };
}

// ---------------------------------------------------------------------------------------------------------------
// Model transitions shared by several actions
// ---------------------------------------------------------------------------------------------------------------

function credit(m: Model, account: string, amount: bigint): void {
    if (m.balances[account] === undefined) throw new Error(`untracked account ${account}`);
    m.balances[account] += amount;
}

/** The callback of a settled request: the Store consumer (index 0) records it, the other one fails. */
function deliver(m: Model, t: Tracked, resultCode: bigint, output: BytesLike): boolean {
    const k = idKey(t.id);
    if (t.consumer === 0) {
        m.store = {
            callbacks: m.store.callbacks + 1n,
            lastRequestId: t.id,
            lastResultCode: resultCode,
            lastOutputHash: ethers.keccak256(output).toLowerCase(),
        };
        m.callbackFailed[k] = false;
        return true;
    }
    m.callbackFailed[k] = true;
    return false;
}

function finalizeModel(m: Model, t: Tracked, events: ExpectedEvent[]): void {
    const r = t.cur;
    m.stakes[r.operator]!.locked -= r.collateralWei;
    const protocolFee = r.protocolFeeWei;
    credit(m, r.operator, r.feeWei - protocolFee);
    // The treasury of the moment: an earlier one keeps what it was paid, and is paid nothing more.
    credit(m, m.admin.treasury, protocolFee);
    t.terminal = "finalized";
    const ok = deliver(m, t, r.resultCode, t.output!);
    events.push(["ResultFinalized", t.id, ok, ANY]);
}

function verdictStruct(v: VerdictChoice): IInferenceCoordinator.VerdictStruct {
    return {
        operatorAtFault: v.atFault,
        conclusive: v.conclusive,
        deliverResult: v.deliver,
        resultCode: v.code,
        output: VERDICT_OUTPUT,
    };
}

function verdictInvalid(v: VerdictChoice): boolean {
    return v.atFault && v.deliver && BigInt(v.code) >= RESERVED_FROM;
}

function applyVerdictModel(m: Model, t: Tracked, v: VerdictChoice, ts: bigint, events: ExpectedEvent[]) {
    const dispute = t.dispute!;
    const r = t.cur;
    t.dispute = null;
    if (!v.atFault) {
        // Only the first lost dispute pays the operator; later ones go wholly to the treasury.
        const toOperator = r.disputeRounds === 0n ? (dispute.bondWei * FAILED_CHALLENGE_OPERATOR_BPS) / BPS : 0n;
        credit(m, r.operator, toOperator);
        credit(m, m.admin.treasury, dispute.bondWei - toOperator);
        events.push(["DisputeResolved", t.id, false, dispute.challenger, r.operator, 0n, 0n]);
        const rounds = r.disputeRounds + 1n;
        if (!v.conclusive && rounds >= MAX_DISPUTE_ROUNDS) {
            m.stakes[r.operator]!.locked -= r.collateralWei;
            credit(m, r.consumer, r.feeWei);
            t.terminal = "voided";
            events.push(["ResultVoided", t.id, rounds]);
            const ok = deliver(m, t, VOIDED, "0x");
            events.push(["ResultDelivered", t.id, VOIDED, ok, ANY]);
            return;
        }
        const endsAt = v.conclusive ? ts : ts + r.challengeWindowSeconds;
        t.cur = { ...r, status: BigInt(Status.Submitted), challengeEndsAt: endsAt, disputeRounds: rounds };
        t.versions.push(t.cur);
        events.push(["ChallengeWindowRestarted", t.id, t.cur.challengeEndsAt, rounds]);
        return;
    }
    const stake = m.stakes[r.operator]!;
    stake.locked -= r.collateralWei;
    stake.staked -= r.collateralWei;
    m.ledger.slashed += r.collateralWei;
    const reward = (r.collateralWei * CHALLENGER_REWARD_BPS) / BPS;
    credit(m, dispute.challenger, dispute.bondWei + reward);
    credit(m, m.admin.treasury, r.collateralWei - reward);
    credit(m, r.consumer, r.feeWei);
    t.terminal = "slashed";
    events.push([
        "DisputeResolved",
        t.id,
        true,
        dispute.challenger,
        r.operator,
        r.collateralWei,
        dispute.bondWei + reward,
    ]);
    const code = v.deliver ? BigInt(v.code) : VOIDED;
    const ok = deliver(m, t, code, v.deliver ? VERDICT_OUTPUT : "0x");
    events.push(["ResultDelivered", t.id, code, ok, ANY]);
}

// ---------------------------------------------------------------------------------------------------------------
// Picking requests and struct versions
// ---------------------------------------------------------------------------------------------------------------

/**
 * Picks a request: with `sel.any` among all requests ever made (settled ones and other statuses included, so the
 * action is usually rejected); otherwise among live requests in status `want`, preferring those `prefer` accepts
 * (e.g. still within their deadline). Null (no transaction) when there is none.
 */
function pick(m: Model, sel: Sel, want: number, prefer?: (t: Tracked) => boolean): Tracked | null {
    const inStatus = m.requests.filter((t) => t.terminal === null && t.cur.status === BigInt(want));
    const preferred = prefer === undefined ? inStatus : inStatus.filter(prefer);
    const pool = sel.any ? m.requests : preferred.length > 0 ? preferred : inStatus;
    return pool.length === 0 ? null : pool[sel.i % pool.length]!;
}

function forge(env: Env, r: Req, n: number): Req {
    switch (n % 5) {
        case 0:
            return { ...r, feeWei: r.feeWei + 1n };
        case 1:
            return { ...r, collateralWei: r.collateralWei - 1n };
        case 2:
            return { ...r, consumer: env.stranger };
        case 3:
            return { ...r, deadline: r.deadline + 1n };
        default:
            return { ...r, status: (r.status % 3n) + 1n };
    }
}

function versionOf(env: Env, t: Tracked, v: Version): Req {
    if (v.kind === "stale") {
        const stale = t.versions.filter((x) => !sameReq(x, t.cur));
        if (stale.length > 0) return stale[v.n % stale.length]!;
    }
    if (v.kind !== "current") return forge(env, t.cur, v.n);
    return t.cur;
}

/**
 * THE ASSIGNMENT RULE, decided when a request is made (the `request` action stores it in the struct): the
 * preferred operator, else the rotation's pick, requestId mod n over the model's operator set as it is then
 * (Staking.assignedOperator), if that pick's free stake covers the collateral then; else nobody (address zero),
 * and the request is open to all at once. Later register / unregister / evict do not move it.
 */
function assignmentOf(m: Model, model: number, id: bigint, preferred: string, collateralWei: bigint): string {
    if (preferred !== ethers.ZeroAddress) return preferred;
    const set = m.operatorSets[model]!;
    if (set.length === 0) return ethers.ZeroAddress;
    const pick = set[Number(id % BigInt(set.length))]!;
    const stake = m.stakes[pick];
    return stake !== undefined && stake.staked - stake.locked >= collateralWei ? pick : ethers.ZeroAddress;
}

/** The operator with a request's exclusive window, as fixed in its struct (address zero: none). */
function exclusiveOperator(t: Tracked): string {
    return t.cur.assignedOperator;
}

/**
 * Who signs a relayed answer to `t`. "assigned" (and the spoiled "forged" and "malleable"): the exclusive operator
 * when it is registered for the model (or nobody is), else one of the model's operators, as a node past the window
 * would; "other": any operator; "stranger": the stranger.
 */
function relaySigner(env: Env, m: Model, t: Tracked, signer: AttestedSigner, other: number): string {
    if (signer === "other") return env.ops[other % env.ops.length]!;
    if (signer === "stranger") return env.stranger;
    const assigned = exclusiveOperator(t);
    const serving = m.operatorSets[t.model]!;
    if (serving.length > 0 && !serving.includes(assigned)) return serving[other % serving.length]!;
    return env.signers.has(assigned) ? assigned : env.ops[0]!;
}

/** A signer that can act for a request's assigned operator (the first operator's when nobody is assigned). */
function assignedSigner(env: Env, m: Model, t: Tracked): Signer {
    return env.signers.get(exclusiveOperator(t)) ?? env.opSigners[0]!;
}

/**
 * What the coordinator's `_submit` does when `operator` answers the live request `t` (committed, status Requested)
 * at `ts`, with its checks in the contract's order: the exact revert, or (applied to the model) the struct with the
 * result and the collateral locked, and the ResultSubmitted event.
 */
function predictSubmit(
    env: Env,
    m: Model,
    t: Tracked,
    operator: string,
    code: bigint,
    output: Uint8Array,
    ts: bigint,
): { revert: Outcome } | { event: ExpectedEvent } {
    const { coordinator, staking } = env.d;
    const r = t.cur;
    const stake = m.stakes[operator];
    const free = stake === undefined ? 0n : stake.staked - stake.locked;
    const assigned = exclusiveOperator(t);
    if (code >= RESERVED_FROM) {
        return { revert: reverts(coordinator, "CoordinatorInvalidResultCode", code, RESERVED_FROM - 1n) };
    }
    if (ts > r.deadline) return { revert: reverts(coordinator, "CoordinatorDeadlinePassed", ts, r.deadline) };
    // The assignee was checked at request time and may serve even if it left the set since; anyone else must wait
    // out the exclusive window and be registered now. Then the collateral is locked.
    if (operator !== assigned) {
        if (ts < r.exclusiveUntil) {
            return { revert: reverts(coordinator, "CoordinatorNotAssignedOperator", operator, assigned) };
        }
        if (!m.operatorSets[t.model]!.includes(operator)) {
            return { revert: reverts(staking, "StakingNotRegistered", operator, r.modelId) };
        }
    }
    if (free < r.collateralWei) {
        return { revert: reverts(staking, "StakingInsufficientFreeStake", free, r.collateralWei) };
    }
    stake!.locked += r.collateralWei;
    const outputHash = ethers.keccak256(output).toLowerCase();
    t.cur = {
        ...r,
        status: BigInt(Status.Submitted),
        operator,
        resultCode: code,
        challengeEndsAt: ts + r.challengeWindowSeconds,
        outputHash,
    };
    t.versions.push(t.cur);
    t.output = output;
    return {
        event: ["ResultSubmitted", t.id, operator, code, ethers.ZeroHash, t.cur.challengeEndsAt, output],
    };
}

// ---------------------------------------------------------------------------------------------------------------
// Attestations and proofs
// ---------------------------------------------------------------------------------------------------------------

interface AttestationValue {
    requestId: bigint;
    modelId: string;
    inputHash: string;
    resultCode: bigint;
    outputHash: string;
    traceCommitment: string;
}

/** The attestation an operator signs for answering the request `s` with (code, output). */
function attestationFor(s: Req, code: bigint, output: Uint8Array): AttestationValue {
    return {
        requestId: s.requestId,
        modelId: s.modelId,
        inputHash: s.inputHash,
        resultCode: code,
        outputHash: ethers.keccak256(output).toLowerCase(),
        traceCommitment: ethers.ZeroHash,
    };
}

/** Signatures by domain, signer and attestation: ECDSA signing is deterministic (RFC 6979), so runs share them. */
const SIGNATURES = new Map<string, string>();

/**
 * `signer`'s EIP-712 signature of `attestation` for the coordinator or the court, and the address the contract
 * recovers from it. With `forged`, the signer signs another attestation (another trace commitment) instead, so the
 * contract recovers an unrelated address, computed here as ecrecover does.
 */
async function signAttestation(
    env: Env,
    where: "main" | "court",
    signer: string,
    attestation: AttestationValue,
    opts: { forged?: boolean } = {},
): Promise<{ signature: string; recovered: string }> {
    const domain = env.domains[where];
    const signed = opts.forged ? { ...attestation, traceCommitment: ethers.id("forged") } : attestation;
    const key = `${String(domain.verifyingContract)}|${signer}|${Object.values(signed).map(String).join("|")}`;
    let signature = SIGNATURES.get(key);
    if (signature === undefined) {
        signature = await signerOf(env, signer).signTypedData(domain, ATTESTATION_TYPES, signed);
        SIGNATURES.set(key, signature);
    }
    const recovered = opts.forged ? ethers.verifyTypedData(domain, ATTESTATION_TYPES, attestation, signature) : signer;
    return { signature, recovered };
}

/** A malleable copy of a signature: s replaced by n - s, v flipped. ECDSA.recover rejects it, naming the new s. */
function malleable(signature: string): { signature: string; s: string } {
    const sig = ethers.Signature.from(signature);
    const s = ethers.toBeHex(SECP256K1_N - BigInt(sig.s), 32);
    return { signature: ethers.concat([sig.r, s, ethers.toBeHex(sig.v === 27 ? 28 : 27, 1)]), s };
}

/** The key DisputeLogic._slashOnce records: one slash per (operator, model, input, scope) and coordinator. */
function proofKey(operator: string, modelId: string, inputHash: string, scope: bigint): string {
    return ethers
        .keccak256(
            ethers.AbiCoder.defaultAbiCoder().encode(
                ["address", "bytes32", "bytes32", "uint256"],
                [operator, modelId, inputHash, scope],
            ),
        )
        .toLowerCase();
}

/**
 * A proof's slash of `amount` from `operator`, as Staking.slash takes it: free stake (staked - locked) first, then
 * unbonding stake, never locked collateral. DisputeLogic accepts only the whole amount: the exact revert, or the
 * slash applied to the model (stake, staking ledger, reporter's reward and treasury's share at the coordinator that
 * took the proof) and the record of its key.
 */
function predictProofSlash(
    env: Env,
    m: Model,
    where: "main" | "court",
    operator: string,
    amount: bigint,
    reporter: string,
    record: ProofRecord,
): Outcome | null {
    const target = where === "main" ? env.d.coordinator : env.d.court;
    if (m.proofs[where].some((p) => p.key === record.key)) {
        return reverts(target, "CoordinatorEquivocationAlreadyProven", record.key);
    }
    const stake = m.stakes[operator];
    const free = stake === undefined ? 0n : stake.staked - stake.locked;
    const fromFree = amount < free ? amount : free;
    const rest = amount - fromFree;
    const fromUnbonding = stake === undefined ? 0n : rest < stake.unbonding ? rest : stake.unbonding;
    if (fromFree + fromUnbonding !== amount) {
        return reverts(target, "CoordinatorInsufficientSlashableStake", operator, fromFree + fromUnbonding, amount);
    }
    stake!.staked -= fromFree;
    stake!.unbonding -= fromUnbonding;
    m.ledger.slashed += amount;
    const reward = (amount * CHALLENGER_REWARD_BPS) / BPS;
    const balances = where === "main" ? m.balances : m.courtBalances;
    balances[reporter] = balances[reporter]! + reward;
    // The coordinator's treasury of the moment; the court's never changes.
    const treasury = where === "main" ? m.admin.treasury : env.treasury;
    balances[treasury] = balances[treasury]! + amount - reward;
    m.proofs[where].push(record);
    return null;
}

/** Other bytes than `bytes` (a wrong output to attest). */
function corrupt(bytes: Uint8Array): Uint8Array {
    if (bytes.length === 0) return Uint8Array.from([1, 0]);
    const out = Uint8Array.from(bytes);
    out[out.length - 1] = out[out.length - 1]! ^ 1;
    return out;
}

function otherOutput(bytes: Uint8Array): Uint8Array {
    return toHex(bytes) === toHex(OUTPUT) ? WRONG_OUTPUT : OUTPUT;
}

/**
 * After a request settles: every entry point that acts on a request must reject every struct version of it
 * (checked with eth_call, so no state is touched).
 */
async function checkSettledIsDead(env: Env, m: Model, t: Tracked): Promise<void> {
    const { coordinator, resolver } = env.d;
    const op = assignedSigner(env, m, t);
    const verdict = verdictStruct({ atFault: true, conclusive: true, deliver: false, code: 0 });
    await ensureCommitted(env, t.id, env.challengers[0]!);
    for (const v of t.versions) {
        const attempts = [
            () => coordinator.connect(env.d.stranger).finalize.staticCall(v, t.output ?? OUTPUT),
            () => coordinator.connect(env.d.stranger).cancelRequest.staticCall(v),
            // "pending": a commitment just made is in the latest block, and a reveal needs a later one.
            () =>
                coordinator
                    .connect(env.d.challengers[0]!)
                    .challenge.staticCall(v, EVIDENCE, SALT, { blockTag: "pending" }),
            () => coordinator.connect(env.d.stranger).expireDispute.staticCall(v),
            () => coordinator.connect(op).submitResult.staticCall(v, 0, OUTPUT, ethers.ZeroHash),
            () => resolver.decide.staticCall(v, verdict),
        ];
        for (const attempt of attempts) {
            await expect(attempt())
                .to.be.revertedWithCustomError(coordinator, "CoordinatorUnknownRequest")
                .withArgs(t.id);
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Steps
// ---------------------------------------------------------------------------------------------------------------

interface StepResult {
    model: Model;
    obs: Observation | null;
}

function settle(model: Model, next: Model, outcome: Outcome, ex: Executed): StepResult {
    return outcome.ok ? { model: next, obs: ex.obs } : { model, obs: ex.obs };
}

function amountOf(balance: bigint, permille: number): bigint {
    return permille > 1000 ? balance + 1n : (balance * BigInt(permille)) / 1000n;
}

async function step(env: Env, model: Model, a: Action): Promise<StepResult> {
    const { coordinator, staking, token, resolver } = env.d;
    const m = structuredClone(model);
    switch (a.kind) {
        case "advance": {
            await time.increase(a.seconds);
            return { model, obs: null };
        }
        case "setParams": {
            // The struct the owner sends: the current parameters with the action's change.
            const p = m.params;
            const sent = {
                ...DEFAULT_PARAMS,
                exclusiveWindowSeconds: p.exclusiveWindow,
                minDeadlineSeconds: p.minDeadline,
                maxDeadlineSeconds: p.maxDeadline,
                maxCallbackGasLimit: p.maxCallbackGas,
                callbackGasFeeWei: p.callbackGasFee,
                protocolFeeBps: p.protocolFeeBps,
                challengeBondBps: p.challengeBondBps,
            };
            const c = a.change;
            let outcome: Outcome;
            if (c.kind === "valid") {
                Object.assign(sent, {
                    exclusiveWindowSeconds: c.exclusiveWindow,
                    minDeadlineSeconds: c.minDeadline,
                    maxCallbackGasLimit: c.maxCallbackGas,
                    callbackGasFeeWei: c.callbackGasFee,
                    protocolFeeBps: c.protocolFeeBps,
                    challengeBondBps: c.challengeBondBps,
                });
            } else if (c.kind === "fixed") {
                Object.assign(sent, { [c.field]: BigInt(DEFAULT_PARAMS[c.field]) + 1n });
            } else {
                Object.assign(sent, { [c.field]: c.field === "challengeBondBps" ? 10_001 : 1_001 });
            }
            const sender = senderOf(env, m.admin.owner, a.by);
            countCaller(env, m, a.kind, sender);
            if (sender !== m.admin.owner) {
                outcome = reverts(coordinator, "OwnableUnauthorizedAccount", sender);
            } else if (c.kind !== "valid") {
                outcome = reverts(coordinator, "CoordinatorInvalidParam", c.field);
            } else {
                // Later requests only: live requests keep the fee, protocol fee, window and bond they fixed.
                m.params = {
                    ...p,
                    exclusiveWindow: BigInt(c.exclusiveWindow),
                    minDeadline: BigInt(c.minDeadline),
                    maxCallbackGas: BigInt(c.maxCallbackGas),
                    callbackGasFee: c.callbackGasFee,
                    protocolFeeBps: BigInt(c.protocolFeeBps),
                    challengeBondBps: BigInt(c.challengeBondBps),
                };
                outcome = { ok: true, events: [["ParamsUpdated", ANY]] };
            }
            const ts = await nextTimestamp();
            const send = () => coordinator.connect(signerOf(env, sender)).setParams(sent, TX);
            return settle(model, m, outcome, await execute(env, model, ts, send, outcome));
        }
        case "setTreasury": {
            const sender = senderOf(env, m.admin.owner, a.by);
            countCaller(env, m, a.kind, sender);
            const to = a.to === "zero" ? ethers.ZeroAddress : env.treasuries[a.to % env.treasuries.length]!;
            let outcome: Outcome;
            if (sender !== m.admin.owner) outcome = reverts(coordinator, "OwnableUnauthorizedAccount", sender);
            else if (to === ethers.ZeroAddress) outcome = reverts(coordinator, "CoordinatorZeroValue");
            else {
                // From now on: fees and shares already credited stay with the earlier treasury.
                m.admin.treasury = to;
                outcome = { ok: true, events: [["TreasuryUpdated", to]] };
            }
            const ts = await nextTimestamp();
            const send = () => coordinator.connect(signerOf(env, sender)).setTreasury(to, TX);
            return settle(model, m, outcome, await execute(env, model, ts, send, outcome));
        }
        case "setResolver": {
            // Every mode has its resolver on the coordinator; on the court only REEXECUTION has one at first.
            const where = a.court ? "court" : "main";
            const target = a.court ? env.d.court : coordinator;
            const owner = a.court ? env.admin : m.admin.owner;
            const sender = senderOf(env, owner, a.by);
            if (!a.court) countCaller(env, m, a.kind, sender);
            const resolver =
                a.resolver === "zero" ? ethers.ZeroAddress : a.resolver === "test" ? env.resolver : env.stranger;
            const current = m.admin.resolvers[where][a.mode]!;
            let outcome: Outcome;
            if (sender !== owner) outcome = reverts(target, "OwnableUnauthorizedAccount", sender);
            else if (resolver === ethers.ZeroAddress) outcome = reverts(target, "CoordinatorZeroValue");
            else if (current !== ethers.ZeroAddress) {
                outcome = reverts(target, "CoordinatorResolverAlreadySet", a.mode, current);
            } else {
                // Once: the court's BISECTION / QUORUM resolver judges no request these runs make; it is asked
                // whether a QUORUM model's results are exact (equivocation) and whether it decides fraud proofs.
                m.admin.resolvers[where][a.mode] = resolver;
                const event: ExpectedEvent = ["ResolverSet", a.mode, resolver];
                outcome = { ok: true, events: a.court ? [] : [event], courtEvents: a.court ? [event] : [] };
            }
            const ts = await nextTimestamp();
            const send = () => target.connect(signerOf(env, sender)).setResolver(a.mode, resolver, TX);
            return settle(model, m, outcome, await execute(env, model, ts, send, outcome));
        }
        case "transferOwnership": {
            const sender = senderOf(env, m.admin.owner, a.by);
            countCaller(env, m, a.kind, sender);
            const to = a.to === "zero" ? ethers.ZeroAddress : env.admins[a.to % env.admins.length]!;
            let outcome: Outcome;
            if (sender !== m.admin.owner) outcome = reverts(coordinator, "OwnableUnauthorizedAccount", sender);
            else {
                // Ownable2Step: the owner stays owner until `to` accepts; the zero address cancels a pending one.
                m.admin.pendingOwner = to;
                outcome = { ok: true, events: [["OwnershipTransferStarted", m.admin.owner, to]] };
            }
            const ts = await nextTimestamp();
            const send = () => coordinator.connect(signerOf(env, sender)).transferOwnership(to, TX);
            return settle(model, m, outcome, await execute(env, model, ts, send, outcome));
        }
        case "acceptOwnership": {
            // "pending": the pending owner, or the owner when nobody is pending.
            const pending = m.admin.pendingOwner;
            const sender =
                a.by !== "pending"
                    ? env.admins[a.by % env.admins.length]!
                    : pending === ethers.ZeroAddress
                      ? m.admin.owner
                      : pending;
            let outcome: Outcome;
            if (sender !== pending) outcome = reverts(coordinator, "OwnableUnauthorizedAccount", sender);
            else {
                outcome = { ok: true, events: [["OwnershipTransferred", m.admin.owner, sender]] };
                m.admin = { ...m.admin, owner: sender, pendingOwner: ethers.ZeroAddress };
            }
            const ts = await nextTimestamp();
            const send = () => coordinator.connect(signerOf(env, sender)).acceptOwnership(TX);
            return settle(model, m, outcome, await execute(env, model, ts, send, outcome));
        }
        case "setModelFee": {
            const { registry } = env.d;
            const index = a.model % env.proofModels.length;
            const pm = env.proofModels[index]!;
            const sender = a.by === "publisher" ? env.publisher : env.admins[a.by % env.admins.length]!;
            const oldFee = m.modelFees[index]!;
            let outcome: Outcome;
            if (!pm.registered) outcome = reverts(registry, "ModelRegistryUnknownModel", pm.id);
            else if (sender !== env.publisher) {
                outcome = reverts(registry, "ModelRegistryNotOwner", sender, env.publisher);
            } else if (!pm.active) outcome = reverts(registry, "ModelRegistryInactive", pm.id);
            else {
                // Later requests pay the new fee; live ones keep the fee in their struct (checked by commitment).
                m.previousFees[index] = oldFee;
                m.modelFees[index] = a.feeWei;
                // The registry writes the coordinator's copy (syncModelTerms), which emits nothing.
                outcome = { ok: true, events: [] };
            }
            const ts = await nextTimestamp();
            const send = () => registry.connect(signerOf(env, sender)).setModelFee(pm.id, a.feeWei, TX);
            const ex = await execute(env, model, ts, send, outcome);
            if (ex.receipt !== null) {
                const at = await registry.getAddress();
                const emitted = ex.receipt.logs
                    .filter((log) => log.address.toLowerCase() === at.toLowerCase())
                    .map((log) => registry.interface.parseLog(log))
                    .map((parsed) => ({ name: parsed?.name ?? "unparsable", args: [...(parsed?.args ?? [])] }));
                expectEvents(emitted, [["ModelFeeUpdated", pm.id, oldFee, a.feeWei]], "registry");
            }
            return settle(model, m, outcome, ex);
        }
        case "stake": {
            const op = env.ops[a.op % env.ops.length]!;
            const signer = signerOf(env, op);
            if (a.amount > 0n) {
                await token.mint(op, a.amount);
                await token.connect(signer).approve(env.staking, a.amount);
            }
            const ts = await nextTimestamp();
            let outcome: Outcome;
            if (a.amount === 0n) outcome = reverts(staking, "StakingZeroAmount");
            else {
                m.stakes[op]!.staked += a.amount;
                m.ledger.staked += a.amount;
                outcome = { ok: true, events: [] };
            }
            const ex = await execute(env, model, ts, () => staking.connect(signer).stake(a.amount, TX), outcome);
            return settle(model, m, outcome, ex);
        }
        case "register":
        case "unregister": {
            const registering = a.kind === "register";
            // Mostly a change that applies: an operator not yet registered for A or B, or one registered anywhere.
            const pairs: [string, number][] = [];
            m.operatorSets.forEach((set, mi) => {
                for (const op of env.ops) {
                    if (registering ? mi < INACTIVE_SET && !set.includes(op) : set.includes(op)) pairs.push([op, mi]);
                }
            });
            const prefer = a.kind === "register" ? a.pickFree : a.pickMember;
            const [op, mi] =
                prefer && pairs.length > 0
                    ? pairs[a.op % pairs.length]!
                    : [env.attesters[a.op % env.attesters.length]!, a.model % env.setModels.length];
            const modelId = env.setModels[mi]!;
            const set = m.operatorSets[mi];
            const ts = await nextTimestamp();
            let outcome: Outcome;
            if (registering) {
                const staked = m.stakes[op]?.staked ?? 0n;
                const collateral = SET_MODEL_COLLATERAL[mi] ?? 0n;
                if (set === undefined) outcome = reverts(env.d.registry, "ModelRegistryUnknownModel", modelId);
                else if (mi === INACTIVE_SET) outcome = reverts(staking, "StakingModelInactive", modelId);
                // Staking checks the stake, then the coordinator refuses a second registration: an operator already
                // registered whose stake fell below the collateral (an unbond) hears about its stake.
                else if (staked < collateral) {
                    outcome = reverts(staking, "StakingStakeBelowCollateral", staked, collateral);
                } else if (set.includes(op)) outcome = reverts(staking, "StakingAlreadyRegistered", op, modelId);
                else {
                    set.push(op);
                    outcome = { ok: true, events: [] };
                }
            } else if (set === undefined || !set.includes(op)) {
                outcome = reverts(staking, "StakingNotRegistered", op, modelId);
            } else if (
                a.kind === "unregister" &&
                a.evict &&
                (m.stakes[op]?.staked ?? 0n) >= SET_MODEL_COLLATERAL[mi]!
            ) {
                // Evictable only once active stake is below the collateral (a deactivated model's too).
                const staked = m.stakes[op]?.staked ?? 0n;
                outcome = reverts(staking, "StakingNotEvictable", op, modelId, staked, SET_MODEL_COLLATERAL[mi]!);
            } else {
                // Swap and pop: the last operator takes the leaver's place (the rotation's picks move).
                set[set.indexOf(op)] = set[set.length - 1]!;
                set.pop();
                outcome = { ok: true, events: [] };
            }
            const signer = signerOf(env, op);
            const send = registering
                ? () => staking.connect(signer).registerForModel(modelId, TX)
                : a.kind === "unregister" && a.evict
                  ? () => staking.connect(env.d.stranger).evict(modelId, op, TX)
                  : () => staking.connect(signer).unregisterFromModel(modelId, TX);
            return settle(model, m, outcome, await execute(env, model, ts, send, outcome));
        }
        case "proveEquivocation": {
            const where = a.court ? "court" : "main";
            const target = a.court ? env.d.court : coordinator;
            let signerIndex = a.signer % env.attesters.length;
            let modelIndex = a.model % env.proofModels.length;
            let input = a.input % PROOF_INPUTS.length;
            let id1 = ATTESTED_IDS[a.ids[0] % ATTESTED_IDS.length]!;
            let id2 = a.ids[1] === null ? id1 : ATTESTED_IDS[a.ids[1] % ATTESTED_IDS.length]!;
            const proven = m.proofs[where];
            if (a.tamper === "reuse" && proven.length > 0) {
                const p = proven[a.input % proven.length]!;
                ({ signer: signerIndex, model: modelIndex, input } = p);
                if (p.scope !== 0n) [id1, id2] = [p.scope, p.scope];
            }
            const pm = env.proofModels[modelIndex]!;
            const signer = env.attesters[signerIndex]!;
            const i1 = a.answers[0] % ANSWERS.length;
            let i2 = a.answers[1] % ANSWERS.length;
            if (a.tamper === "sameAnswer") i2 = i1;
            else if (i2 === i1) i2 = (i1 + 1) % ANSWERS.length;
            const first: AttestationValue = {
                requestId: id1,
                modelId: pm.id,
                inputHash: PROOF_INPUT_HASHES[input]!,
                resultCode: BigInt(ANSWERS[i1]!.code),
                outputHash: ethers.keccak256(ANSWERS[i1]!.output).toLowerCase(),
                traceCommitment: ethers.ZeroHash,
            };
            const second: AttestationValue = {
                requestId: id2,
                modelId:
                    a.tamper === "otherModel" ? env.proofModels[(modelIndex + 1) % env.proofModels.length]!.id : pm.id,
                inputHash:
                    a.tamper === "otherInput"
                        ? PROOF_INPUT_HASHES[(input + 1) % PROOF_INPUTS.length]!
                        : first.inputHash,
                resultCode: BigInt(ANSWERS[i2]!.code),
                outputHash: ethers.keccak256(ANSWERS[i2]!.output).toLowerCase(),
                // The same answer under another trace commitment is still the same answer.
                traceCommitment: a.tamper === "sameAnswer" ? ethers.id("another trace") : ethers.ZeroHash,
            };
            const secondSigner =
                a.tamper === "otherSigner" ? env.attesters[(signerIndex + 1) % env.attesters.length]! : signer;
            const one = await signAttestation(env, where, signer, first);
            const two = await signAttestation(env, where, secondSigner, second, { forged: a.tamper === "forged" });
            const bad = a.tamper === "malleable" ? malleable(two.signature) : null;
            const reporter = env.reporters[a.reporter % env.reporters.length]!;
            const operator = one.recovered;
            // Integer models: one answer per (model, input), whatever the request; QUORUM: per request.
            const scope = pm.mode === Mode.QUORUM ? first.requestId : 0n;
            const key = proofKey(operator, pm.id, first.inputHash, scope);
            const ts = await nextTimestamp();
            let outcome: Outcome;
            if (bad !== null) outcome = reverts(target, "ECDSAInvalidSignatureS", bad.s);
            else if (operator !== two.recovered) {
                outcome = reverts(target, "CoordinatorSignerMismatch", operator, two.recovered);
            } else if (first.modelId !== second.modelId || first.inputHash !== second.inputHash) {
                outcome = reverts(target, "CoordinatorNotEquivocation");
            } else if (first.resultCode === second.resultCode && first.outputHash === second.outputHash) {
                outcome = reverts(target, "CoordinatorNotEquivocation");
            } else if (!pm.registered) {
                outcome = reverts(env.d.registry, "ModelRegistryUnknownModel", pm.id);
            } else if (resolverFailure(env, m, where, pm.mode) !== undefined) {
                // The mode's resolver says whether results are exact (IDisputeResolver.exactResults).
                outcome = resolverFailure(env, m, where, pm.mode)!;
            } else if (pm.mode === Mode.QUORUM && (first.requestId !== second.requestId || first.requestId === 0n)) {
                outcome = reverts(target, "CoordinatorNotEquivocation");
            } else {
                const record: ProofRecord = { key, signer: signerIndex, model: modelIndex, input, scope };
                const event: ExpectedEvent = [
                    "EquivocationProven",
                    operator,
                    pm.id,
                    first.inputHash,
                    reporter,
                    pm.collateralWei,
                ];
                outcome = predictProofSlash(env, m, where, operator, pm.collateralWei, reporter, record) ?? {
                    ok: true,
                    events: a.court ? [] : [event],
                    courtEvents: a.court ? [event] : [],
                };
            }
            const sender = target.connect(signerOf(env, reporter));
            const signature2 = bad?.signature ?? two.signature;
            const ex = await execute(
                env,
                model,
                ts,
                () => sender.proveEquivocation(first, one.signature, second, signature2, TX),
                outcome,
            );
            if (ex.receipt !== null) {
                // Once per key, in either order.
                await expect(sender.proveEquivocation.staticCall(second, two.signature, first, one.signature))
                    .to.be.revertedWithCustomError(target, "CoordinatorEquivocationAlreadyProven")
                    .withArgs(key);
            }
            return settle(model, m, outcome, ex);
        }
        case "proveFraud": {
            const court = env.d.court;
            let signerIndex = a.signer % env.attesters.length;
            let input = a.input % PROOF_INPUTS.length;
            // Reuse: a key of the fraud model already slashed at the court (by fraud or by equivocation).
            const proven = m.proofs.court.filter((p) => p.model === PROOF_MODEL.fraud);
            if (a.tamper === "reuse" && proven.length > 0) {
                ({ signer: signerIndex, input } = proven[a.signer % proven.length]!);
            }
            const canonical = env.d.canonical[input]!;
            const code = a.claim === "wrongCode" ? (canonical.code === 0 ? 1 : 0) : canonical.code;
            const output = a.claim === "wrongOutput" ? corrupt(canonical.output) : canonical.output;
            const pm = env.proofModels[a.tamper === "quorumModel" ? PROOF_MODEL.quorum : PROOF_MODEL.fraud]!;
            const attestation: AttestationValue = {
                requestId: a.tamper === "onchain" ? ATTESTED_IDS[1]! : 0n,
                modelId: pm.id,
                inputHash: PROOF_INPUT_HASHES[input]!,
                resultCode: BigInt(code),
                outputHash: ethers.keccak256(output).toLowerCase(),
                traceCommitment: ethers.ZeroHash,
            };
            const sentInput = PROOF_INPUTS[a.tamper === "inputMismatch" ? (input + 1) % PROOF_INPUTS.length : input]!;
            const sentHash = ethers.keccak256(sentInput).toLowerCase();
            const signer = env.attesters[signerIndex]!;
            const signed = await signAttestation(env, "court", signer, attestation, { forged: a.tamper === "forged" });
            const bad = a.tamper === "malleable" ? malleable(signed.signature) : null;
            const reporter = env.reporters[a.reporter % env.reporters.length]!;
            const operator = signed.recovered;
            const key = proofKey(operator, pm.id, attestation.inputHash, 0n);
            const ts = await nextTimestamp();
            let outcome: Outcome;
            if (attestation.requestId !== 0n) {
                outcome = reverts(court, "CoordinatorNotOffchainAttestation", attestation.requestId);
            } else if (sentHash !== attestation.inputHash) {
                outcome = reverts(court, "CoordinatorInputMismatch", sentHash, attestation.inputHash);
            } else if (bad !== null) {
                outcome = reverts(court, "ECDSAInvalidSignatureS", bad.s);
            } else if (resolverFailure(env, m, "court", pm.mode) !== undefined) {
                // The mode's resolver decides (IDisputeResolver.checkResult).
                outcome = resolverFailure(env, m, "court", pm.mode)!;
            } else if (pm.mode !== Mode.REEXECUTION) {
                // TestResolver decides no fraud proof.
                outcome = reverts(court, "CoordinatorFraudProofUnsupported", pm.mode);
            } else if (a.claim === "canonical") {
                // The re-execution agrees with the attestation.
                outcome = reverts(court, "CoordinatorNotFraud");
            } else {
                const record: ProofRecord = { key, signer: signerIndex, model: PROOF_MODEL.fraud, input, scope: 0n };
                outcome = predictProofSlash(env, m, "court", operator, pm.collateralWei, reporter, record) ?? {
                    ok: true,
                    events: [],
                    courtEvents: [["FraudProven", operator, pm.id, attestation.inputHash, reporter, pm.collateralWei]],
                };
            }
            const sender = court.connect(signerOf(env, reporter));
            const signature = bad?.signature ?? signed.signature;
            const ex = await execute(
                env,
                model,
                ts,
                () => sender.proveFraud(attestation, signature, sentInput, TX),
                outcome,
            );
            if (ex.receipt !== null) {
                await expect(sender.proveFraud.staticCall(attestation, signature, sentInput))
                    .to.be.revertedWithCustomError(court, "CoordinatorEquivocationAlreadyProven")
                    .withArgs(key);
            }
            return settle(model, m, outcome, ex);
        }
        case "unbond": {
            const op = env.ops[a.op % env.ops.length]!;
            const s = m.stakes[op]!;
            const free = s.staked - s.locked;
            const amount = amountOf(free, a.permille);
            const ts = await nextTimestamp();
            let outcome: Outcome;
            if (amount === 0n) outcome = reverts(staking, "StakingZeroAmount");
            else if (amount > free) outcome = reverts(staking, "StakingInsufficientFreeStake", free, amount);
            else {
                s.staked -= amount;
                s.unbonding += amount;
                s.readyAt = ts + BigInt(UNBONDING_DELAY);
                outcome = { ok: true, events: [] };
            }
            const ex = await execute(
                env,
                model,
                ts,
                () => staking.connect(signerOf(env, op)).requestUnbonding(amount, TX),
                outcome,
            );
            return settle(model, m, outcome, ex);
        }
        case "withdrawUnbonded": {
            // Prefer operators with something unbonding.
            const unbonding = env.ops.filter((o) => m.stakes[o]!.unbonding > 0n);
            const pool = unbonding.length > 0 ? unbonding : env.ops;
            const op = pool[a.op % pool.length]!;
            const s = m.stakes[op]!;
            const ts = await nextTimestamp(
                a.wait !== null && s.unbonding > 0n ? s.readyAt + BigInt(a.wait) : undefined,
            );
            let outcome: Outcome;
            if (s.unbonding === 0n) outcome = reverts(staking, "StakingNothingToWithdraw");
            else if (ts < s.readyAt) outcome = reverts(staking, "StakingUnbondingNotReady", ts, s.readyAt);
            else {
                m.ledger.withdrawn += s.unbonding;
                s.unbonding = 0n;
                s.readyAt = 0n;
                outcome = { ok: true, events: [] };
            }
            const ex = await execute(
                env,
                model,
                ts,
                () => staking.connect(signerOf(env, op)).withdrawUnbonded(op, TX),
                outcome,
            );
            return settle(model, m, outcome, ex);
        }
        case "deposit": {
            const account = env.consumers[a.consumer % env.consumers.length]!;
            if (a.amount > 0n) {
                await token.mint(env.depositor, a.amount);
                await token.connect(env.d.depositor).approve(env.coordinator, a.amount);
            }
            const ts = await nextTimestamp();
            let outcome: Outcome;
            if (a.amount === 0n) outcome = reverts(coordinator, "CoordinatorZeroValue");
            else {
                credit(m, account, a.amount);
                outcome = { ok: true, events: [["Deposited", account, env.depositor, a.amount]] };
            }
            const ex = await execute(
                env,
                model,
                ts,
                () => coordinator.connect(env.d.depositor).deposit(account, a.amount, TX),
                outcome,
            );
            return settle(model, m, outcome, ex);
        }
        case "consumerWithdraw":
        case "withdraw": {
            const isConsumer = a.kind === "consumerWithdraw";
            const index = isConsumer ? a.consumer % env.consumers.length : a.holder % env.holders.length;
            const account = isConsumer ? env.consumers[index]! : env.holders[index]!;
            const to = isConsumer ? env.depositor : account;
            const balance = m.balances[account]!;
            const amount = amountOf(balance, a.permille);
            const ts = await nextTimestamp();
            let outcome: Outcome;
            if (amount === 0n) outcome = reverts(coordinator, "CoordinatorZeroValue");
            else if (amount > balance)
                outcome = reverts(coordinator, "CoordinatorInsufficientBalance", balance, amount);
            else {
                credit(m, account, -amount);
                outcome = { ok: true, events: [["Withdrawn", account, to, amount]] };
            }
            const send = isConsumer
                ? () => env.d.consumers[index]!.withdrawTo(to, amount, TX)
                : () => coordinator.connect(signerOf(env, account)).withdraw(to, amount, TX);
            const ex = await execute(env, model, ts, send, outcome);
            return settle(model, m, outcome, ex);
        }
        case "request": {
            const ci = a.consumer % env.consumers.length;
            const consumer = env.consumers[ci]!;
            const mi = a.model % MODELS.length;
            const terms = MODELS[mi]!;
            const modelId = env.d.modelIds[mi]!;
            const preferred =
                a.preferred === 0 ? ethers.ZeroAddress : a.preferred <= 3 ? env.ops[a.preferred - 1]! : env.stranger;
            const input = a.emptyInput ? new Uint8Array(0) : INPUT;
            const ts = await nextTimestamp();
            const deadline = ts + BigInt(a.deadlineIn);
            const gas = BigInt(a.gas);
            const p = m.params;
            // The model's fee of the moment (setModelFee), as the coordinator's copy of its terms holds it.
            const fee = m.modelFees[mi]! + gas * p.callbackGasFee;
            const staleFee = m.previousFees[mi]! + gas * p.callbackGasFee;
            if (fee > NO_FEE_LIMIT) {
                await expect(coordinator.quoteFee(modelId, gas))
                    .to.be.revertedWithCustomError(coordinator, "CoordinatorInvalidParam")
                    .withArgs("fee");
            } else if (a.maxFee === "quoted") {
                expect(await coordinator.quoteFee(modelId, gas)).to.equal(fee, "quoteFee");
            }
            // A consumer that quoted before the model's last fee change sends that quote as its limit.
            const maxFee =
                a.maxFee === "none"
                    ? NO_FEE_LIMIT
                    : a.maxFee === "quoted"
                      ? minBig(fee, NO_FEE_LIMIT)
                      : minBig(staleFee, NO_FEE_LIMIT);
            const balance = m.balances[consumer]!;
            let outcome: Outcome;
            let predicted: Req | null = null;
            if (gas > p.maxCallbackGas) {
                outcome = reverts(coordinator, "CoordinatorCallbackGasTooHigh", gas, p.maxCallbackGas);
            } else if (input.length === 0) {
                outcome = reverts(coordinator, "CoordinatorInvalidInputLength", 0, MAX_INPUT_BYTES);
            } else if (deadline < ts + p.minDeadline || deadline > ts + p.maxDeadline) {
                outcome = reverts(
                    coordinator,
                    "CoordinatorInvalidDeadline",
                    deadline,
                    ts + p.minDeadline,
                    ts + p.maxDeadline,
                );
            } else if (fee > maxFee) {
                outcome = reverts(coordinator, "CoordinatorFeeAboveMax", fee, maxFee);
            } else if (balance < fee) {
                outcome = reverts(coordinator, "CoordinatorInsufficientBalance", balance, fee);
            } else if (preferred !== ethers.ZeroAddress && !m.operatorSets[mi]!.includes(preferred)) {
                // A preferred operator must be registered for the model when the request is made.
                outcome = reverts(env.d.staking, "StakingNotRegistered", preferred, modelId);
            } else {
                const nonce = m.nonces[ci]!;
                const id = ethers.toBigInt(
                    ethers.keccak256(
                        ethers.AbiCoder.defaultAbiCoder().encode(["address", "uint64"], [consumer, nonce]),
                    ),
                );
                const assigned = assignmentOf(m, mi, id, preferred, terms.collateralWei);
                predicted = {
                    requestId: id,
                    modelId: modelId.toLowerCase(),
                    inputHash: ethers.keccak256(input).toLowerCase(),
                    consumer,
                    feeWei: fee,
                    assignedOperator: assigned,
                    collateralWei: terms.collateralWei,
                    protocolFeeWei: (fee * p.protocolFeeBps) / BPS,
                    deadline,
                    exclusiveUntil: assigned === ethers.ZeroAddress ? ts : ts + p.exclusiveWindow,
                    callbackGasLimit: gas,
                    challengeWindowSeconds: BigInt(terms.windowSeconds),
                    bondWei: expectedBond(terms.collateralWei, p.challengeBondBps),
                    mode: BigInt(Mode.REEXECUTION), // the runs' requested models are REEXECUTION
                    status: BigInt(Status.Requested),
                    disputeRounds: 0n,
                    operator: ethers.ZeroAddress,
                    resultCode: 0n,
                    challengeEndsAt: 0n,
                    outputHash: ethers.ZeroHash,
                    traceCommitment: ethers.ZeroHash,
                };
                credit(m, consumer, -fee);
                m.nonces[ci] = nonce + 1n;
                m.requests.push({
                    id,
                    consumer: ci,
                    model: mi,
                    cur: predicted,
                    versions: [predicted],
                    output: null,
                    dispute: null,
                    terminal: null,
                });
                outcome = { ok: true, events: [["InferenceRequested", id, modelId, consumer, ANY, input]] };
            }
            const ex = await execute(
                env,
                model,
                ts,
                () =>
                    env.d.consumers[ci]!.request(
                        modelId,
                        input,
                        { callbackGasLimit: a.gas, deadline, preferredOperator: preferred, maxFeeWei: maxFee },
                        TX,
                    ),
                outcome,
            );
            if (ex.receipt !== null) {
                const emitted = requestsFrom(ex.receipt).map(toReq);
                expect(emitted).to.deep.equal([predicted], "the emitted Request struct");
            }
            return settle(model, m, outcome, ex);
        }
        case "submit": {
            const now = BigInt(await time.latest());
            const t = pick(m, a.sel, Status.Requested, (x) => x.cur.deadline > now);
            if (t === null) return { model, obs: null };
            const s = versionOf(env, t, a.version);
            const r = t.cur;
            const assigned = exclusiveOperator(t);
            const operator =
                a.other !== null
                    ? env.ops[a.other % env.ops.length]!
                    : env.signers.has(assigned)
                      ? assigned
                      : env.ops[0]!;
            const output = a.wrong ? WRONG_OUTPUT : OUTPUT;
            const code = BigInt(a.code);
            const ref = a.waitRef === "deadline" ? r.deadline : r.exclusiveUntil;
            const ts = await nextTimestamp(a.wait === null ? undefined : ref + BigInt(a.wait));
            let outcome: Outcome;
            if (!matches(t, s)) outcome = reverts(coordinator, "CoordinatorUnknownRequest", t.id);
            else if (s.status !== BigInt(Status.Requested)) {
                outcome = reverts(coordinator, "CoordinatorWrongStatus", t.id, s.status, Status.Requested);
            } else {
                const submitted = predictSubmit(env, m, t, operator, code, output, ts);
                outcome = "revert" in submitted ? submitted.revert : { ok: true, events: [submitted.event] };
            }
            const ex = await execute(
                env,
                model,
                ts,
                () => coordinator.connect(signerOf(env, operator)).submitResult(s, code, output, ethers.ZeroHash, TX),
                outcome,
            );
            if (ex.receipt !== null) {
                const rebuilt = toReq(applyEvents(s, ex.receipt));
                expect(rebuilt).to.deep.equal(t.cur, "struct rebuilt from ResultSubmitted");
            }
            return settle(model, m, outcome, ex);
        }
        case "submitAttested": {
            const now = BigInt(await time.latest());
            const items: {
                t: Tracked;
                s: Req;
                signer: AttestedSigner;
                other: number;
                code: bigint;
                output: Uint8Array;
            }[] = [];
            for (const it of a.items) {
                const t = pick(m, it.sel, Status.Requested, (x) => x.cur.deadline > now);
                if (t === null) continue;
                const output = it.wrong ? WRONG_OUTPUT : OUTPUT;
                items.push({ ...it, t, s: versionOf(env, t, it.version), code: BigInt(it.code), output });
            }
            if (items.length === 0) return { model, obs: null };
            // Each item as relayed, with whom the contract recovers from its signature (null: a malleable signature,
            // rejected with ECDSAInvalidSignatureS(highS)).
            const sent: {
                item: IInferenceCoordinator.AttestedResultStruct;
                recovered: string | null;
                highS: string;
            }[] = [];
            for (const { t, s, signer, other, code, output } of items) {
                const chosen = relaySigner(env, m, t, signer, other);
                const signed = await signAttestation(env, "main", chosen, attestationFor(s, code, output), {
                    forged: signer === "forged",
                });
                const bad = signer === "malleable" ? malleable(signed.signature) : null;
                sent.push({
                    item: {
                        request: s,
                        resultCode: code,
                        output,
                        traceCommitment: ethers.ZeroHash,
                        signature: bad?.signature ?? signed.signature,
                    },
                    recovered: bad === null ? signed.recovered : null,
                    highS: bad?.s ?? "",
                });
            }
            const first = items[0]!.t.cur;
            const ts = await nextTimestamp(a.wait === null ? undefined : first.exclusiveUntil + BigInt(a.wait));
            // The items in order, as the contract does: unknown structs are skipped, any other failure reverts all.
            let outcome: Outcome | null = null;
            const events: ExpectedEvent[] = [];
            const submitted: { t: Tracked; s: Req }[] = [];
            for (const [i, { t, s, code, output }] of items.entries()) {
                const { recovered, highS } = sent[i]!;
                if (!matches(t, s)) {
                    events.push(["BatchItemSkipped", t.id]);
                    continue;
                }
                if (s.status !== BigInt(Status.Requested)) {
                    outcome = reverts(coordinator, "CoordinatorWrongStatus", t.id, s.status, Status.Requested);
                } else if (recovered === null) {
                    outcome = reverts(coordinator, "ECDSAInvalidSignatureS", highS);
                } else {
                    const result = predictSubmit(env, m, t, recovered, code, output, ts);
                    if ("revert" in result) outcome = result.revert;
                    else {
                        events.push(result.event);
                        submitted.push({ t, s });
                    }
                }
                if (outcome !== null) break;
            }
            const final: Outcome = outcome ?? { ok: true, events };
            const ex = await execute(
                env,
                model,
                ts,
                () =>
                    coordinator.connect(env.d.stranger).submitAttestedResults(
                        sent.map(({ item }) => item),
                        TX,
                    ),
                final,
            );
            if (ex.receipt !== null) {
                count(
                    `submitAttested items: ${submitted.length} submitted, ${items.length - submitted.length} skipped`,
                );
                for (const { t, s } of submitted) {
                    const rebuilt = toReq(applyEvents(s, ex.receipt));
                    expect(rebuilt).to.deep.equal(t.cur, "struct rebuilt from a relayed ResultSubmitted");
                }
            }
            return settle(model, m, final, ex);
        }
        case "challenge": {
            const now = BigInt(await time.latest());
            const t = pick(m, a.sel, Status.Submitted, (x) => x.cur.challengeEndsAt > now + 1n);
            if (t === null) return { model, obs: null };
            const s = versionOf(env, t, a.version);
            const r = t.cur;
            const challenger = env.challengers[a.challenger % env.challengers.length]!;
            await ensureCommitted(env, t.id, challenger);
            await resolver.preset(a.decideNow, verdictStruct(a.verdict));
            const ts = await nextTimestamp(a.wait === null ? undefined : r.challengeEndsAt + BigInt(a.wait));
            let outcome: Outcome;
            if (!matches(t, s)) outcome = reverts(coordinator, "CoordinatorUnknownRequest", t.id);
            else if (s.status !== BigInt(Status.Submitted)) {
                outcome = reverts(coordinator, "CoordinatorWrongStatus", t.id, s.status, Status.Submitted);
            } else if (ts >= r.challengeEndsAt) {
                outcome = reverts(coordinator, "CoordinatorChallengeWindowClosed", ts, r.challengeEndsAt);
            } else if (a.decideNow && verdictInvalid(a.verdict)) {
                outcome = reverts(coordinator, "CoordinatorInvalidResultCode", a.verdict.code, RESERVED_FROM - 1n);
            } else {
                const bond = r.bondWei;
                t.cur = { ...r, status: BigInt(Status.Disputed) };
                t.versions.push(t.cur);
                t.dispute = { challenger, bondWei: bond, openedAt: ts };
                const events: ExpectedEvent[] = [["ResultChallenged", t.id, challenger, env.resolver, bond]];
                if (a.decideNow) applyVerdictModel(m, t, a.verdict, ts, events);
                outcome = { ok: true, events };
            }
            const ex = await execute(
                env,
                model,
                ts,
                () => coordinator.connect(signerOf(env, challenger)).challenge(s, EVIDENCE, SALT, TX),
                outcome,
            );
            if (ex.receipt !== null && t.terminal === null) {
                const rebuilt = toReq(applyEvents(s, ex.receipt));
                expect(rebuilt).to.deep.equal(t.cur, "struct rebuilt from the challenge's events");
            }
            return settle(model, m, outcome, ex);
        }
        case "decide": {
            const t = pick(m, a.sel, Status.Disputed);
            if (t === null) return { model, obs: null };
            const s = versionOf(env, t, a.version);
            const ts = await nextTimestamp();
            let outcome: Outcome;
            if (!matches(t, s)) outcome = reverts(coordinator, "CoordinatorUnknownRequest", t.id);
            else if (s.status !== BigInt(Status.Disputed)) {
                outcome = reverts(coordinator, "CoordinatorWrongStatus", t.id, s.status, Status.Disputed);
            } else if (a.direct) {
                outcome = reverts(coordinator, "CoordinatorNotResolver", env.stranger, env.resolver);
            } else if (ts >= t.dispute!.openedAt + BigInt(DISPUTE_TIMEOUT)) {
                // Too late: the dispute can only be expired now (a verdict could restart past settlementBound).
                const expiresAt = t.dispute!.openedAt + BigInt(DISPUTE_TIMEOUT);
                outcome = reverts(coordinator, "CoordinatorDisputeTimedOut", ts, expiresAt);
            } else if (verdictInvalid(a.verdict)) {
                outcome = reverts(coordinator, "CoordinatorInvalidResultCode", a.verdict.code, RESERVED_FROM - 1n);
            } else {
                const events: ExpectedEvent[] = [];
                applyVerdictModel(m, t, a.verdict, ts, events);
                outcome = { ok: true, events };
            }
            const verdict = verdictStruct(a.verdict);
            const send = a.direct
                ? () => coordinator.connect(env.d.stranger).resolveDispute(s, verdict, TX)
                : () => resolver.decide(s, verdict, TX);
            const ex = await execute(env, model, ts, send, outcome);
            if (ex.receipt !== null && t.terminal === null) {
                const rebuilt = toReq(applyEvents(s, ex.receipt));
                expect(rebuilt).to.deep.equal(t.cur, "struct rebuilt from ChallengeWindowRestarted");
            }
            return settle(model, m, outcome, ex);
        }
        case "finalize": {
            const t = pick(m, a.sel, Status.Submitted);
            if (t === null) return { model, obs: null };
            const s = versionOf(env, t, a.version);
            const r = t.cur;
            const stored = t.output ?? OUTPUT;
            const bytes = a.wrongBytes ? otherOutput(stored) : stored;
            const target = a.wait !== null && r.challengeEndsAt > 0n ? r.challengeEndsAt + BigInt(a.wait) : undefined;
            const ts = await nextTimestamp(target);
            let outcome: Outcome;
            const hash = ethers.keccak256(bytes).toLowerCase();
            if (!matches(t, s)) outcome = reverts(coordinator, "CoordinatorUnknownRequest", t.id);
            else if (s.status !== BigInt(Status.Submitted)) {
                outcome = reverts(coordinator, "CoordinatorWrongStatus", t.id, s.status, Status.Submitted);
            } else if (ts < r.challengeEndsAt) {
                outcome = reverts(coordinator, "CoordinatorChallengeWindowOpen", ts, r.challengeEndsAt);
            } else if (hash !== r.outputHash) {
                outcome = reverts(coordinator, "CoordinatorOutputMismatch", hash, r.outputHash);
            } else {
                const events: ExpectedEvent[] = [];
                finalizeModel(m, t, events);
                outcome = { ok: true, events };
            }
            const ex = await execute(
                env,
                model,
                ts,
                () => coordinator.connect(env.d.stranger).finalize(s, bytes, TX),
                outcome,
            );
            return settle(model, m, outcome, ex);
        }
        case "finalizeBatch": {
            const items: { t: Tracked; s: Req; bytes: Uint8Array }[] = [];
            for (const it of a.items) {
                const t = pick(m, it.sel, Status.Submitted);
                if (t === null) continue;
                const stored = t.output ?? OUTPUT;
                items.push({
                    t,
                    s: versionOf(env, t, it.version),
                    bytes: it.wrongBytes ? otherOutput(stored) : stored,
                });
            }
            if (items.length === 0) return { model, obs: null };
            const ends = items
                .filter(({ t, s }) => matches(t, s) && s.status === BigInt(Status.Submitted))
                .map(({ t }) => t.cur.challengeEndsAt);
            const ts = await nextTimestamp(a.wait && ends.length > 0 ? ends.reduce(maxBig) : undefined);
            let outcome: Outcome | null = null;
            const events: ExpectedEvent[] = [];
            for (const { t, s, bytes } of items) {
                const r = t.cur;
                const hash = ethers.keccak256(bytes).toLowerCase();
                if (!matches(t, s)) {
                    events.push(["BatchItemSkipped", t.id]);
                    continue;
                }
                if (s.status !== BigInt(Status.Submitted)) {
                    outcome = reverts(coordinator, "CoordinatorWrongStatus", t.id, s.status, Status.Submitted);
                } else if (ts < r.challengeEndsAt) {
                    outcome = reverts(coordinator, "CoordinatorChallengeWindowOpen", ts, r.challengeEndsAt);
                } else if (hash !== r.outputHash) {
                    outcome = reverts(coordinator, "CoordinatorOutputMismatch", hash, r.outputHash);
                }
                if (outcome !== null) break;
                finalizeModel(m, t, events);
            }
            const final: Outcome = outcome ?? { ok: true, events };
            const ex = await execute(
                env,
                model,
                ts,
                () =>
                    coordinator.connect(env.d.stranger).finalizeBatch(
                        items.map(({ s, bytes }) => ({ request: s, output: bytes })),
                        TX,
                    ),
                final,
            );
            return settle(model, m, final, ex);
        }
        case "cancel": {
            const t = pick(m, a.sel, Status.Requested);
            if (t === null) return { model, obs: null };
            const s = versionOf(env, t, a.version);
            const r = t.cur;
            const ts = await nextTimestamp(a.wait === null ? undefined : r.deadline + BigInt(a.wait));
            let outcome: Outcome;
            if (!matches(t, s)) outcome = reverts(coordinator, "CoordinatorUnknownRequest", t.id);
            else if (s.status !== BigInt(Status.Requested)) {
                outcome = reverts(coordinator, "CoordinatorWrongStatus", t.id, s.status, Status.Requested);
            } else if (!a.viaConsumer) {
                outcome = reverts(coordinator, "CoordinatorNotConsumer", env.stranger, r.consumer);
            } else if (ts <= r.deadline) {
                outcome = reverts(coordinator, "CoordinatorDeadlineNotPassed", ts, r.deadline);
            } else {
                credit(m, r.consumer, r.feeWei);
                t.terminal = "cancelled";
                outcome = { ok: true, events: [["RequestCancelled", t.id, r.consumer, r.feeWei]] };
            }
            const send = a.viaConsumer
                ? () => env.d.consumers[t.consumer]!.cancel(s, TX)
                : () => coordinator.connect(env.d.stranger).cancelRequest(s, TX);
            const ex = await execute(env, model, ts, send, outcome);
            return settle(model, m, outcome, ex);
        }
        case "expire": {
            const t = pick(m, a.sel, Status.Disputed);
            if (t === null) return { model, obs: null };
            const s = versionOf(env, t, a.version);
            const r = t.cur;
            const expiresAt = t.dispute === null ? 0n : t.dispute.openedAt + BigInt(DISPUTE_TIMEOUT);
            const ts = await nextTimestamp(
                a.wait === null || t.dispute === null ? undefined : expiresAt + BigInt(a.wait),
            );
            let outcome: Outcome;
            if (!matches(t, s)) outcome = reverts(coordinator, "CoordinatorUnknownRequest", t.id);
            else if (s.status !== BigInt(Status.Disputed)) {
                outcome = reverts(coordinator, "CoordinatorWrongStatus", t.id, s.status, Status.Disputed);
            } else if (ts < expiresAt) {
                outcome = reverts(coordinator, "CoordinatorDisputeNotExpired", ts, expiresAt);
            } else {
                const dispute = t.dispute!;
                m.stakes[r.operator]!.locked -= r.collateralWei;
                credit(m, dispute.challenger, dispute.bondWei);
                credit(m, r.consumer, r.feeWei);
                t.dispute = null;
                t.terminal = "expired";
                const ok = deliver(m, t, VOIDED, "0x");
                outcome = {
                    ok: true,
                    events: [
                        ["DisputeExpired", t.id, dispute.challenger],
                        ["ResultDelivered", t.id, VOIDED, ok, ANY],
                    ],
                };
            }
            const ex = await execute(
                env,
                model,
                ts,
                () => coordinator.connect(env.d.stranger).expireDispute(s, TX),
                outcome,
            );
            return settle(model, m, outcome, ex);
        }
        case "replay": {
            const dead = m.requests.filter((t) => t.terminal !== null);
            if (dead.length === 0) return { model, obs: null };
            const t = dead[a.i % dead.length]!;
            const s = t.versions[a.version % t.versions.length]!;
            const op = assignedSigner(env, m, t);
            await ensureCommitted(env, t.id, env.challengers[0]!);
            const sends = [
                () => coordinator.connect(env.d.stranger).finalize(s, t.output ?? OUTPUT, TX),
                () => coordinator.connect(env.d.stranger).cancelRequest(s, TX),
                () => coordinator.connect(env.d.challengers[0]!).challenge(s, EVIDENCE, SALT, TX),
                () => coordinator.connect(env.d.stranger).expireDispute(s, TX),
                () => coordinator.connect(op).submitResult(s, 0, OUTPUT, ethers.ZeroHash, TX),
                () =>
                    resolver.decide(s, verdictStruct({ atFault: true, conclusive: true, deliver: false, code: 0 }), TX),
            ];
            const ts = await nextTimestamp();
            if (a.op % (sends.length + 1) === sends.length) {
                // Relayed again by attestation: skipped, never applied.
                const { signature } = await signAttestation(
                    env,
                    "main",
                    await op.getAddress(),
                    attestationFor(s, 0n, OUTPUT),
                );
                const item = { request: s, resultCode: 0, output: OUTPUT, traceCommitment: ethers.ZeroHash, signature };
                const skipped: Outcome = { ok: true, events: [["BatchItemSkipped", t.id]] };
                const send = () => coordinator.connect(env.d.stranger).submitAttestedResults([item], TX);
                return settle(model, m, skipped, await execute(env, model, ts, send, skipped));
            }
            const outcome = reverts(coordinator, "CoordinatorUnknownRequest", t.id);
            const ex = await execute(env, model, ts, sends[a.op % (sends.length + 1)]!, outcome);
            return settle(model, m, outcome, ex);
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// The property
// ---------------------------------------------------------------------------------------------------------------

/** Outcome counts of the generated runs (not of shrinking), printed after the test. */
const stats = new Map<string, number>();
let shrinking = false;
function count(key: string): void {
    if (!shrinking) stats.set(key, (stats.get(key) ?? 0) + 1);
}

/** Counts who sent an owner-gated call to the coordinator, as ownership stood then (FUZZ_STATS=1 prints it). */
function countCaller(env: Env, m: Model, kind: string, sender: string): void {
    const { owner, pendingOwner } = m.admin;
    const role =
        sender === owner
            ? owner === env.admin
                ? "the deployer, owner"
                : "a new owner"
            : sender === pendingOwner
              ? "the pending owner"
              : sender === env.admin
                ? "the deployer, owner no more"
                : "another account";
    count(`caller: ${kind} by ${role}`);
}

async function runSequence(badBehaviour: number, actions: Action[]): Promise<void> {
    const d = await loadFixture(deployFuzzFixture);
    await d.consumers[1]!.setBehaviour(badBehaviour);
    const env = await makeEnv(d);
    let model = initialModel(env);
    await checkInvariants(env, model, null);
    for (const [i, action] of actions.entries()) {
        env.log.push(`#${i} ${fc.stringify(action)}`);
        env.observeSettings = SETTINGS_KINDS.has(action.kind);
        try {
            const settledBefore = new Set(model.requests.filter((t) => t.terminal !== null).map((t) => t.id));
            const result = await step(env, model, action);
            model = result.model;
            await checkInvariants(env, model, result.obs);
            for (const t of model.requests) {
                if (t.terminal !== null && !settledBefore.has(t.id)) {
                    await checkSettledIsDead(env, model, t);
                    count(`settled:${t.terminal}`);
                }
            }
            const last = env.log[env.log.length - 1]!;
            const txOutcome = last.startsWith("    -> ") ? last.slice(7).split("(")[0]!.split(" [")[0]! : "no tx";
            count(`${action.kind}: ${txOutcome}`);
        } catch (error) {
            shrinking = true;
            const message = error instanceof Error ? error.message : String(error);
            throw new Error(
                `step #${i} (${action.kind}) failed: ${message}\nbad consumer behaviour: ${badBehaviour}\n` +
                    `steps:\n${env.log.join("\n")}`,
                { cause: error },
            );
        }
    }
    if (process.env.FUZZ_TRACE === "1") console.log(env.log.join("\n"));
}

describe("InferenceCoordinator: invariants under random action sequences (fuzz)", function () {
    after(function () {
        const lines = [...stats.entries()].sort(([a], [b]) => a.localeCompare(b));
        if (process.env.FUZZ_STATS === "1") {
            console.log(`      outcome counts:\n${lines.map(([k, v]) => `        ${k}: ${v}`).join("\n")}`);
        }
        const settled = lines.filter(([k]) => k.startsWith("settled:")).map(([k, v]) => `${k.slice(8)} ${v}`);
        const steps = lines
            .filter(([k]) => !k.startsWith("settled:") && !k.startsWith("caller:"))
            .reduce((n, [, v]) => n + v, 0);
        console.log(`      ${FUZZ_RUNS} runs, ${steps} steps; requests settled: ${settled.join(", ")}`);
    });

    it("conserves tokens, locks exactly the in-flight collateral, and settles each request once", async function () {
        this.timeout(60 * 60_000);
        await fc.assert(
            fc.asyncProperty(
                fc.constantFrom(1, 2), // TestConsumer.Behaviour.Revert or BurnGas for the second consumer
                fc.array(actionArb, { minLength: 1, maxLength: MAX_ACTIONS, size: "max" }),
                (badBehaviour, actions) => runSequence(badBehaviour, actions),
            ),
            {
                numRuns: FUZZ_RUNS,
                seed: FUZZ_SEED,
                path: FUZZ_PATH,
                unbiased: true,
                endOnFailure: process.env.FUZZ_NO_SHRINK === "1",
            },
        );
    });
});
