/**
 * The lifecycle of contracts/test/GasFloor.sol, measured as bench/gas.ts measures the coordinator's: the same
 * workload (4 int8 inputs, 3 int32 outputs, callback gas limit 50,000, a consumer contract that forwards the
 * request and stores one word in its callback), steady state, median of 5 runs, the callback's own gas excluded.
 *
 * GasFloor does only what every design keeping Verity's guarantees pays for (storage, cold accounts, logs,
 * calldata and the cheap checks), laid out as cheaply as we know how, so its figure is a floor for the
 * coordinator's, not a competitor: see docs/protocol.md ("Gas").
 */
import { ethers } from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import type { ContractTransactionReceipt, ContractTransactionResponse, Signer } from "ethers";
import type { GasFloor, GasFloorConsumer } from "../typechain-types";

const TOKEN = 10n ** 18n;
const CALLBACK_GAS_LIMIT = 50_000;

/** The packed request GasFloor commits to (its `Packed` struct), rebuilt from its events. */
export interface Packed {
    requestId: bigint;
    modelId: string;
    inputHash: string;
    outputHash: string;
    traceCommitment: string;
    consumerFee: bigint;
    assignedCollateral: bigint;
    operatorBond: bigint;
    times: bigint;
    protocolFee: bigint;
}

/** A transaction of the last run: its calldata and receipt (for bench/gas.ts's breakdown). */
export interface FloorTransaction {
    data: string;
    receipt: ContractTransactionReceipt;
}

export interface FloorResult {
    request: number;
    submit: number;
    finalize: number;
    callback: number;
    lifecycleExCallback: number;
    last: { request: FloorTransaction; submit: FloorTransaction; finalize: FloorTransaction };
}

const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;

/** GasFloor and its consumer, one active model, `stakes` staked and registered, the consumer funded. */
export async function deployGasFloor(
    stakes: readonly (readonly [Signer, bigint])[],
): Promise<{ floor: GasFloor; consumer: GasFloorConsumer; modelId: string }> {
    const floor = (await ethers.deployContract("GasFloor")) as unknown as GasFloor;
    const consumer = (await ethers.deployContract("GasFloorConsumer", [
        await floor.getAddress(),
    ])) as unknown as GasFloorConsumer;
    const modelId = ethers.id("gas floor model");
    // Params, from the low bits: callbackGasFeeWei 1 gwei, maxCallbackGasLimit 2.5M, exclusive window 300 s, bond 10%.
    const params = (10n ** 9n) | (2_500_000n << 64n) | (300n << 96n) | (1_000n << 128n);
    // Terms, from the low bits: fee 0.01 token, collateral 10 tokens, window 600 s, mode 0, active.
    const terms = (TOKEN / 100n) | ((10n * TOKEN) << 96n) | (600n << 192n) | (1n << 232n);
    await floor.setUp(params, modelId, terms);
    for (const [op, amount] of stakes) await floor.connect(op).stakeAndRegister(modelId, amount);
    await floor.deposit(await consumer.getAddress(), 100_000n * TOKEN);
    return { floor, consumer, modelId };
}

export async function measureGasFloor(input: Uint8Array, output: Uint8Array): Promise<FloorResult> {
    const operators = (await ethers.getSigners()).slice(1, 4);
    const { floor, consumer, modelId } = await deployGasFloor(operators.map((op) => [op, 100_000n * TOKEN] as const));
    const byAddress = new Map(await Promise.all(operators.map(async (op) => [await op.getAddress(), op] as const)));

    async function sent(tx: ContractTransactionResponse): Promise<FloorTransaction> {
        const receipt = await tx.wait();
        if (receipt === null) throw new Error("GasFloor: no receipt");
        return { data: tx.data, receipt };
    }

    async function lifecycle(): Promise<FloorResult["last"] & { callback: number }> {
        const deadline = (await time.latest()) + 3_600;
        const request = await sent(await consumer.request(modelId, input, CALLBACK_GAS_LIMIT, deadline));
        const packed = requestedFrom(floor, request.receipt, input);
        const assigned = ethers.getAddress(ethers.toBeHex(packed.assignedCollateral >> 96n, 20));
        const operator = byAddress.get(assigned) ?? operators[0]!;
        const submit = await sent(await floor.connect(operator).submit(packed, 0, output));
        const times = submittedTimes(floor, submit.receipt);
        const operatorWord = (BigInt(await operator.getAddress()) << 96n) | (packed.operatorBond & ((1n << 96n) - 1n));
        const after = { ...packed, outputHash: ethers.keccak256(output), operatorBond: operatorWord, times };
        await time.increaseTo(Number((times >> 80n) & ((1n << 40n) - 1n)));
        const finalize = await sent(await floor.finalize(after, output));
        const event = finalize.receipt.logs
            .map((l) => floor.interface.parseLog(l))
            .find((e) => e?.name === "Finalized");
        if (event?.args.callbackSucceeded !== true) throw new Error("GasFloor: the callback did not succeed");
        return { request, submit, finalize, callback: Number(event.args.callbackGasUsed) };
    }

    for (let i = 0; i < 6; i++) await lifecycle();
    const runs = [];
    for (let i = 0; i < 5; i++) runs.push(await lifecycle());
    const gas = (t: FloorTransaction): number => Number(t.receipt.gasUsed);
    const request = median(runs.map((r) => gas(r.request)));
    const submit = median(runs.map((r) => gas(r.submit)));
    const finalize = median(runs.map((r) => gas(r.finalize)));
    const callback = median(runs.map((r) => r.callback));
    const last = runs[runs.length - 1]!;
    return {
        request,
        submit,
        finalize,
        callback,
        lifecycleExCallback: request + submit + finalize - callback,
        last: { request: last.request, submit: last.submit, finalize: last.finalize },
    };
}

/** The packed request a Requested event of `receipt` announces (for `input`, whose hash the struct holds). */
export function requestedFrom(floor: GasFloor, receipt: ContractTransactionReceipt, input: Uint8Array): Packed {
    const event = receipt.logs.map((l) => floor.interface.parseLog(l)).find((e) => e?.name === "Requested");
    if (event === undefined || event === null) throw new Error("GasFloor: no Requested event");
    const terms = event.args.terms as bigint[];
    return {
        requestId: event.args.requestId as bigint,
        modelId: event.args.modelId as string,
        inputHash: ethers.keccak256(input),
        outputHash: ethers.ZeroHash,
        traceCommitment: ethers.ZeroHash,
        consumerFee: terms[0]!,
        assignedCollateral: terms[1]!,
        operatorBond: terms[2]!,
        times: terms[3]!,
        protocolFee: 0n,
    };
}

function submittedTimes(floor: GasFloor, receipt: ContractTransactionReceipt): bigint {
    const event = receipt.logs.map((l) => floor.interface.parseLog(l)).find((e) => e?.name === "Submitted");
    if (event === undefined || event === null) throw new Error("GasFloor: no Submitted event");
    return event.args.times as bigint;
}
