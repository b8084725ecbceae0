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
