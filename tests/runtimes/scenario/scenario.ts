/**
 * The one scenario every runtime and every build recipe runs (tests/runtimes): a retry, a circuit
 * opening and recovering, a poll, and an attempt timeout aborting a `fetch` to the loopback server
 * at `base` (the test's node:http server, or the page's own origin in the browser).
 *
 * It imports only `@staunch/decorators` and uses only what every runtime has (fetch, AbortSignal,
 * timers): no Node built-ins, no `process`. It compiles in both decorator modes (Stage-3 and
 * `experimentalDecorators`): no `#private` methods, no `accessor`. Real time, in tens of
 * milliseconds: the point is the runtime's own timers, fetch and decorator support.
 *
 * Returns one check per rule: name → true when it held, otherwise what was seen.
 */
import {
  AsyncBackoff,
  AttemptTimeoutError,
  CircuitBreaker,
  CircuitOpenError,
  Poll,
  Retry,
  attemptSignal,
  circuitOf,
  policiesOf,
} from '@staunch/decorators';

class Unavailable extends Error {}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

class Inventory {
  calls = 0;

  @Retry(Unavailable, { times: 3, interval: 5 })
  async stock(sku: string): Promise<number> {
    if (++this.calls < 3) throw new Unavailable('try again');
    return sku.length;
  }
}

class Payments {
  down = true;
  calls = 0;

  @CircuitBreaker(Unavailable, { threshold: 2, resetTimeout: 40 })
  async charge(amount: number): Promise<string> {
    this.calls++;
    if (this.down) throw new Unavailable('payments down');
    return `charged ${amount}`;
  }
}

class Export {
  checks = 0;

  @Poll((state: string) => state === 'done', { interval: 5, timeout: 2_000 })
  async state(): Promise<string> {
    return ++this.checks < 3 ? 'running' : 'done';
  }
}

class Slow {
  constructor(readonly base: string) {}

  @AsyncBackoff({ attemptTimeout: 200, maxTries: 1 })
  async get(): Promise<string> {
    const response = await fetch(`${this.base}/slow`, { signal: attemptSignal() });
    return response.text();
  }
}

/** How an error looks in a report: its class and message. */
const describe = (error: unknown): string =>
  error instanceof Error ? `${error.constructor.name}: ${error.message}` : String(error);

export async function runScenario(base: string): Promise<Record<string, unknown>> {
  const checks: Record<string, unknown> = {};
  const check = (name: string, ok: boolean, seen: unknown): void => {
    checks[name] = ok || seen;
  };

  const inventory = new Inventory();
  const stock = await inventory.stock('sku-42');
  check('retry: 2 failures, then the result', stock === 6 && inventory.calls === 3, { stock, calls: inventory.calls });
  check(
    'retry: recorded as metadata',
    policiesOf(Inventory, 'stock')[0]?.kind === 'retry',
    policiesOf(Inventory, 'stock'),
  );

  const payments = new Payments();
  const circuit = circuitOf(Payments, 'charge');
  for (let i = 0; i < 2; i++) await payments.charge(i).catch(() => undefined);
  check('circuit: opens after 2 failures', circuit.state === 'open', circuit.state);
  const rejected = await payments.charge(3).then(String, (error: unknown) => error);
  check('circuit: rejects while open, without calling', rejected instanceof CircuitOpenError && payments.calls === 2, {
    rejected: describe(rejected),
    calls: payments.calls,
  });
  payments.down = false;
  await sleep(60);
  const trial = await payments.charge(4).catch(describe);
  check('circuit: a trial after resetTimeout closes it', trial === 'charged 4' && circuit.state === 'closed', {
    trial,
    state: circuit.state,
  });

  const job = new Export();
  const state = await job.state();
  check('poll: calls until the predicate holds', state === 'done' && job.checks === 3, { state, checks: job.checks });

  const started = Date.now();
  const slow = await new Slow(base).get().then(String, (error: unknown) => error);
  const elapsed = Date.now() - started;
  check('timeout: the attempt times out with AttemptTimeoutError', slow instanceof AttemptTimeoutError, describe(slow));
  check('timeout: the call ends at once', elapsed < 2_000, elapsed);
  // The server never answers /slow: only the aborted fetch closes that request while we live.
  let aborted = '0';
  for (let i = 0; i < 100 && aborted === '0'; i++) {
    aborted = await (await fetch(`${base}/aborted`)).text();
    if (aborted === '0') await sleep(10);
  }
  check('timeout: the fetch is aborted (the server sees the request closed)', aborted === '1', aborted);

  return checks;
}
