/**
 * Gas benchmark of the protocol's hot paths on the in-process hardhat network.
 *
 * Writes bench/results/gas.json (labelled figures, committed as a snapshot) and bench/results/gas.md.
 * Every figure is `gasUsed` from a transaction receipt, in steady state (accounts, operator stakes and the
 * consumer's storage already warm from earlier requests), measured on a request with 4 int8 inputs and
 * 3 int32 outputs. "excluding callback" subtracts the gas the consumer's callback itself used, as reported
 * by the coordinator's ResultFinalized event.
 *
 * Run: npm run bench:gas
 *
 * Environment (bench/options.ts):
 * - VERITY_BENCH_OUT=<dir>: write gas.json and gas.md to <dir> (created if missing) instead of bench/results/.
 * - VERITY_BENCH_QUICK=1: a smoke run of a few seconds (QUICK_SCOPE): batch sizes 1 and 2 instead of 1, 8 and 32,
 *   so the batch target (at 32) is not measured; every other figure is measured as in a full run, under the same
 *   labels. The results say "quick"; refused without VERITY_BENCH_OUT.
 */
import hre, { ethers } from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ContractTransactionResponse } from "ethers";
import { benchOptions, quickFields, quickLines } from "./options";
import {
    DEFAULT_PARAMS,
    INPUT,
    OUTPUT,
    NO_FEE_LIMIT,
    TOKEN,
    applyEvents,
    assignedSigner,
    attestationOf,
    deployCore,
    fund,
    registerModel,
    requestsFrom,
    signAttestation,
    stakeOperators,
    type Deployment,
    type Request,
} from "../test/helpers/verity";
import type { BenchConsumer } from "../typechain-types";
import { DType, encodeTensors } from "../oracle/src/protocol/tensorCodec";
import { challengeCommitment, newChallengeSalt } from "../oracle/src/chain/coordinator";

const OPTIONS = benchOptions("gas");
const QUICK_SCOPE = "batch sizes 1 and 2 only, so the batch target at 32 is not measured";
const CALLBACK_GAS_LIMIT = 50_000;
const BATCH_SIZES: readonly number[] = OPTIONS.quick ? [1, 2] : [1, 8, 32];
const TARGET_LIFECYCLE = 150_000;
const TARGET_BATCH_32 = 60_000;

/** Where a transaction's gas goes: intrinsic, calldata (EIP-2028 prices), logs, and the rest (execution). */
export interface Breakdown {
    label: string;
    total: number;
    intrinsic: number;
    calldata: number;
    logs: number;
    execution: number;
}

function breakdownOf(
    label: string,
    data: string,
    receipt: { gasUsed: bigint; logs: readonly { data: string; topics: readonly string[] }[] },
): Breakdown {
    let calldata = 0;
    for (const byte of ethers.getBytes(data)) calldata += byte === 0 ? 4 : 16;
    let logs = 0;
    for (const log of receipt.logs) logs += 375 + 375 * log.topics.length + 8 * ethers.getBytes(log.data).length;
    const total = Number(receipt.gasUsed);
    return { label, total, intrinsic: 21_000, calldata, logs, execution: total - 21_000 - calldata - logs };
}

export interface Figure {
    label: string;
    gas: number;
    note?: string;
}

type Receipt = NonNullable<Awaited<ReturnType<ContractTransactionResponse["wait"]>>>;

/** Sends a transaction and returns its gas, receipt and calldata. */
async function gasOf(
    sent: Promise<ContractTransactionResponse>,
): Promise<{ gas: number; receipt: Receipt; data: string }> {
    const tx = await sent;
    const receipt = await tx.wait();
    if (receipt === null) throw new Error("no receipt");
    return { gas: Number(receipt.gasUsed), receipt, data: tx.data };
}

