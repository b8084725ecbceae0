/**
 * One checkout worker of the shared-circuit example: a Node process of its own, forked by
 * ./fleet.ts with REDIS_URL, PAYMENTS_URL and WORKER_NAME. It runs `Checkout.charge` when the
 * demo asks (over IPC) and tells the demo what its circuit and its store report. It exits when
 * asked to stop, or when the demo's process is gone.
 */
import { circuitOf, isCircuitOpenError } from '@staunch/decorators';
import { redisStore } from '@staunch/redis';
import { Checkout, PaymentsUnavailable, redis } from './checkout';
import type { ChargeFailure, FromWorker, ToWorker } from './fleet';

const name = process.env.WORKER_NAME ?? 'worker';
const checkout = new Checkout(process.env.PAYMENTS_URL ?? '', name);
// The store the decorator was given: redisStore() returns the same one for the same client.
const store = redisStore(redis);

const send = (message: FromWorker): void => {
  if (process.connected) process.send?.(message);
};

// Every change of this process's circuit, its own (failures, trials) and the fleet's (reason 'shared').
circuitOf(Checkout, 'charge').on('stateChange', ({ from, to, reason }) => {
  send({ type: 'circuit', from, to, reason });
});
store.on('change', ({ state, epoch, holder }) => {
  send({ type: 'store', state, epoch, holder });
});
store.on('unavailable', ({ error }) => {
  send({ type: 'unavailable', error: String(error) });
});
// The store reports a lost connection once ('unavailable'); ioredis would log every retry.
redis.on('error', () => undefined);

function failure(error: unknown): ChargeFailure {
  if (isCircuitOpenError(error)) return { kind: 'circuit-open', circuit: error.circuit, retryAfter: error.retryAfter };
  if (error instanceof PaymentsUnavailable) return { kind: 'failed', summary: error.summary };
  return { kind: 'failed', summary: error instanceof Error ? error.message : String(error) };
}

async function charge(id: number, orderId: string): Promise<void> {
  let result: FromWorker;
  try {
    result = { type: 'result', id, ok: true, receipt: await checkout.charge(orderId) };
  } catch (error) {
    result = { type: 'result', id, ok: false, error: failure(error) };
  }
  // A real service would not wait for this: the store reports failures in the background. The demo
  // waits until Redis has them, so that its story happens in the same order on every run.
  await store.flush();
  send(result);
}

async function stop(): Promise<void> {
  await store.close();
  redis.disconnect();
  process.exit(0);
}

process.on('message', (message: ToWorker) => {
  if (message.type === 'charge') void charge(message.id, message.orderId);
  else void stop();
});
// The demo's process is gone: nobody can ask anything of this worker any more.
process.on('disconnect', () => process.exit(0));

store.ready().then(
  () => {
    send({ type: 'ready', processId: store.options.processId });
  },
  (error: unknown) => {
    console.error(`${name}: ${String(error)}`);
    process.exit(1);
  },
);
