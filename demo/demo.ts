/**
 * `npm run demo`: Verity's main job on an embedded default. Run by `hardhat run demo/demo.ts` (through
 * demo/cli.ts, which reads the command-line flags into the environment):
 *
 * 1. the in-process Hardhat chain, served over HTTP for the nodes, mining a block every second;
 * 2. the protocol deployed (Ignition module, test stake token), the Iris model registered as REEXECUTION with its
 *    program in the ProgramStore and a float model as QUORUM, two operators staked, a challenger funded;
 * 3. an honest operator node and a challenger node (the production node, in-process), and a liar (demo/liar.ts);
 * 4. a stream of requests from an example consumer contract, every event shown as it happens;
 * 5. checks: every request settled exactly once with the correct output (Iris: the reference interpreter; float:
 *    the honest node's answer) and the liar slashed for each lie. Exit code 0 if so, else 1 with the reason.
 *
 * Environment: VERITY_DEMO_REQUESTS (default 24), VERITY_DEMO_LIE_RATE (0..1, default 0.5),
 * VERITY_DEMO_INTERVAL_MS (between requests, default 1000), VERITY_DEMO_CHALLENGER=off (no challenger: the lies
 * go through and the demo fails).
 */
import hre, { ethers } from "hardhat";
import { hexlify, keccak256 } from "ethers";
import { startNode, type RunningNode } from "../oracle/src/node";
import { silentLogger } from "../oracle/src/internal/logger";
import { announcedRequests, parseCoordinatorLog } from "../oracle/src/chain/requestEvents";
import { decodeTensors } from "../oracle/src/protocol/tensorCodec";
import { runVerifiable } from "../oracle/src/verify/execute";
import { startRpcServer } from "../scripts/localChain";
import { DEMO, NO_FEE_LIMIT, deployDemo, demoNodeConfig } from "./setup";
import { IRIS_CLASSES, planRequests, type PlannedRequest } from "./samples";
import { startLiar, type Liar } from "./liar";
import { Display, gas, shortId, vtt } from "./display";

interface DemoOptions {
    challenger: boolean;
    requests: number;
    lieRate: number;
    intervalMs: number;
}

function readOptions(env: NodeJS.ProcessEnv): DemoOptions {
    const int = (name: string, fallback: number, min: number, max: number): number => {
        const raw = env[name];
        if (raw === undefined || raw === "") return fallback;
        const v = Number(raw);
        if (!Number.isInteger(v) || v < min || v > max) {
            throw new Error(`${name} must be an integer in [${min}, ${max}], got "${raw}"`);
        }
        return v;
    };
    const rateRaw = env.VERITY_DEMO_LIE_RATE;
    const lieRate = rateRaw === undefined || rateRaw === "" ? 0.5 : Number(rateRaw);
    if (!(lieRate > 0 && lieRate <= 1)) throw new Error(`VERITY_DEMO_LIE_RATE must be in (0, 1], got "${rateRaw}"`);
    return {
        challenger: env.VERITY_DEMO_CHALLENGER !== "off",
        requests: int("VERITY_DEMO_REQUESTS", 24, 2, 500),
        lieRate,
        intervalMs: int("VERITY_DEMO_INTERVAL_MS", 1_000, 0, 60_000),
    };
}

