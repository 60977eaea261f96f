/**
 * Runs `fn` on every item with at most `limit` calls in flight, starting them in the items' order, and resolves
 * when all have settled. A rejection does not stop the others: the first one is rethrown once every call is done
 * (callers that must not throw catch inside `fn`).
 */
export async function forEachConcurrently<T>(
    items: readonly T[],
    limit: number,
    fn: (item: T, index: number) => Promise<void>,
): Promise<void> {
    if (!Number.isInteger(limit) || limit < 1) {
        throw new RangeError(`forEachConcurrently: limit must be an integer >= 1, got ${limit}`);
    }
    let next = 0;
    let failed: { error: unknown } | undefined;
    const worker = async (): Promise<void> => {
        while (next < items.length) {
            const index = next++;
            try {
                await fn(items[index] as T, index);
            } catch (error) {
                failed ??= { error };
            }
        }
    };
    await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
    if (failed !== undefined) throw failed.error;
}
