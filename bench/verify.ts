/**
 * Gas benchmark of on-chain re-execution: IntegerExecutor running integer MLPs of the verifiable subset
 * (models/examples.ts `integerMlpModel`, batch 1), from tiny to the largest square MLP [w, w, w, 10] whose
 * re-execution fits in one 30M-gas block.
 *
 * Writes bench/results/verify.json and bench/results/verify.md. For each model:
 * - `txGas`: gasUsed of a real transaction calling `IntegerExecutor.execute(program, input)` directly, i.e. 21,000
 *   intrinsic + the calldata (the program's bytes, 16 gas per non-zero byte) + the execution. This is the figure
 *   "fits in 30M" is decided on.
 * - `executionGas`: the execution alone, measured by ExecutorHarness.measure (gasleft() around the call, including
 *   its 2,600-gas cold account access).
 * - The ProgramStore path, as a dispute pays it: `directLoadGas` (chunks copied by EXTCODECOPY straight into the
 *   executor call's calldata, ExecutorHarness.measureStoredDirect: what ReexecutionResolver does) and, for
 *   comparison, `loadGas` (the naive way: `store.load(hash)` then an encoded `executor.execute(program, input)`,
 *   ExecutorHarness.measureStored). The execution is the same call as above.
 * - `storeGas`: writing the program's chunks and registering it (one-time, per program).
 *
 * The in-process hardhat network's block gas limit is raised for this process only (evm_setBlockGasLimit), so that
 * models above 30M gas can be measured too; hardhat.config.ts is unchanged.
 *
 * Run: npx hardhat run bench/verify.ts
 *
 * Environment (bench/options.ts):
 * - VERITY_BENCH_OUT=<dir>: write verify.json and verify.md to <dir> (created if missing) instead of bench/results/.
 * - VERITY_BENCH_QUICK=1: a smoke run of seconds (QUICK_SCOPE): the first QUICK_SIZES fixed sizes only (all
 *   figures, ProgramStore path included) and no search for the largest MLP that fits, so the JSON has no `targets`
 *   or `largest` and the markdown says "not searched". The results say "quick"; refused without VERITY_BENCH_OUT.
 */
import { ethers, network } from "hardhat";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { integerMlpModel } from "../models/examples";
import { DType, encodeTensors } from "../oracle/src/protocol/tensorCodec";
import { compileModel } from "../oracle/src/verify/program";
import { intTensor, runGraph } from "../oracle/src/verify/reference";
import type { ExecutorHarness, IntegerExecutor, ProgramStore } from "../typechain-types";
import { benchOptions, quickFields, quickLines } from "./options";

const OPTIONS = benchOptions("verify");
/** Fixed sizes measured in a quick run (the first ones of SIZES). */
const QUICK_SIZES = 2;
const QUICK_SCOPE = "the two smallest models only, no search for the largest MLP that fits";
const BLOCK_GAS = 30_000_000;
const TARGET_GAS_PER_MAC = 60;
/** Block gas limit of the in-process network for this benchmark only. */
const BENCH_BLOCK_GAS_LIMIT = 1_000_000_000;
const MAX_CHUNK = 24_575;
/** Fixed sizes, then a search (in steps of SEARCH_STEP) for the widest [w, w, w, 10] that fits. */
const SIZES: readonly (readonly number[])[] = [
    [16, 16, 10],
    [64, 64, 10],
    [128, 128, 128, 10],
    [256, 256, 256, 10],
    [384, 384, 384, 10],
    [512, 512, 512, 10],
    [640, 640, 640, 10],
    [768, 768, 768, 10],
    [896, 896, 896, 10],
];
const SEARCH_STEP = 16;

/**
 * The in-process network (EDR) returns an execution trace of every call, held in native memory that V8 does not
 * account for; a forced collection after each large run keeps the process small.
 */
setFlagsFromString("--expose-gc");
const collectGarbage = runInNewContext("gc") as () => void;

export interface Row {
    model: string;
    widths: number[];
    macs: number;
    programBytes: number;
    chunks: number;
    txGas: number;
    calldataGas: number;
    executionGas: number;
    txGasPerMac: number;
    executionGasPerMac: number;
    fits: boolean;
    stored?: {
        storeGas: number;
        loadGas: number;
        directLoadGas: number;
        /** 21,000 + load + execution: a transaction re-executing the stored program (its own logic aside). */
        totalGas: number;
        directTotalGas: number;
        fits: boolean;
        directFits: boolean;
    };
}

