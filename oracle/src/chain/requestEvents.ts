/**
 * Rebuilds the coordinator's `Request` structs from its event logs.
 *
 * The InferenceCoordinator stores only keccak256(abi.encode(Request)) per live request; every later call
 * (submit, finalize, challenge, cancel...) takes the whole struct back. InferenceRequested carries the new struct
 * as its topics, its terms and its input (`requestFromRequested`), and each later transition is described by an
 * event carrying the fields it changed.
 * This module is the one place that turns those logs into the current struct.
 */
import { ZeroAddress, ZeroHash, getAddress, keccak256, toBeHex, type LogDescription } from "ethers";
import { InferenceCoordinator__factory } from "../../../typechain-types";
import type { IInferenceCoordinator } from "../../../typechain-types/contracts/InferenceCoordinator";

/** The struct the coordinator commits to, as ethers encodes it. */
export type Request = IInferenceCoordinator.RequestStruct;

/** RequestStatus in IInferenceCoordinator. */
export const RequestStatus = { None: 0n, Requested: 1n, Submitted: 2n, Disputed: 3n } as const;

const coordinatorInterface = InferenceCoordinator__factory.createInterface();

/** The fields of a log this module reads (ethers `Log` and the node's RPC logs both have them). */
export interface LogLike {
    topics: readonly string[];
    data: string;
    blockNumber: number;
    transactionHash: string;
    index: number;
}

/** A request as announced on-chain, with the input bytes that only the event carries. */
export interface AnnouncedRequest {
    request: Request;
    /** Canonical tensor-list encoding of the inputs (0x-hex). */
    input: string;
    blockNumber: number;
    transactionHash: string;
    logIndex: number;
}

/** The coordinator event in `log`, or null for any other log (another contract's, in the same receipt). */
export function parseCoordinatorLog(log: Pick<LogLike, "topics" | "data">): LogDescription | null {
    try {
        return coordinatorInterface.parseLog({ topics: [...log.topics], data: log.data });
    } catch {
        // Not a coordinator event (another contract's log in the same receipt).
        return null;
    }
}

/**
 * The struct a new request committed to, from its InferenceRequested event: the request id, model and consumer
 * from the topics, `inputHash` = keccak256(input), the terms (the struct's fields `feeWei` to `mode`), status
 * Requested and no result yet.
 */
export function requestFromRequested(parsed: LogDescription): Request {
    if (parsed.name !== "InferenceRequested") throw new Error(`not an InferenceRequested event: ${parsed.name}`);
    return {
        requestId: parsed.args.requestId as bigint,
        modelId: parsed.args.modelId as string,
        inputHash: keccak256(parsed.args.input as string),
        consumer: parsed.args.consumer as string,
        ...unpackTerms(parsed.args.terms as readonly bigint[]),
        status: RequestStatus.Requested,
        disputeRounds: 0n,
        operator: ZeroAddress,
        resultCode: 0n,
        challengeEndsAt: 0n,
        outputHash: ZeroHash,
        traceCommitment: ZeroHash,
    };
}

/**
 * Where InferenceRequested's three `terms` words keep the request's fields `feeWei` to `mode`, as `[word, shift,
 * bits]` from the low bits: the layout documented on the event and written by the coordinator's `_terms`.
 */
const TERMS_LAYOUT = {
    feeWei: [0, 0, 96],
    assignedOperator: [0, 96, 160],
    collateralWei: [1, 0, 96],
    protocolFeeWei: [1, 96, 96],
    deadline: [1, 192, 40],
    mode: [1, 232, 8],
    bondWei: [2, 0, 96],
    exclusiveUntil: [2, 96, 40],
    callbackGasLimit: [2, 136, 32],
    challengeWindowSeconds: [2, 168, 32],
} as const satisfies Record<string, readonly [number, number, number]>;

type TermName = keyof typeof TERMS_LAYOUT;
const TERM_NAMES = Object.keys(TERMS_LAYOUT) as TermName[];

/** InferenceRequested's `terms`: the request's ten fields from `feeWei` to `mode`, packed in three words. */
function unpackTerms(terms: readonly bigint[]): Record<Exclude<TermName, "assignedOperator">, bigint> & {
    assignedOperator: string;
} {
    if (terms.length !== 3) throw new Error(`InferenceRequested terms: 3 words expected, got ${terms.length}`);
    const out: Record<string, bigint> = {};
    for (const name of TERM_NAMES) {
        const [word, shift, bits] = TERMS_LAYOUT[name];
        out[name] = (terms[word]! >> BigInt(shift)) & ((1n << BigInt(bits)) - 1n);
    }
    const { assignedOperator, ...rest } = out as Record<TermName, bigint>;
    return { ...rest, assignedOperator: getAddress(toBeHex(assignedOperator, 20)) };
}

