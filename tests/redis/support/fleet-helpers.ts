/**
 * Typed access to the handlers of ./fleet-circuit-setup.ts, for ../fleet-circuit.test.ts: the fleet
 * harness carries calls as `unknown` over IPC; this names each handler with its argument and result
 * types (only types are imported from the setup module: nothing of it runs in the test process).
 */
import type { CircuitBreakerStats } from '@staunch/core';
import type { Worker } from './fleet';
import type {
  Behaviour,
  BurstResult,
  ChangeRecord,
  CircuitConfig,
  HammerOptions,
  HammerResult,
  Invocation,
  Outcome,
  SharedStateName,
} from './fleet-circuit-setup';

/** One worker of a fleet started with fleet-circuit-setup.ts. */
export interface CircuitWorker {
  readonly index: number;
  /** The process itself (to kill it). */
  readonly worker: Worker;
  configure(name: string, config: CircuitConfig): Promise<string>;
  call(name: string, behaviour: Behaviour): Promise<Outcome>;
  burst(name: string, behaviour: Behaviour, count: number): Promise<BurstResult>;
  hammer(name: string, behaviour: Behaviour, options: HammerOptions): Promise<HammerResult>;
  invocations(name: string): Promise<number>;
  invocationLog(name: string): Promise<Invocation[]>;
  state(name: string): Promise<SharedStateName>;
  stats(name: string): Promise<CircuitBreakerStats>;
  flush(): Promise<number>;
  changes(name: string): Promise<ChangeRecord[]>;
  waitForChange(name: string, state: SharedStateName, minEpoch?: number, timeoutMs?: number): Promise<ChangeRecord>;
}

/** Wraps each worker's `call(method, ...args)` in typed methods. */
export function circuitWorkers(workers: readonly Worker[]): CircuitWorker[] {
  return workers.map((worker): CircuitWorker => {
    const call =
      <T>(method: string) =>
      (...args: unknown[]): Promise<T> =>
        worker.call(method, ...args) as Promise<T>;
    return {
      index: worker.index,
      worker,
      configure: call('configure'),
      call: call('call'),
      burst: call('burst'),
      hammer: call('hammer'),
      invocations: call('invocations'),
      invocationLog: call('invocationLog'),
      state: call('state'),
      stats: call('stats'),
      flush: call('flush'),
      changes: call('changes'),
      waitForChange: call('waitForChange'),
    };
  });
}

export const sum = (values: readonly number[]): number => values.reduce((total, value) => total + value, 0);