interface Deployment {
    executor: IntegerExecutor;
    harness: ExecutorHarness;
    store: ProgramStore;
}

function calldataGas(data: string): number {
    let gas = 0;
    for (const byte of ethers.getBytes(data)) gas += byte === 0 ? 4 : 16;
    return gas;
}

function inputOf(batch: number, width: number): { bytes: string; x: ReturnType<typeof intTensor> } {
    const data = Array.from({ length: batch * width }, (_, i) => ((i * 37 + 11) % 256) - 128);
    const x = intTensor("int8", [batch, width], data);
    return { bytes: ethers.hexlify(encodeTensors([{ dtype: DType.INT8, shape: x.shape, data: x.data }])), x };
}

function gasOf(receipt: { gasUsed: bigint } | null): number {
    if (receipt === null) throw new Error("no receipt");
    return Number(receipt.gasUsed);
}

/** Re-executes `widths` in a real transaction (and in the harness), checking the output against the reference. */
async function measure(d: Deployment, widths: readonly number[], withStore: boolean): Promise<Row> {
    const example = integerMlpModel({ widths });
    const { program, programHash, analysis } = compileModel(example.onnx);
    const { bytes: input, x } = inputOf(1, widths[0]!);
    const executorAddress = await d.executor.getAddress();
    const data = d.executor.interface.encodeFunctionData("execute", [program, input]);
    const [signer] = await ethers.getSigners();
    const tx = await signer!.sendTransaction({ to: executorAddress, data, gasLimit: BENCH_BLOCK_GAS_LIMIT / 2 });
    const txGas = gasOf(await tx.wait());
    const [executionGas, code, output] = await d.harness.measure(executorAddress, program, input, {
        gasLimit: BENCH_BLOCK_GAS_LIMIT / 2,
    });
    const want = runGraph(example.onnx, { x });
    const wantBytes = ethers.hexlify(
        encodeTensors(
            [want.label!, want.scores!].map((t) => ({
                dtype: t.dtype === "int64" ? DType.INT64 : DType.INT32,
                shape: t.shape,
                data: t.data,
            })),
        ),
    );
    if (code !== 0n || output !== wantBytes) throw new Error(`[${widths}]: the executor disagrees with the reference`);
    const macs = analysis.macs;
    const row: Row = {
        model: `[${widths.join(", ")}]`,
        widths: [...widths],
        macs,
        programBytes: program.length,
        chunks: Math.ceil(program.length / MAX_CHUNK),
        txGas,
        calldataGas: calldataGas(data),
        executionGas: Number(executionGas),
        txGasPerMac: txGas / macs,
        executionGasPerMac: Number(executionGas) / macs,
        fits: txGas <= BLOCK_GAS,
    };
    if (withStore) {
        let storeGas = 0;
        const pointers: string[] = [];
        for (let at = 0; at < program.length; at += MAX_CHUNK) {
            const chunk = program.slice(at, at + MAX_CHUNK);
            pointers.push(await d.store.writeChunk.staticCall(chunk));
            storeGas += gasOf(await (await d.store.writeChunk(chunk)).wait());
        }
        storeGas += gasOf(await (await d.store.register(pointers, { gasLimit: BENCH_BLOCK_GAS_LIMIT / 2 })).wait());
        const storeAddress = await d.store.getAddress();
        const options = { gasLimit: BENCH_BLOCK_GAS_LIMIT / 2 };
        const [loadGas, storedExecGas, storedCode, storedOutput] = await d.harness.measureStored(
            executorAddress,
            storeAddress,
            programHash,
            input,
            options,
        );
        const [directLoadGas, , directCode, directOutput] = await d.harness.measureStoredDirect(
            executorAddress,
            storeAddress,
            programHash,
            input,
            options,
        );
        if (storedCode !== 0n || storedOutput !== wantBytes || directCode !== 0n || directOutput !== wantBytes) {
            throw new Error(`[${widths}]: the stored program disagrees with the reference`);
        }
        const totalGas = 21_000 + Number(loadGas) + Number(storedExecGas);
        const directTotalGas = 21_000 + Number(directLoadGas) + Number(storedExecGas);
        row.stored = {
            storeGas,
            loadGas: Number(loadGas),
            directLoadGas: Number(directLoadGas),
            totalGas,
            directTotalGas,
            fits: totalGas <= BLOCK_GAS,
            directFits: directTotalGas <= BLOCK_GAS,
        };
    }
    collectGarbage();
    console.log(
        `${row.model}: ${macs} MACs, ${program.length} bytes, tx ${txGas} gas (${row.txGasPerMac.toFixed(2)}/MAC), ` +
            `execution ${row.executionGas} (${row.executionGasPerMac.toFixed(2)}/MAC)` +
            (row.stored ? `, stored load ${row.stored.loadGas} / direct ${row.stored.directLoadGas}` : ""),
    );
    return row;
}

