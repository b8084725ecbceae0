/**
 * A rate limit shared by real processes: workers forked by ./support/fleet.ts, each with its own
 * ioredis client and `@staunch/redis` rate-limit store (./support/fleet-rate-limit-setup.ts), calling
 * as fast as their limiters let them, against a real redis-server this file starts.
 *
 * The server decides each admission at its own time, somewhere in the call's `[sent, ran]` interval
 * (Date.now() in the worker; one machine, one clock). So a set of calls whose intervals all fit in a
 * span of `L` ms was admitted within less than `L` ms of server time; if such a set is larger than the
 * limit allows in `L` ms, the fleet broke the limit. The control run (each process limiting itself
 * alone, no Redis) shows that the check catches a fleet over the limit.
 */
import { join } from 'node:path';
import { startFleet, type Fleet } from './support/fleet';
import type { HammerOptions } from './support/fleet-rate-limit-setup';
import { describeWithRedis, startRedisServer, type RedisServer } from './support/redis-server';

const setupModule = join(__dirname, 'support/fleet-rate-limit-setup.ts');
const processes = 3;

/**
 * The largest excess found: for each set of calls fitting in a span (from one call's `sent` to another's
 * `ran + 1`, Date.now() being truncated), how many more were admitted than the limit allows in that span.
 * Sliding window: `permits` in any span of at most `per`. Token bucket: `permits + floor(span × permits / per)`.
 */
function worstExcess(
  calls: readonly [number, number][],
  options: Pick<HammerOptions, 'permits' | 'per' | 'algorithm'>,
) {
  const { permits, per, algorithm } = options;
  const bySent = [...calls].sort((a, b) => a[0] - b[0]);
  const ends = [...new Set(calls.map(([, ran]) => ran + 1))].sort((a, b) => a - b);
  let worst = -Infinity;
  for (let i = 0; i < bySent.length; i++) {
    const start = bySent[i]![0];
    if (i > 0 && bySent[i - 1]![0] === start) continue;
    const after = bySent.slice(i);
    for (const end of ends) {
      if (end <= start) continue;
      const span = end - start;
      const allowed =
        algorithm === 'sliding-window'
          ? span <= per
            ? permits
            : Infinity
          : permits + Math.floor((span * permits) / per);
      if (allowed === Infinity) break;
      const inside = after.filter(([, ran]) => ran + 1 <= end).length;
      worst = Math.max(worst, inside - allowed);
    }
  }
  return worst;
}

describeWithRedis('a rate limit shared by real processes', () => {
  let server: RedisServer;
  let fleet: Fleet | undefined;
  let count = 0;

  beforeAll(async () => {
    server = await startRedisServer();
    fleet = await startFleet(processes, setupModule, { REDIS_URL: server.url });
  });
  afterAll(async () => {
    await fleet?.stop();
    await server.stop();
  });

  const hammer = async (options: Omit<HammerOptions, 'name'>): Promise<[number, number][]> => {
    const name = `fleet-rate-${++count}`;
    const results = await Promise.all(
      (fleet as Fleet).workers.map(
        (worker) => worker.call('hammer', { ...options, name }) as Promise<[number, number][]>,
      ),
    );
    return results.flat();
  };

  it.each(['token-bucket', 'sliding-window'] as const)(
    '%s: the fleet never admits more than the limit over any window, and uses it',
    async (algorithm) => {
      const options = { permits: 10, per: 200, algorithm, durationMs: 1_000, concurrency: 4, shared: true };
      const calls = await hammer(options);
      expect(worstExcess(calls, options)).toBeLessThanOrEqual(0);
      // 1 s at 10 per 200 ms is about 50: most of it was used (the bound above is the check's business).
      expect(calls.length).toBeGreaterThanOrEqual(35);
    },
  );

  it('control: processes limiting themselves alone admit about `processes` times the limit, and the check sees it', async () => {
    const options = {
      permits: 10,
      per: 200,
      algorithm: 'sliding-window' as const,
      durationMs: 600,
      concurrency: 4,
      shared: false,
    };
    const calls = await hammer(options);
    expect(worstExcess(calls, options)).toBeGreaterThan(0);
  });
});
