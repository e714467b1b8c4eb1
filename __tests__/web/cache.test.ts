import { cacheFor, refreshedEvery } from '../../web/cache';

function counter() {
  let loads = 0;
  let fail = false;
  return {
    load: async () => {
      loads += 1;
      if (fail) throw new Error('store down');
      return loads;
    },
    get loads() {
      return loads;
    },
    failNext(value: boolean) {
      fail = value;
    },
  };
}

test('reuses a result for the period, then loads again', async () => {
  let now = 0;
  const source = counter();
  const get = cacheFor(5, source.load, () => now);
  await expect(get()).resolves.toBe(1);
  now = 4_999;
  await expect(get()).resolves.toBe(1);
  now = 5_000;
  await expect(get()).resolves.toBe(2);
  expect(source.loads).toBe(2);
});

test('requests arriving during a load share it', async () => {
  const source = counter();
  const get = cacheFor(5, source.load, () => 0);
  await expect(Promise.all([get(), get(), get()])).resolves.toEqual([1, 1, 1]);
  expect(source.loads).toBe(1);
});

test('a failed load is not kept: the next request tries again', async () => {
  const source = counter();
  const get = cacheFor(60, source.load, () => 0);
  source.failNext(true);
  await expect(get()).rejects.toThrow('store down');
  source.failNext(false);
  await expect(get()).resolves.toBe(2);
});

test('a period of zero loads every time', async () => {
  const source = counter();
  const get = cacheFor(0, source.load, () => 0);
  await get();
  await get();
  expect(source.loads).toBe(2);
});

describe('refreshedEvery', () => {
  test('serves the last answer while one reload runs, then the new one', async () => {
    let now = 0;
    let release: (() => void) | undefined;
    let loads = 0;
    const get = refreshedEvery(5, async () => {
      loads += 1;
      if (loads > 1) await new Promise<void>((resolve) => (release = resolve));
      return loads;
    }, () => now);
    await expect(get()).resolves.toBe(1);
    now = 5_000;
    // Stale: answered at once with the old value, and only one reload starts however many ask.
    await expect(Promise.all([get(), get(), get()])).resolves.toEqual([1, 1, 1]);
    expect(loads).toBe(2);
    release?.();
    await new Promise((resolve) => setImmediate(resolve));
    await expect(get()).resolves.toBe(2);
  });

  test('drops the old answer when a reload fails, so the next request reads again and sees the failure', async () => {
    let now = 0;
    const source = counter();
    const get = refreshedEvery(5, source.load, () => now);
    await expect(get()).resolves.toBe(1);
    now = 5_000;
    source.failNext(true);
    await expect(get()).resolves.toBe(1);
    await new Promise((resolve) => setImmediate(resolve));
    await expect(get()).rejects.toThrow('store down');
    source.failNext(false);
    await expect(get()).resolves.toBe(4);
  });

  test('a period of zero reads every time', async () => {
    const source = counter();
    const get = refreshedEvery(0, source.load, () => 0);
    await get();
    await get();
    expect(source.loads).toBe(2);
  });
});
