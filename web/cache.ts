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

/**
 * Like cacheFor, but a caller never waits for a reload once there is an answer: past the
 * period, the last answer is served while one reload runs for everyone. A reload that
 * fails drops the old answer, so the next request reads again (and reports the failure if
 * the store is still down) rather than serving stale data through an outage. For reads
 * that are slow because they are big (the catalogue of 50,000 series), not because they
 * are rare. A period of zero reads every time.
 */
export function refreshedEvery<T>(seconds: number, load: () => Promise<T>, now: () => number = Date.now): () => Promise<T> {
  if (seconds === 0) return load;
  let answer: { value: T; loadedAt: number } | undefined;
  let loading: Promise<T> | undefined;
  const reload = (): Promise<T> => {
    const started = now();
    loading ??= load().then(
      (value) => {
        answer = { value, loadedAt: started };
        loading = undefined;
        return value;
      },
      (error: unknown) => {
        answer = undefined;
        loading = undefined;
        throw error;
      },
    );
    return loading;
  };
  return () => {
    if (answer === undefined) return reload();
    if (now() - answer.loadedAt >= seconds * 1000) reload().catch(() => undefined);
    return Promise.resolve(answer.value);
  };
}
