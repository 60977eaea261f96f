/**
 * The demo's adversary: an operator that serves the Iris requests addressed to it and lies on a fraction of them
 * (a well-formed output with the wrong label and scores). It is a script of the demo, not a switch of the
 * production node: it follows the chain, computes the true answer with the reference interpreter, corrupts it on
 * purpose, submits with plain ethers, and finalizes whatever of its results survives the challenge window.
 */
import { ethers } from "hardhat";
import { keccak256, type Signer } from "ethers";
import { announcedRequests, parseCoordinatorLog, type Request } from "../oracle/src/chain/requestEvents";
import { DType, decodeTensors, encodeTensors } from "../oracle/src/protocol/tensorCodec";
import { runVerifiable, type VerifiableModel } from "../oracle/src/verify/execute";
import type { InferenceCoordinator } from "../typechain-types";

export interface LiarOptions {
    coordinator: InferenceCoordinator;
    signer: Signer;
    modelId: string;
    reference: VerifiableModel;
    /** Fraction of its requests it lies on, in [0, 1]; the pattern is deterministic and starts with a lie. */
    lieRate: number;
    pollMs?: number;
    /** Told about each result it submits. */
    onSubmit?: (requestId: bigint, lie: boolean) => void;
}

export interface Liar {
    /** Request ids it lied on. */
    readonly lies: Set<bigint>;
    /** Request ids it answered truthfully. */
    readonly truthful: Set<bigint>;
    /** Errors its loop ran into (it carries on after each). */
    readonly errors: string[];
    stop(): Promise<void>;
}

/** Whether the n-th (0-based) request served is a lie: ceil((n + 1) · rate) > ceil(n · rate). */
export function liesOn(n: number, rate: number): boolean {
    return Math.ceil((n + 1) * rate) > Math.ceil(n * rate);
}

/** A well-formed Iris output that is not the true one: the label moved to the next class, scores rotated. */
export function corrupt(trueOutput: Uint8Array): Uint8Array {
    const [label, scores] = decodeTensors(trueOutput);
    if (label === undefined || scores === undefined) throw new Error("unexpected Iris output");
    const wrongLabel = (label.data[0]! + 1n) % 3n;
    const s = scores.data;
    const wrong = encodeTensors([
        { dtype: DType.INT64, shape: label.shape, data: [wrongLabel] },
        { dtype: DType.INT32, shape: scores.shape, data: [s[2]!, s[0]!, s[1]!] },
    ]);
    if (keccak256(wrong) === keccak256(trueOutput)) throw new Error("the corrupted output is the true one");
    return wrong;
}

export function startLiar(opts: LiarOptions): Liar {
    const lies = new Set<bigint>();
    const truthful = new Set<bigint>();
    const errors: string[] = [];
    const address = opts.signer.getAddress();
    const coordinator = opts.coordinator.connect(opts.signer);
    /** Submitted results waiting for their window to end: request struct as submitted, output. */
    const pending = new Map<bigint, { request: Request; output: Uint8Array }>();
    let served = 0;
    let fromBlock = 0;
    let stopped = false;

    async function serve(request: Request, input: string): Promise<void> {
        const truth = runVerifiable(opts.reference, ethers.getBytes(input));
        const lie = liesOn(served++, opts.lieRate) && truth.resultCode === 0;
        const output = lie ? corrupt(truth.output) : truth.output;
        const receipt = await (
            await coordinator.submitResult(request, truth.resultCode, output, ethers.ZeroHash)
        ).wait();
        const id = BigInt(request.requestId);
        (lie ? lies : truthful).add(id);
        opts.onSubmit?.(id, lie);
        for (const log of receipt?.logs ?? []) {
            const parsed = parseCoordinatorLog(log);
            if (parsed?.name !== "ResultSubmitted") continue;
            pending.set(id, {
                request: {
                    ...request,
                    status: 2n,
                    operator: parsed.args.operator as string,
                    resultCode: parsed.args.resultCode as bigint,
                    outputHash: keccak256(parsed.args.output as string),
                    traceCommitment: parsed.args.traceCommitment as string,
                    challengeEndsAt: parsed.args.challengeEndsAt as bigint,
                },
                output,
            });
        }
    }

    /** Settles its results whose window has passed (any result still unchallenged then is paid, lie or not). */
    async function finalizeDue(): Promise<void> {
        const now = BigInt((await ethers.provider.getBlock("latest"))?.timestamp ?? 0);
        for (const [id, { request, output }] of pending) {
            if (now < BigInt(request.challengeEndsAt)) continue;
            if (!(await opts.coordinator.isCommitted(request))) {
                pending.delete(id); // challenged (and decided): nothing left to settle
                continue;
            }
            try {
                await coordinator.finalize.staticCall(request, output);
            } catch {
                continue; // the next block's clock has not passed the window yet
            }
            await (await coordinator.finalize(request, output)).wait();
            pending.delete(id);
        }
    }

    const loop = (async () => {
        fromBlock = await ethers.provider.getBlockNumber();
        const me = await address;
        while (!stopped) {
            try {
                await round(me);
            } catch (err) {
                errors.push(err instanceof Error ? err.message : String(err));
            }
            await new Promise((r) => setTimeout(r, opts.pollMs ?? 150));
        }
    })();

    async function round(me: string): Promise<void> {
        const head = await ethers.provider.getBlockNumber();
        if (head >= fromBlock) {
            const logs = await ethers.provider.getLogs({
                address: await opts.coordinator.getAddress(),
                fromBlock,
                toBlock: head,
            });
            fromBlock = head + 1;
            for (const announced of announcedRequests(logs)) {
                const r = announced.request;
                if (r.modelId !== opts.modelId || String(r.assignedOperator) !== me) continue;
                await serve(r, announced.input);
            }
        }
        await finalizeDue();
    }

    return {
        lies,
        truthful,
        errors,
        async stop() {
            stopped = true;
            await loop;
        },
    };
}