const fmt = (n: number): string => n.toLocaleString("en-US");

/**
 * The widest square MLP [w, w, w, 10] whose transaction fits, searched (in steps of SEARCH_STEP) between the fixed
 * sizes in `rows`; adds it to `rows` when it is measured with the ProgramStore path. `nextWidthTried` is the
 * narrowest width found not to fit.
 */
async function searchLargest(d: Deployment, rows: Row[]): Promise<{ largest: Row; nextWidthTried: number }> {
    const square = rows.filter((r) => r.widths.length === 4);
    let lo = Math.max(...square.filter((r) => r.fits).map((r) => r.widths[0]!));
    let hi = Math.min(...square.filter((r) => !r.fits).map((r) => r.widths[0]!));
    if (!Number.isFinite(lo) || !Number.isFinite(hi))
        throw new Error("SIZES must hold a square MLP on each side of 30M");
    let largest = rows.find((r) => r.widths[0] === lo && r.widths.length === 4)!;
    while (hi - lo > SEARCH_STEP) {
        const mid = Math.round((lo + hi) / 2 / SEARCH_STEP) * SEARCH_STEP;
        const row = await measure(d, [mid, mid, mid, 10], false);
        if (row.fits) {
            lo = mid;
            largest = row;
        } else {
            hi = mid;
        }
    }
    if (largest.stored === undefined) {
        largest = await measure(d, largest.widths, true);
        rows.push(largest);
    }
    return { largest, nextWidthTried: hi };
}

