import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

// Node exposes `gc` only behind --expose-gc; the flag can be set at run time, and a new context then has it.
setFlagsFromString('--expose-gc');
const gc: unknown = runInNewContext('gc');
if (typeof gc !== 'function')
  throw new Error('tests/core/gc.ts: no gc() even after --expose-gc: these tests cannot run');

/**
 * Collects garbage for real: after a macrotask (a WeakRef keeps its target
 * alive until the end of the job that last read it), twice (finalizers, weak cells).
 */
export async function collectGarbage(): Promise<void> {
  for (let i = 0; i < 2; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    (gc as () => void)();
  }
}