/** One request of the stream, as the demo saw it happen. */
interface Tracked {
    plan: PlannedRequest;
    requestId: bigint;
    assignedTo: "honest" | "liar";
    txs: { request: string; submit?: string; challenge?: string; settle?: string };
    operator?: string;
    resultCode?: number;
    output?: string;
    challenged: boolean;
    operatorAtFault?: boolean;
    deliveredBy?: "finalize" | "dispute";
    callbackOk?: boolean;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function describeOutput(model: "iris" | "float", resultCode: number, output: string): string {
    if (resultCode !== 0) return `result code ${resultCode}`;
    const tensors = decodeTensors(ethers.getBytes(output));
    if (model === "iris") {
        const label = Number(tensors[0]?.data[0] ?? -1n);
        return `label ${label} (${IRIS_CLASSES[label] ?? "?"}), scores [${tensors[1]?.data.join(", ")}]`;
    }
    const score = Number(tensors[0]?.data[0] ?? 0n) / 1e6;
    return `score ${score.toFixed(6)}, activations [${tensors[1]?.data.map((v) => Number(v) / 1e4).join(", ")}]`;
}

async function main(): Promise<number> {
    const options = readOptions(process.env);
    const display = new Display();
    const wallStart = Date.now();
    display.line(
        display.paint("Verity demo: verifiable AI inference with an honest operator, a liar and a challenger", "bold"),
    );
    display.line(
        `${options.requests} requests, liar lies on ${Math.round(options.lieRate * 100)} % of its requests, ` +
            `challenge window ${DEMO.challengeWindowSeconds} s`,
    );
    display.line();

    display.event("deploying the protocol on the in-process Hardhat chain …");
    const d = await deployDemo();
    const server = await startRpcServer();
    await hre.network.provider.send("evm_setIntervalMining", [1_000]);
    const addresses = new Map<string, string>([
        [d.honestWallet.address, "honest"],
        [d.liarAddress, "LIAR"],
        [d.challengerWallet.address, "challenger"],
    ]);
    const who = (a: string) => addresses.get(a) ?? a;
    display.event(
        `deployed: coordinator ${await d.coordinator.getAddress()}, stake token ${await d.token.getAddress()} (VTT), ` +
            `RPC ${server.url}`,
    );
    display.event(
        `model iris  ${d.iris.modelId.slice(0, 10)}… REEXECUTION, program ${d.iris.programHash.slice(0, 10)}… stored on-chain`,
    );
    display.event(`model float ${d.float.modelId.slice(0, 10)}… QUORUM (onnxruntime, fixed-point I/O)`);
    display.event(
        `operators staked ${vtt(DEMO.operatorStakeWei)} each: honest ${d.honestWallet.address} (iris + float), ` +
            `LIAR ${d.liarAddress} (iris); collateral ${vtt(DEMO.collateralWei)} per result`,
    );

    const nodes: RunningNode[] = [];
    let liar: Liar | undefined;
    const stakeBefore = {
        honest: (await d.staking.getStake(d.honestWallet.address)).stakedWei,
        liar: (await d.staking.getStake(d.liarAddress)).stakedWei,
    };
    const challengerTokensBefore = await d.token.balanceOf(d.challengerWallet.address);
    const treasuryHoldings = async () =>
        (await d.token.balanceOf(d.treasury)) + (await d.coordinator.balanceOf(d.treasury));
    const treasuryBefore = await treasuryHoldings();
    const consumerBalanceBefore = await d.coordinator.balanceOf(await d.consumer.getAddress());

    const tracked = new Map<bigint, Tracked>();
    let sent = 0;
    let slashedTotal = 0n;
    let disputesWon = 0;
    const updateStatus = () => {
        const settled = [...tracked.values()].filter((t) => t.deliveredBy !== undefined).length;
        display.setStatus(
            `sent ${sent}/${options.requests} · settled ${settled}/${options.requests} · ` +
                `disputes won ${disputesWon} · slashed ${vtt(slashedTotal)} · ${display.elapsed()}`,
        );
    };

    // Follows the coordinator's and the staking contract's events and tells the story.
    let fromBlock = d.startBlock;
    const coordinatorAddress = await d.coordinator.getAddress();
    const stakingAddress = await d.staking.getAddress();
    async function follow(): Promise<void> {
        const head = await ethers.provider.getBlockNumber();
        if (head < fromBlock) return;
        const logs = await ethers.provider.getLogs({ fromBlock, toBlock: head });
        fromBlock = head + 1;
        for (const log of logs) {
            if (log.address === stakingAddress) {
                const parsed = d.staking.interface.parseLog(log);
                if (parsed?.name === "OperatorSlashed") {
                    const stake = (await d.staking.getStake(parsed.args.operator as string)).stakedWei;
                    display.event(
                        display.paint(
                            `      ✂ ${who(parsed.args.operator as string)} slashed ${vtt(parsed.args.amountWei as bigint)}` +
                                ` → stake now ${vtt(stake)}`,
                            "red",
                        ),
                    );
                }
                continue;
            }
            if (log.address !== coordinatorAddress) continue;
            const parsed = parseCoordinatorLog(log);
            if (parsed === null) continue;
            const t = tracked.get(parsed.args[0] as bigint);
            if (t === undefined) continue;
            const tag = `#${String(t.plan.seq).padStart(2)} ${t.plan.model.padEnd(5)}`;
            switch (parsed.name) {
                case "ResultSubmitted": {
                    t.txs.submit = log.transactionHash;
                    t.operator = parsed.args.operator as string;
                    t.resultCode = Number(parsed.args.resultCode);
                    t.output = parsed.args.output as string;
                    let verdict = "";
                    if (t.plan.model === "iris") {
                        const truth = runVerifiable(d.iris.reference, t.plan.input);
                        verdict =
                            truth.outputHash === keccak256(t.output)
                                ? display.paint(" ✓ correct", "green")
                                : display.paint(" ✗ WRONG (a lie)", "red");
                    }
                    display.event(
                        `${tag} ${display.paint("result", "blue")}     by ${who(t.operator)}: ` +
                            `${describeOutput(t.plan.model, t.resultCode, t.output)}${verdict}`,
                    );
                    break;
                }
                case "ResultChallenged":
                    t.challenged = true;
                    t.txs.challenge = log.transactionHash;
                    display.event(
                        `${tag} ${display.paint("challenged", "yellow")} by ${who(parsed.args.challenger as string)} ` +
                            `(bond ${vtt(parsed.args.bondWei as bigint)}): re-executed on-chain`,
                    );
                    break;
                case "DisputeResolved": {
                    t.operatorAtFault = parsed.args.operatorAtFault as boolean;
                    if (t.operatorAtFault) {
                        disputesWon++;
                        slashedTotal += parsed.args.slashedWei as bigint;
                    }
                    display.event(
                        `${tag} ${display.paint("dispute", "yellow")}    ` +
                            (t.operatorAtFault
                                ? `won by ${who(parsed.args.challenger as string)}: operator at fault, slashed ` +
                                  `${vtt(parsed.args.slashedWei as bigint)}, challenger paid ` +
                                  `${vtt(parsed.args.challengerPayoutWei as bigint)}`
                                : "lost by the challenger: the result stands"),
                    );
                    break;
                }
                case "ResultDelivered":
                case "ResultFinalized": {
                    t.deliveredBy = parsed.name === "ResultDelivered" ? "dispute" : "finalize";
                    t.txs.settle = log.transactionHash;
                    t.callbackOk = parsed.args.callbackSucceeded as boolean;
                    const delivery = await d.consumer.delivery(t.requestId);
                    const how = t.deliveredBy === "dispute" ? "the correct result, by the dispute" : "finalized";
                    display.event(
                        `${tag} ${display.paint("callback", "green")}   ${how}: ` +
                            `${describeOutput(t.plan.model, Number(delivery.resultCode), delivery.output)} ` +
                            `(callback ${t.callbackOk ? "ok" : "FAILED"}, ${gas(parsed.args.callbackGasUsed as bigint)} gas)`,
                    );
                    break;
                }
                default:
                    break;
            }
        }
        updateStatus();
    }

    let failure: string | undefined;
    try {
        // The nodes: the production node in-process, one honest operator and one challenger.
        const honestNode = await startNode(
            await demoNodeConfig(d, server.url, "honest", [d.iris.modelId, d.float.modelId]),
            { wallet: d.honestWallet, logger: silentLogger(), noHttp: true },
        );
        nodes.push(honestNode);
        if (options.challenger) {
            const challengerNode = await startNode(
                await demoNodeConfig(d, server.url, "challenger", [d.iris.modelId], {
                    roles: { operator: false, finalizer: false, challenger: true },
                    challenger: { maxBondWei: (5n * 10n ** 18n).toString(), withdrawMinWei: "1" },
                }),
                { wallet: d.challengerWallet, logger: silentLogger(), noHttp: true },
            );
            nodes.push(challengerNode);
        }
        liar = startLiar({
            coordinator: d.coordinator,
            signer: d.liar,
            modelId: d.iris.modelId,
            reference: d.iris.reference,
            lieRate: options.lieRate,
            pollMs: 100,
        });
        display.event(
            `nodes started: honest operator (node), ${options.challenger ? "challenger (node)" : "NO challenger"}, ` +
                "LIAR (adversary script)",
        );
        display.line();

        // The request stream, followed live.
        const plan = planRequests(options.requests);
        let irisCount = 0;
        const followLoop = (async () => {
            while (failure === undefined) {
                await follow();
                if (sent === plan.length && [...tracked.values()].every((t) => t.deliveredBy !== undefined)) return;
                await sleep(100);
            }
        })();
        for (const p of plan) {
            const toLiar = p.model === "iris" && irisCount++ % 2 === 1;
            const preferred = toLiar ? d.liarAddress : d.honestWallet.address;
            const block = await ethers.provider.getBlock("latest");
            const tx = await d.consumer.request(p.model === "iris" ? d.iris.modelId : d.float.modelId, p.input, {
                callbackGasLimit: DEMO.callbackGasLimit,
                deadline: (block?.timestamp ?? 0) + 3_600,
                preferredOperator: preferred,
                maxFeeWei: NO_FEE_LIMIT,
            });
            const receipt = await tx.wait();
            const [announced] = announcedRequests(receipt?.logs ?? []);
            if (announced === undefined) throw new Error(`request #${p.seq}: no InferenceRequested event`);
            const requestId = BigInt(announced.request.requestId);
            tracked.set(requestId, {
                plan: p,
                requestId,
                assignedTo: toLiar ? "liar" : "honest",
                txs: { request: tx.hash },
                challenged: false,
            });
            sent++;
            display.event(
                `#${String(p.seq).padStart(2)} ${p.model.padEnd(5)} ${display.paint("request", "cyan")}    ` +
                    `id ${shortId(requestId)} to ${toLiar ? "LIAR" : "honest"}: ${p.sample.species} ${p.inputLabel}`,
            );
            updateStatus();
            await sleep(options.intervalMs);
        }
        const settleTimeoutMs = 60_000 + DEMO.challengeWindowSeconds * 1_000;
        await Promise.race([
            followLoop,
            sleep(settleTimeoutMs).then(() => {
                if ([...tracked.values()].some((t) => t.deliveredBy === undefined)) {
                    failure = `not every request settled within ${settleTimeoutMs / 1000} s of the last one`;
                }
            }),
        ]);
        await follow();
    } catch (err) {
        failure = `the demo crashed: ${err instanceof Error ? err.message : String(err)}`;
    } finally {
        display.clearStatus();
        await liar?.stop();
        for (const node of nodes) await node.stop();
        await hre.network.provider.send("evm_setIntervalMining", [0]);
        await server.close();
    }

    // ---------------------------------------------------------------------------------------------------------
    // Checks and summary
    // ---------------------------------------------------------------------------------------------------------
    const problems: string[] = failure === undefined ? [] : [failure];
    const all = [...tracked.values()];
    let correct = 0;
    for (const t of all) {
        const delivery = await d.consumer.delivery(t.requestId);
        const label = `request #${t.plan.seq} (${t.plan.model}, id ${shortId(t.requestId)})`;
        if (Number(delivery.count) !== 1) {
            problems.push(`${label} was delivered ${delivery.count} times, want once`);
            continue;
        }
        let want: { resultCode: number; output: string } | undefined;
        if (t.plan.model === "iris") {
            const truth = runVerifiable(d.iris.reference, t.plan.input);
            want = { resultCode: truth.resultCode, output: hexlify(truth.output) };
        } else if (t.operator === d.honestWallet.address && t.output !== undefined && t.resultCode !== undefined) {
            want = { resultCode: t.resultCode, output: t.output };
        } else {
            problems.push(`${label}: no result of the honest node to compare with`);
            continue;
        }
        if (Number(delivery.resultCode) !== want.resultCode || delivery.output !== want.output) {
            problems.push(`${label} delivered a wrong result (code ${delivery.resultCode}, output ${delivery.output})`);
            continue;
        }
        correct++;
    }
    const lies = liar?.lies ?? new Set<bigint>();
    for (const id of lies) {
        const t = tracked.get(id);
        if (t?.operatorAtFault !== true)
            problems.push(`the liar's lie on request id ${shortId(id)} was not proven in a dispute`);
    }
    const falseAlarms = all.filter((t) => t.challenged && !lies.has(t.requestId));
    if (falseAlarms.length > 0) problems.push(`${falseAlarms.length} correct result(s) were challenged`);
    const stakeAfter = {
        honest: (await d.staking.getStake(d.honestWallet.address)).stakedWei,
        liar: (await d.staking.getStake(d.liarAddress)).stakedWei,
    };
    const liarSlashed = stakeBefore.liar - stakeAfter.liar;
    if (lies.size === 0) problems.push("the liar told no lie (too few requests for it?)");
    if (liarSlashed <= 0n) problems.push("the liar was not slashed");
    if (stakeAfter.honest !== stakeBefore.honest) problems.push("the honest operator's stake changed");
    for (const e of liar?.errors ?? []) problems.push(`liar script: ${e}`);

    // Gas per request, from the receipts.
    const receiptGas = async (hash: string | undefined): Promise<bigint> =>
        hash === undefined ? 0n : ((await ethers.provider.getTransactionReceipt(hash))?.gasUsed ?? 0n);
    const phases = {
        request: [] as bigint[],
        submit: [] as bigint[],
        finalize: [] as bigint[],
        dispute: [] as bigint[],
    };
    const lifecycle = { settled: [] as bigint[], disputed: [] as bigint[] };
    for (const t of all) {
        const r = await receiptGas(t.txs.request);
        const s = await receiptGas(t.txs.submit);
        phases.request.push(r);
        if (t.txs.submit !== undefined) phases.submit.push(s);
        if (t.deliveredBy === "finalize") {
            const f = await receiptGas(t.txs.settle);
            phases.finalize.push(f);
            lifecycle.settled.push(r + s + f);
        } else if (t.deliveredBy === "dispute") {
            const c = await receiptGas(t.txs.challenge);
            phases.dispute.push(c);
            lifecycle.disputed.push(r + s + c);
        }
    }
    const avg = (xs: bigint[]) => (xs.length === 0 ? "-" : gas(Number(xs.reduce((a, b) => a + b, 0n)) / xs.length));

    const consumerAddress = await d.consumer.getAddress();
    display.line();
    display.line(display.paint("Summary", "bold"));
    const byDispute = all.filter((t) => t.deliveredBy === "dispute").length;
    const settled = all.filter((t) => t.deliveredBy !== undefined).length;
    const iris = all.filter((t) => t.plan.model === "iris").length;
    display.table(
        ["", "value"],
        [
            ["requests settled", `${settled}/${options.requests} (${iris} iris, ${all.length - iris} float)`],
            ["  by finalization / by dispute", `${settled - byDispute} / ${byDispute}`],
            ["correct results delivered", `${correct}/${options.requests}`],
            ["lies told by the liar", `${lies.size} of ${lies.size + (liar?.truthful.size ?? 0)} answers`],
            ["disputes won by the challenger", `${disputesWon}/${lies.size}`],
            ["correct results challenged", `${falseAlarms.length}`],
            ["stake slashed", `${vtt(liarSlashed)} (liar: ${vtt(stakeBefore.liar)} → ${vtt(stakeAfter.liar)})`],
            ["challenger earned", vtt((await d.token.balanceOf(d.challengerWallet.address)) - challengerTokensBefore)],
            ["treasury received (protocol fees, slash share)", vtt((await treasuryHoldings()) - treasuryBefore)],
            ["consumer spent", vtt(consumerBalanceBefore - (await d.coordinator.balanceOf(consumerAddress)))],
            ["wall time", `${((Date.now() - wallStart) / 1000).toFixed(1)} s`],
        ],
    );
    display.line();
    display.table(
        ["gas per request (average)", "request", "submit", "finalize + callback", "challenge + re-execution", "total"],
        [
            [
                "settled by finalization",
                avg(phases.request),
                avg(phases.submit),
                avg(phases.finalize),
                "-",
                avg(lifecycle.settled),
            ],
            [
                "settled by dispute",
                avg(phases.request),
                avg(phases.submit),
                "-",
                avg(phases.dispute),
                avg(lifecycle.disputed),
            ],
        ],
        ["l", "r", "r", "r", "r", "r"],
    );
    display.line();
    display.table(
        ["account", "address", "staked", "tokens", "coordinator balance"],
        await Promise.all(
            [
                ["honest operator", d.honestWallet.address],
                ["LIAR operator", d.liarAddress],
                ["challenger", d.challengerWallet.address],
                ["treasury", d.treasury],
                ["consumer", consumerAddress],
            ].map(async ([name, address]) => [
                name!,
                address!,
                vtt((await d.staking.getStake(address!)).stakedWei),
                vtt(await d.token.balanceOf(address!)),
                vtt(await d.coordinator.balanceOf(address!)),
            ]),
        ),
        ["l", "l", "r", "r", "r"],
    );
    display.line();
    if (problems.length === 0) {
        display.line(
            display.paint(
                `RESULT: PASS: ${settled}/${options.requests} requests settled with the correct result; ` +
                    `liar slashed ${vtt(liarSlashed)} over ${disputesWon} dispute(s)`,
                "green",
            ),
        );
        return 0;
    }
    display.line(display.paint("RESULT: FAIL", "red"));
    for (const p of problems) display.line(display.paint(`  - ${p}`, "red"));
    return 1;
}

main().then(
    (code) => process.exit(code),
    (err: unknown) => {
        console.error(`RESULT: FAIL: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
        process.exit(1);
    },
);