async function main(): Promise<void> {
    await network.provider.send("evm_setBlockGasLimit", [ethers.toQuantity(BENCH_BLOCK_GAS_LIMIT)]);
    const d: Deployment = {
        executor: (await ethers.deployContract("IntegerExecutor")) as unknown as IntegerExecutor,
        harness: (await ethers.deployContract("ExecutorHarness")) as unknown as ExecutorHarness,
        store: (await ethers.deployContract("ProgramStore")) as unknown as ProgramStore,
    };

    const rows: Row[] = [];
    for (const widths of OPTIONS.quick ? SIZES.slice(0, QUICK_SIZES) : SIZES) rows.push(await measure(d, widths, true));

    // The widest square MLP [w, w, w, 10] whose transaction fits, searched between the fixed sizes (not in a quick
    // run: then there is no `targets` or `largest` in the JSON).
    const search = OPTIONS.quick ? undefined : await searchLargest(d, rows);
    rows.sort((a, b) => a.macs - b.macs);

    const result = {
        ...quickFields(OPTIONS, QUICK_SCOPE),
        generatedBy: "npx hardhat run bench/verify.ts",
        network: `hardhat (in-process), hardfork cancun, block gas limit raised to ${fmt(BENCH_BLOCK_GAS_LIMIT)} for this benchmark, solc 0.8.28 (optimizer runs 10,000)`,
        workload:
            "integerMlpModel (int8 weights, int32 bias, Relu / Div / Clip / Cast between layers, ArgMax), batch 1; gas = gasUsed of a transaction calling IntegerExecutor.execute(program, input) directly",
        blockGas: BLOCK_GAS,
        ...(search === undefined
            ? {}
            : {
                  targets: {
                      gasPerMacAtLargest: {
                          target: TARGET_GAS_PER_MAC,
                          model: search.largest.model,
                          measured: Number(search.largest.txGasPerMac.toFixed(2)),
                          met: search.largest.txGasPerMac <= TARGET_GAS_PER_MAC,
                      },
                  },
                  largest: {
                      model: search.largest.model,
                      macs: search.largest.macs,
                      programBytes: search.largest.programBytes,
                      txGas: search.largest.txGas,
                      nextWidthTried: search.nextWidthTried,
                  },
              }),
        models: rows.map((r) => ({
            ...r,
            txGasPerMac: Number(r.txGasPerMac.toFixed(2)),
            executionGasPerMac: Number(r.executionGasPerMac.toFixed(2)),
        })),
    };
    mkdirSync(OPTIONS.outDir, { recursive: true });
    writeFileSync(join(OPTIONS.outDir, "verify.json"), JSON.stringify(result, null, 2) + "\n");

    const lines = [
        "# On-chain re-execution (bench/verify.ts)",
        "",
        ...quickLines(OPTIONS, QUICK_SCOPE),
        `Workload: ${result.workload}. ${result.network}. Regenerate with \`${result.generatedBy}\`.`,
        "",
        "`gas` is the whole transaction: 21,000 + calldata (the program travels as calldata: 16 gas per non-zero",
        "byte, about one byte per MAC) + execution. `execution` is the executor alone (ExecutorHarness.measure).",
        "",
        "| model | MACs | program bytes | gas | calldata | execution | gas/MAC | execution/MAC | fits in 30M |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
        ...rows.map(
            (r) =>
                `| ${r.model} | ${fmt(r.macs)} | ${fmt(r.programBytes)} | ${fmt(r.txGas)} | ${fmt(r.calldataGas)} | ${fmt(r.executionGas)} | ${r.txGasPerMac.toFixed(2)} | ${r.executionGasPerMac.toFixed(2)} | ${r.fits ? "yes" : "no"} |`,
        ),
        "",
        search === undefined
            ? "**Largest MLP that fits in one block (30M gas): not searched (quick run).**"
            : `**Largest MLP that fits in one block (30M gas): ${search.largest.model}**, ${fmt(search.largest.macs)} MACs, ` +
              `${fmt(search.largest.programBytes)} program bytes, ${fmt(search.largest.txGas)} gas ` +
              `(${search.largest.txGasPerMac.toFixed(2)} gas/MAC; [${search.nextWidthTried}, ${search.nextWidthTried}, ${search.nextWidthTried}, 10] does not fit).`,
        "",
        "Loading the program from the ProgramStore instead of calldata, in a call that loads and executes (the",
        "execution is the same as above). `direct` copies the chunks with EXTCODECOPY straight into the executor",
        "call's calldata (one copy): what ReexecutionResolver does in a dispute. `load()` is the naive way for",
        "comparison, `store.load(hash)` then encoding the executor call (three copies of the program in memory,",
        "whose cost grows quadratically). Totals add",
        "21,000 and the execution. `store` is the one-time cost of writing the chunks and registering the program.",
        "",
        "| model | chunks | store (once) | load() | total via load() | fits | direct load | total via direct | fits |",
        "| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | --- |",
        ...rows
            .filter((r) => r.stored !== undefined)
            .map((r) => {
                const s = r.stored!;
                return `| ${r.model} | ${r.chunks} | ${fmt(s.storeGas)} | ${fmt(s.loadGas)} | ${fmt(s.totalGas)} | ${s.fits ? "yes" : "no"} | ${fmt(s.directLoadGas)} | ${fmt(s.directTotalGas)} | ${s.directFits ? "yes" : "no"} |`;
            }),
        "",
        "| target | measured | met |",
        "| --- | ---: | --- |",
        `| gas/MAC at the largest model that fits ≤ ${TARGET_GAS_PER_MAC} | ` +
            (search === undefined
                ? "not searched (quick run) | n/a |"
                : `${search.largest.txGasPerMac.toFixed(2)} (${search.largest.model}) | ${search.largest.txGasPerMac <= TARGET_GAS_PER_MAC ? "yes" : "no"} |`),
        "",
    ];
    writeFileSync(join(OPTIONS.outDir, "verify.md"), lines.join("\n"));
    console.log(lines.join("\n"));
}

main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
});
