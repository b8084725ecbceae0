import { collectGarbage } from './gc';

/**
 * The heap each item made by `make` keeps, in bytes: heap growth over `count` of them, read after real
 * garbage collections once the job that made them has ended (V8 keeps a WeakRef's target until then).
 */
export async function heapPerItem(count: number, make: () => object): Promise<number> {
  const kept: object[] = new Array<object>(count);
  await collectGarbage();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < count; i++) kept[i] = make();
  await collectGarbage();
  const after = process.memoryUsage().heapUsed;
  if (kept.length !== count) throw new Error('heapPerItem: lost an item');
  return (after - before) / count;
}

/**
 * The least of `tries` readings of `measure` (bytes): heap readings are noisy on a loaded machine (a
 * concurrent sweep not yet done adds to one reading, never takes away), while a real cost shows in every one.
 */
export async function leastOf(tries: number, measure: () => Promise<number>): Promise<number> {
  let least = Infinity;
  for (let i = 0; i < tries; i++) least = Math.min(least, await measure());
  return least;
}
