/** What the operator's and the finalizer's transaction outcomes (TxOutcomes) read of a transaction and its receipt. */
import { parseCoordinatorLog } from "../chain/requestEvents";
import type { TransactionReceipt } from "../chain/rpc";
import type { StoredRequest, StoredTx } from "../store/store";
import type { NodeContext } from "./context";

/** The ids of the requests whose `event` (ResultSubmitted, ResultFinalized) a receipt holds. */
export function requestIdsWith(ctx: NodeContext, receipt: TransactionReceipt, event: string): Set<string> {
    const ids = new Set<string>();
    for (const log of receipt.logs) {
        if (log.address.toLowerCase() !== ctx.coordinator.address.toLowerCase()) continue;
        const parsed = parseCoordinatorLog(log);
        if (parsed?.name === event) ids.add((parsed.args[0] as bigint).toString());
    }
    return ids;
}

/** The requests `tx` still carries: known, linked to it, and (with `openOnly`, the default) not done. */
export function carried(ctx: NodeContext, tx: StoredTx, { openOnly = true } = {}): StoredRequest[] {
    const out: StoredRequest[] = [];
    for (const id of tx.requestIds) {
        const stored = ctx.store.getRequest(id);
        if (stored === undefined || stored.txId !== tx.id || (openOnly && stored.state === "done")) continue;
        out.push(stored);
    }
    return out;
}
