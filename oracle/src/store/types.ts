/**
 * What the store holds, as the node's code sees it: the lifecycles of requests, watched results and transactions,
 * and their records (store.ts keeps them; rows.ts maps them to and from SQLite rows).
 */
/**
 * Lifecycle of a request in the node (not on chain):
 * - `pending`: seen; the operator role may execute it (from `not_before` on).
 * - `computed`: the result is stored; waiting to be sent.
 * - `submitting`: a submit transaction holding it is pending.
 * - `submitted`: our result is on chain; the finalizer waits for the challenge window.
 * - `finalizing`: a finalize transaction holding it is pending.
 * - `disputed`: our result is challenged; the resolver decides.
 * - `done`: nothing left to do (finalized, cancelled, served by another operator, declined, expired, dropped...).
 *   `outcome` says which.
 */
export type RequestState = "pending" | "computed" | "submitting" | "submitted" | "finalizing" | "disputed" | "done";

/** Why a request is done. */
export type RequestOutcome =
    | "finalized"
    | "finalized_by_other"
    | "served_by_other"
    | "cancelled"
    | "expired"
    | "declined"
    | "reorged"
    | "reverted"
    | "slashed"
    | "voided";

export interface StoredRequest {
    requestId: string;
    modelId: string;
    blockNumber: number;
    blockHash: string;
    /** The coordinator's Request struct as it stands now, JSON with bigints as decimal strings. */
    request: Record<string, string | number | boolean>;
    input: Uint8Array;
    state: RequestState;
    outcome: RequestOutcome | null;
    reason: string | null;
    resultCode: number | null;
    output: Uint8Array | null;
    outputHash: string | null;
    txId: number | null;
    /** Unix seconds before which the operator should not act (exclusive window of another operator). */
    notBefore: number;
    /** Whether this request may go into a batch transaction (false after a batch holding it reverted). */
    batchable: boolean;
    /** Times a send of this request was put off because the chain did not (yet) agree with our view. */
    attempts: number;
    seenAtMs: number;
    updatedAtMs: number;
}

export type TxKind =
    | "submit"
    | "submit_batch"
    | "finalize"
    | "finalize_batch"
    | "expire_dispute"
    | "commit_challenge"
    | "challenge"
    | "approve"
    | "withdraw"
    | "noop";

/**
 * Lifecycle of another operator's result watched by the challenger (table `watched`):
 * - `unchecked`: seen (confirmed ResultSubmitted); to be re-executed by the reference interpreter.
 * - `suspect`: the reference disagrees with the submitted result; the chain's own re-execution must confirm it.
 * - `wrong`: the chain's re-execution confirms it; a dispute is due (from `not_before` on). Its challenge commitment
 *   is made first (`salt`, stored before the commitment is sent).
 * - `committing`: a `commitChallenge` transaction holding it is pending.
 * - `committed`: our commitment is on chain; its reveal (`challenge`) is due once a later block accepts it.
 * - `challenging`: a challenge (reveal) transaction holding it is pending.
 * - `challenged`: that transaction was mined; the confirmed DisputeResolved event records the outcome.
 * - `done`: nothing left to do; `outcome` says why.
 */
export type WatchState =
    "unchecked" | "suspect" | "wrong" | "committing" | "committed" | "challenging" | "challenged" | "done";

/** States in which a bond of ours is earmarked: to be pulled (`committing` to `challenging`) or pulled, undecided. */
export type BondState = "committing" | "committed" | "challenging" | "challenged";

/** Why a watched result is done. */
export type WatchOutcome =
    /** The reference interpreter agrees with the submitted result. */
    | "correct"
    /** Our reference disagrees with the submitted result, but the chain's re-execution agrees with it. */
    | "reference_disagrees"
    /** Our dispute slashed the operator / was rejected. */
    | "won"
    | "lost"
    /** Someone else's dispute slashed the operator first. */
    | "slashed_by_other"
    | "finalized"
    | "voided"
    /** The challenge window closed before a dispute could be sent. */
    | "window_closed"
    /** Not disputed on purpose (bond above the cap, model not available, no resolver); `reason` says which. */
    | "skipped"
    /** The chain kept refusing our challenge. */
    | "reverted"
    | "reorged";

export interface WatchedResult {
    requestId: string;
    modelId: string;
    /** Block of the ResultSubmitted event. */
    blockNumber: number;
    /** The coordinator's Request struct as it stands now (status Submitted or Disputed), JSON. */
    request: Record<string, string | number | boolean>;
    input: Uint8Array;
    /** The operator that submitted it (lowercase). */
    operator: string;
    resultCode: number;
    outputHash: string;
    state: WatchState;
    outcome: WatchOutcome | null;
    reason: string | null;
    /** The canonical result (reference interpreter, then the chain's re-execution), once checked. */
    expectedCode: number | null;
    expectedHash: string | null;
    /** The bond of our pending challenge (wei, decimal). */
    bondWei: string | null;
    /**
     * The secret salt of our challenge commitment (`challengeCommitment(requestId, us, salt)`), 32 bytes hex: stored
     * before the commitment is sent and kept until the row is replaced, so a restart reveals what was committed.
     */
    salt: string | null;
    txId: number | null;
    notBefore: number;
    attempts: number;
    seenAtMs: number;
    updatedAtMs: number;
}
export type TxState = "pending" | "mined" | "reverted" | "dropped";

export interface StoredTx {
    id: number;
    nonce: number;
    kind: TxKind;
    to: string;
    data: string;
    gasLimit: bigint;
    state: TxState;
    requestIds: string[];
    createdAtMs: number;
    minedHash: string | null;
    minedBlock: number | null;
}

export interface TxAttempt {
    txId: number;
    hash: string;
    raw: string;
    maxFeePerGas: bigint;
    maxPriorityFeePerGas: bigint;
    sentAtMs: number;
}

/** Identity of the chain state the database belongs to; checked on every open. */
export interface StoreIdentity {
    chainId: number;
    coordinator: string;
    operator: string;
}