async function main(): Promise<void> {
    // Protocol fee off, as in a default deployment: a non-zero fee adds one balance write per finalization.
    const core = await deployCore({ ...DEFAULT_PARAMS, protocolFeeBps: 0 });
    const modelId = await registerModel(core.registry, core.publisher);
    await stakeOperators(core, modelId, 100_000n * TOKEN);
    const consumer = (await ethers.deployContract("BenchConsumer", [
        await core.coordinator.getAddress(),
    ])) as unknown as BenchConsumer;
    await fund(core, await consumer.getAddress(), 100_000n * TOKEN);
    const d: Deployment = { ...core, modelId };
    const { coordinator } = d;

    async function request(): Promise<{ request: Request; gas: number; receipt: Receipt; data: string }> {
        const deadline = (await time.latest()) + 3_600;
        const sent = await gasOf(
            consumer.request(modelId, INPUT, {
                callbackGasLimit: CALLBACK_GAS_LIMIT,
                deadline,
                preferredOperator: ethers.ZeroAddress,
                maxFeeWei: NO_FEE_LIMIT,
            }),
        );
        const [r] = requestsFrom(sent.receipt);
        if (r === undefined) throw new Error("no request");
        return { request: r, ...sent };
    }

    async function submit(r: Request): Promise<{ request: Request; gas: number; receipt: Receipt; data: string }> {
        const operator = await assignedSigner(d, r);
        const sent = await gasOf(coordinator.connect(operator).submitResult(r, 0, OUTPUT, ethers.ZeroHash));
        return { request: applyEvents(r, sent.receipt), ...sent };
    }

    function callbackGasOf(receipt: Receipt): number {
        let used = 0;
        for (const log of receipt.logs) {
            const parsed = coordinator.interface.parseLog(log);
            if (parsed?.name === "ResultFinalized") used += Number(parsed.args.callbackGasUsed);
        }
        return used;
    }

    // Warm up: first request of the consumer, first fee credit of each operator, first callback write.
    for (let i = 0; i < 6; i++) {
        const { request: r } = await request();
        const { request: s } = await submit(r);
        await time.increaseTo(Number(s.challengeEndsAt));
        await coordinator.finalize(s, OUTPUT);
    }

    // Steady-state single lifecycle, median over several runs.
    const samples = {
        request: [] as number[],
        submit: [] as number[],
        finalize: [] as number[],
        callback: [] as number[],
    };
    const breakdowns: Breakdown[] = [];
    for (let i = 0; i < 5; i++) {
        const a = await request();
        const b = await submit(a.request);
        await time.increaseTo(Number(b.request.challengeEndsAt));
        const f = await gasOf(coordinator.finalize(b.request, OUTPUT));
        samples.request.push(a.gas);
        samples.submit.push(b.gas);
        samples.finalize.push(f.gas);
        samples.callback.push(callbackGasOf(f.receipt));
        if (i === 4) {
            breakdowns.push(
                breakdownOf("request", a.data, a.receipt),
                breakdownOf("submit", b.data, b.receipt),
                breakdownOf("finalize", f.data, f.receipt),
            );
        }
    }
    const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
    const requestGas = median(samples.request);
    const submitGas = median(samples.submit);
    const finalizeGas = median(samples.finalize);
    const callbackGas = median(samples.callback);

    // Cancel after the deadline.
    const toCancel = await request();
    await time.increaseTo(Number(toCancel.request.deadline) + 1);
    const cancelGas = (await gasOf(consumer.cancel(toCancel.request))).gas;

    // Challenge, commit-reveal: the commitment, then its reveal in a later block (bond transfer + resolver notified;
    // the test resolver leaves the dispute open).
    const toChallenge = await submit((await request()).request);
    const challenger = d.challenger;
    const bond = BigInt(toChallenge.request.bondWei);
    await d.token.mint(await challenger.getAddress(), bond * 10n);
    await d.token.connect(challenger).approve(await coordinator.getAddress(), bond * 10n);
    const salt = newChallengeSalt();
    const commitment = challengeCommitment(BigInt(toChallenge.request.requestId), await challenger.getAddress(), salt);
    const commitGas = (await gasOf(coordinator.connect(challenger).commitChallenge(commitment))).gas;
    const revealGas = (await gasOf(coordinator.connect(challenger).challenge(toChallenge.request, "0x", salt))).gas;

    // Batches: attested submission and finalization, amortized per result.
    const batch: { size: number; submitPerResult: number; finalizePerResult: number }[] = [];
    for (const size of BATCH_SIZES) {
        const requests: Request[] = [];
        for (let i = 0; i < size; i++) requests.push((await request()).request);
        const items = [];
        for (const r of requests) {
            const signature = await signAttestation(await assignedSigner(d, r), coordinator, attestationOf(r, OUTPUT));
            items.push({ request: r, resultCode: 0, output: OUTPUT, traceCommitment: ethers.ZeroHash, signature });
        }
        const s = await gasOf(coordinator.connect(d.others[0]!).submitAttestedResults(items, { gasLimit: 29_000_000 }));
        const submitted = requests.map((r) => applyEvents(r, s.receipt));
        await time.increaseTo(Math.max(...submitted.map((r) => Number(r.challengeEndsAt))));
        const f = await gasOf(
            coordinator.finalizeBatch(
                submitted.map((r) => ({ request: r, output: OUTPUT })),
                { gasLimit: 29_000_000 },
            ),
        );
        batch.push({
            size,
            submitPerResult: Math.round(s.gas / size),
            finalizePerResult: Math.round((f.gas - callbackGasOf(f.receipt)) / size),
        });
    }

    // The consumer-side tensor library: the library call alone, measured with gasleft() in the harness.
    const harness = await ethers.deployContract("TensorsHarness");
    const threeInt32 = encodeTensors([{ dtype: DType.INT32, shape: [1, 3], data: [-5000n, 123456n, 7n] }]);
    const [, validateGas] = await harness.measureValidate(threeInt32);
    const [, elementAtGas] = await harness.measureElementAt(threeInt32, 0, 2);

    const lifecycle = requestGas + submitGas + finalizeGas;
    const lifecycleExCallback = lifecycle - callbackGas;
    // Undefined in a quick run only (no batch of 32): its target is then left out of the JSON.
    const b32 = batch.find((b) => b.size === 32);
    const batchTarget =
        b32 === undefined
            ? undefined
            : { target: TARGET_BATCH_32, measured: b32.submitPerResult, met: b32.submitPerResult <= TARGET_BATCH_32 };
    const figures: Figure[] = [
        { label: "request", gas: requestGas, note: "via a consumer contract that forwards the call" },
        { label: "submit", gas: submitGas },
        { label: "finalize (with callback storing one word)", gas: finalizeGas },
        { label: "callback itself (consumer's work)", gas: callbackGas },
        { label: "cancel after deadline", gas: cancelGas, note: "by the consumer contract" },
        { label: "challenge: commit", gas: commitGas, note: "commitChallenge" },
        { label: "challenge: reveal (bond + resolver notified)", gas: revealGas, note: "challenge" },
        { label: "challenge: commit + reveal", gas: commitGas + revealGas },
        { label: "lifecycle request + submit + finalize", gas: lifecycle },
        { label: "lifecycle excluding the callback's own work", gas: lifecycleExCallback },
        { label: "Tensors.validate, one int32[1,3] tensor (library call only)", gas: Number(validateGas) },
        { label: "Tensors.elementAt, last element of int32[1,3] (library call only)", gas: Number(elementAtGas) },
        ...batch.flatMap((b) => [
            { label: `batch submit per result (n=${b.size})`, gas: b.submitPerResult },
            { label: `batch finalize per result, excluding callback (n=${b.size})`, gas: b.finalizePerResult },
        ]),
    ];
    const result = {
        ...quickFields(OPTIONS, QUICK_SCOPE),
        generatedBy: "npm run bench:gas",
        network: `hardhat (in-process), hardfork cancun, solc 0.8.28 (coordinator optimizer runs ${coordinatorRuns()})`,
        workload: "4 int8 inputs, 3 int32 outputs, callback gas limit 50,000, protocol fee 0",
        targets: {
            lifecycleExcludingCallback: {
                target: TARGET_LIFECYCLE,
                measured: lifecycleExCallback,
                met: lifecycleExCallback <= TARGET_LIFECYCLE,
            },
            ...(batchTarget === undefined ? {} : { batchSubmitPerResultAt32: batchTarget }),
        },
        figures,
        batch,
        breakdown: breakdowns,
    };
    mkdirSync(OPTIONS.outDir, { recursive: true });
    writeFileSync(join(OPTIONS.outDir, "gas.json"), JSON.stringify(result, null, 2) + "\n");

    const lines = [
        "# Gas (bench/gas.ts)",
        "",
        ...quickLines(OPTIONS, QUICK_SCOPE),
        `Workload: ${result.workload}. ${result.network}. Steady state, median of 5 runs. Regenerate with \`npm run bench:gas\`.`,
        "",
        "| operation | gas |",
        "| --- | ---: |",
        ...figures.map((f) => `| ${f.label}${f.note ? ` (${f.note})` : ""} | ${f.gas.toLocaleString("en-US")} |`),
        "",
        "| batch size | attested submit, per result | finalize, per result (excl. callback) |",
        "| ---: | ---: | ---: |",
        ...batch.map(
            (b) =>
                `| ${b.size} | ${b.submitPerResult.toLocaleString("en-US")} | ${b.finalizePerResult.toLocaleString("en-US")} |`,
        ),
        "",
        "Where the gas of one lifecycle goes (last steady-state run; logs at 375 + 375/topic + 8/byte, calldata at",
        "EIP-2028 prices, execution is the rest, net of the storage refund):",
        "",
        "| transaction | total | intrinsic | calldata | logs | execution |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
        ...breakdowns.map(
            (b) =>
                `| ${b.label} | ${[b.total, b.intrinsic, b.calldata, b.logs, b.execution].map((n) => n.toLocaleString("en-US")).join(" | ")} |`,
        ),
        "",
        "| target | measured | met |",
        "| --- | ---: | --- |",
        `| lifecycle excl. callback ≤ ${TARGET_LIFECYCLE.toLocaleString("en-US")} | ${lifecycleExCallback.toLocaleString("en-US")} | ${result.targets.lifecycleExcludingCallback.met ? "yes" : "no"} |`,
        `| batch submit per result at 32 ≤ ${TARGET_BATCH_32.toLocaleString("en-US")} | ` +
            (batchTarget === undefined
                ? "not measured (quick run) | n/a |"
                : `${batchTarget.measured.toLocaleString("en-US")} | ${batchTarget.met ? "yes" : "no"} |`),
        "",
    ];
    writeFileSync(join(OPTIONS.outDir, "gas.md"), lines.join("\n"));
    console.log(lines.join("\n"));
}

main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
});

/** The optimizer runs the coordinator is compiled with (the config's override for it, else the default). */
function coordinatorRuns(): string {
    const solidity = hre.config.solidity;
    const settings = (solidity.overrides["contracts/InferenceCoordinator.sol"] ?? solidity.compilers[0])?.settings as
        { optimizer?: { runs?: number } } | undefined;
    return (settings?.optimizer?.runs ?? 200).toLocaleString("en-US");
}
