/** The SQLite rows of the store's tables, and their mapping to the records of types.ts. */
import type {
    RequestState,
    RequestOutcome,
    StoredRequest,
    TxKind,
    WatchState,
    WatchOutcome,
    WatchedResult,
    TxState,
    StoredTx,
    TxAttempt,
} from "./types";

export interface RequestRow {
    request_id: string;
    model_id: string;
    block_number: number;
    block_hash: string;
    request_json: string;
    input: Buffer;
    state: RequestState;
    outcome: RequestOutcome | null;
    reason: string | null;
    result_code: number | null;
    output: Buffer | null;
    output_hash: string | null;
    tx_id: number | null;
    not_before: number;
    batchable: number;
    attempts: number;
    seen_at_ms: number;
    updated_at_ms: number;
}

export interface WatchedRow {
    request_id: string;
    model_id: string;
    block_number: number;
    request_json: string;
    input: Buffer;
    operator: string;
    result_code: number;
    output_hash: string;
    state: WatchState;
    outcome: WatchOutcome | null;
    reason: string | null;
    expected_code: number | null;
    expected_hash: string | null;
    bond_wei: string | null;
    salt: string | null;
    tx_id: number | null;
    not_before: number;
    attempts: number;
    seen_at_ms: number;
    updated_at_ms: number;
}

export interface TxRow {
    id: number;
    nonce: number;
    kind: TxKind;
    to_address: string;
    data: string;
    gas_limit: string;
    state: TxState;
    request_ids: string;
    created_at_ms: number;
    mined_hash: string | null;
    mined_block: number | null;
}

export interface AttemptRow {
    tx_id: number;
    hash: string;
    raw: string;
    max_fee: string;
    priority_fee: string;
    sent_at_ms: number;
}

export function toRequest(row: RequestRow): StoredRequest {
    return {
        requestId: row.request_id,
        modelId: row.model_id,
        blockNumber: row.block_number,
        blockHash: row.block_hash,
        request: JSON.parse(row.request_json) as StoredRequest["request"],
        input: new Uint8Array(row.input),
        state: row.state,
        outcome: row.outcome,
        reason: row.reason,
        resultCode: row.result_code,
        output: row.output === null ? null : new Uint8Array(row.output),
        outputHash: row.output_hash,
        txId: row.tx_id,
        notBefore: row.not_before,
        batchable: row.batchable === 1,
        attempts: row.attempts,
        seenAtMs: row.seen_at_ms,
        updatedAtMs: row.updated_at_ms,
    };
}

export function toWatched(row: WatchedRow): WatchedResult {
    return {
        requestId: row.request_id,
        modelId: row.model_id,
        blockNumber: row.block_number,
        request: JSON.parse(row.request_json) as WatchedResult["request"],
        input: new Uint8Array(row.input),
        operator: row.operator,
        resultCode: row.result_code,
        outputHash: row.output_hash,
        state: row.state,
        outcome: row.outcome,
        reason: row.reason,
        expectedCode: row.expected_code,
        expectedHash: row.expected_hash,
        bondWei: row.bond_wei,
        salt: row.salt,
        txId: row.tx_id,
        notBefore: row.not_before,
        attempts: row.attempts,
        seenAtMs: row.seen_at_ms,
        updatedAtMs: row.updated_at_ms,
    };
}

export function toTx(row: TxRow): StoredTx {
    return {
        id: row.id,
        nonce: row.nonce,
        kind: row.kind,
        to: row.to_address,
        data: row.data,
        gasLimit: BigInt(row.gas_limit),
        state: row.state,
        requestIds: JSON.parse(row.request_ids) as string[],
        createdAtMs: row.created_at_ms,
        minedHash: row.mined_hash,
        minedBlock: row.mined_block,
    };
}

export function toAttempt(row: AttemptRow): TxAttempt {
    return {
        txId: row.tx_id,
        hash: row.hash,
        raw: row.raw,
        maxFeePerGas: BigInt(row.max_fee),
        maxPriorityFeePerGas: BigInt(row.priority_fee),
        sentAtMs: row.sent_at_ms,
    };
}

/** The states of a request the node still acts on (all but `done`). */
export const OPEN_REQUEST_STATES: readonly RequestState[] = [
    "pending",
    "computed",
    "submitting",
    "submitted",
    "finalizing",
    "disputed",
];