/** The inverse of `unpackTerms`: a request's ten fields from `feeWei` to `mode`, as InferenceRequested packs them. */
export function packRequestTerms(request: Request): [bigint, bigint, bigint] {
    const words: [bigint, bigint, bigint] = [0n, 0n, 0n];
    for (const name of TERM_NAMES) {
        const [word, shift] = TERMS_LAYOUT[name];
        words[word] |= BigInt(String(request[name])) << BigInt(shift);
    }
    return words;
}

/** Every InferenceRequested event among `logs`, in order, with its struct and input. */
export function announcedRequests(logs: readonly LogLike[]): AnnouncedRequest[] {
    const out: AnnouncedRequest[] = [];
    for (const log of logs) {
        const parsed = parseCoordinatorLog(log);
        if (parsed?.name !== "InferenceRequested") continue;
        out.push({
            request: requestFromRequested(parsed),
            input: parsed.args.input as string,
            blockNumber: log.blockNumber,
            transactionHash: log.transactionHash,
            logIndex: log.index,
        });
    }
    return out;
}

/**
 * Applies the coordinator events among `logs` that change `request` (ResultSubmitted, ResultChallenged,
 * ChallengeWindowRestarted), in order, and returns the updated struct. Events of other requests are ignored.
 * Terminal events (finalized, cancelled, resolved against the operator, expired) end the commitment; they
 * leave the struct as it was, so callers check `isCommitted(struct)` (false once the request ended) or watch those
 * events themselves.
 */
export function applyRequestEvents(request: Request, logs: readonly LogLike[]): Request {
    const id = BigInt(request.requestId);
    let r: Request = { ...request };
    for (const log of logs) {
        const parsed = parseCoordinatorLog(log);
        if (parsed === null || parsed.args.length === 0 || parsed.args[0] !== id) continue;
        switch (parsed.name) {
            case "ResultSubmitted":
                r = {
                    ...r,
                    status: RequestStatus.Submitted,
                    operator: parsed.args.operator as string,
                    resultCode: parsed.args.resultCode as bigint,
                    // The event carries the output, not its hash: the struct commits keccak256(output).
                    outputHash: keccak256(parsed.args.output as string),
                    traceCommitment: parsed.args.traceCommitment as string,
                    challengeEndsAt: parsed.args.challengeEndsAt as bigint,
                };
                break;
            case "ResultChallenged":
                r = { ...r, status: RequestStatus.Disputed };
                break;
            case "ChallengeWindowRestarted":
                r = {
                    ...r,
                    status: RequestStatus.Submitted,
                    challengeEndsAt: parsed.args.challengeEndsAt as bigint,
                    disputeRounds: parsed.args.disputeRounds as bigint,
                };
                break;
            default:
                break;
        }
    }
    return r;
}

/** Fields of the Request struct that are integers (stored as decimal strings in JSON). */
const INTEGER_FIELDS = [
    "requestId",
    "feeWei",
    "collateralWei",
    "protocolFeeWei",
    "deadline",
    "exclusiveUntil",
    "callbackGasLimit",
    "challengeWindowSeconds",
    "bondWei",
    "mode",
    "status",
    "disputeRounds",
    "resultCode",
    "challengeEndsAt",
] as const;

/** A Request as plain JSON (integers as decimal strings), for storage. */
export function requestToJson(request: Request): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [key, value] of Object.entries(request)) out[key] = String(value);
    return out;
}

/** The inverse of `requestToJson`; refuses a record with a missing field. */
export function requestFromJson(json: Readonly<Record<string, unknown>>): Request {
    const field = (key: string): string => {
        const value = json[key];
        if (typeof value !== "string") throw new TypeError(`stored request lacks field ${key}`);
        return value;
    };
    const r: Record<string, string | bigint> = {};
    for (const key of [
        "modelId",
        "inputHash",
        "consumer",
        "assignedOperator",
        "operator",
        "outputHash",
        "traceCommitment",
    ]) {
        r[key] = field(key);
    }
    for (const key of INTEGER_FIELDS) r[key] = BigInt(field(key));
    return r as unknown as Request;
}
