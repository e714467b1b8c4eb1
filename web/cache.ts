/**
 * Reuses the result of an expensive read for a few seconds, and shares one read among
 * the requests that arrive while it is in flight, so a crowd refreshing the dashboard
 * costs one read per period rather than one per viewer.
 */
export function cacheFor<T>(seconds: number, load: () => Promise<T>, now: () => number = Date.now): () => Promise<T> {
  let cached: { value: Promise<T>; loadedAt: number } | undefined;
  return () => {
    const time = now();
    if (cached === undefined || time - cached.loadedAt >= seconds * 1000) {
      const entry = { value: load(), loadedAt: time };
      cached = entry;
      // A failed read is not kept: the next request tries again.
      entry.value.catch(() => {
        if (cached === entry) cached = undefined;
      });
    }
    return cached.value;
  };
}
