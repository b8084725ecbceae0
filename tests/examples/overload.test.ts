import { request } from 'node:http';
import { BulkheadRejectedError, policyOf } from '@staunch/decorators';
import { QuoteClient, UpstreamError } from '../../examples/overload/client';
import { overloadScenario } from '../../examples/overload/scenario';
import { SlowUpstream } from '../../examples/overload/server';
import { Timeline } from '../../examples/support/timeline';
import { expectInOrder } from './helpers/lines';
import { useVirtualTime, type VirtualTime } from './helpers/virtual-time';

const servers = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPServerWrap').length;

/** Resolves with the error code of a GET to `url` (or `'answered'`). */
const probe = (url: string) =>
  new Promise<string>((resolve) => {
    request(url, { agent: false }, (res) => {
      res.resume();
      resolve('answered');
    })
      .on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message))
      .end();
  });

describe('examples/overload (real HTTP server on 127.0.0.1, virtual clock)', () => {
  let time: VirtualTime;
  beforeEach(() => {
    time = useVirtualTime();
  });
  afterEach(() => {
    time.restore();
  });

  it('queues and turns away a burst, aborts slow calls, gives up on a queued call after maxWait, and answers every one', async () => {
    const serversBefore = servers();
    const timeline = new Timeline();
    await time.run(() => overloadScenario(timeline, time.activity));

    expectInOrder(timeline.lines, [
      '## A healthy call: 100 ms, a live price (and the one the fallback will remember)',
      'upstream: GET /quotes/ACME → 200 after 100 ms (1 in flight)',
      'quote(ACME) → ACME 82.58 (live)',
      '## A burst of 6 calls: 2 run, 2 wait in the queue, 2 are turned away at once → fallback',
      'quote(ACME) #3',
      'quote: every slot busy, waits in the queue (1 waiting)',
      'quote(ACME) #4',
      'quote: every slot busy, waits in the queue (2 waiting)',
      'quote(ACME) #5',
      'quote: bulkhead full (2 running, 2 waiting), rejected without running',
      'quote(ACME) #6',
      'quote: bulkhead full (2 running, 2 waiting), rejected without running',
      'quote: BulkheadRejectedError (full), the fallback answers',
      'quote: BulkheadRejectedError (full), the fallback answers',
      'quote(ACME) #5 → ACME 82.58 (cached)',
      'quote(ACME) #6 → ACME 82.58 (cached)',
      // The two running calls end together, then the two that waited: over two sockets, in either order.
      /^quote\(ACME\) #[12] → ACME 82\.58 \(live\)$/,
      /^quote\(ACME\) #[12] → ACME 82\.58 \(live\)$/,
      /^quote\(ACME\) #[34] → ACME 82\.58 \(live\)$/,
      /^quote\(ACME\) #[34] → ACME 82\.58 \(live\)$/,
      '## The upstream slows to 1 s per request: @Timeout aborts the call at 300 ms → fallback',
      'upstream: now 1000 ms per request',
      'quote: no answer within 300 ms, attempt abandoned (its signal aborted)',
      'quote: CallTimeoutError after 300 ms, the fallback answers',
      'quote(ACME) → ACME 82.58 (cached)',
      '## Slow and busy: 3 calls; the queued one gets no slot within maxWait (250 ms) → fallback',
      'quote: every slot busy, waits in the queue (1 waiting)',
      'quote: no slot within maxWait, rejected without running',
      'quote: BulkheadRejectedError (maxWait), the fallback answers',
      'quote(ACME) #3 → ACME 82.58 (cached)',
      'quote: no answer within 300 ms, attempt abandoned (its signal aborted)',
      'quote: CallTimeoutError after 300 ms, the fallback answers',
      /^quote\(ACME\) #[12] → ACME 82\.58 \(cached\)$/,
      'quote: no answer within 300 ms, attempt abandoned (its signal aborted)',
      'quote: CallTimeoutError after 300 ms, the fallback answers',
      /^quote\(ACME\) #[12] → ACME 82\.58 \(cached\)$/,
      '## The upstream recovers: 100 ms per request, live prices again',
      /^upstream: GET \/quotes\/BOLT → 200 after 100 ms \([12] in flight\)$/,
      'the upstream saw 10 requests, never more than 2 at once',
    ]);
    // Every timed-out request was really aborted: the upstream saw each of the three hang up.
    expect(timeline.lines.filter((l) => l.includes('the client hung up before the 1000 ms were up'))).toHaveLength(3);
    // The bulkhead kept the upstream at 2 requests at once: 1 + 2 + 2 + 1 + 2 answered ones, each seen.
    expect(timeline.lines.filter((l) => / → 200 after 100 ms \([12] in flight\)$/.test(l))).toHaveLength(7);
    expect(timeline.lines).toContain('quote(BOLT) → BOLT 95.65 (live)');
    expect(timeline.tally).toEqual({
      calls: 13,
      successes: 13,
      failures: 0,
      retries: 0,
      timeouts: 3,
      fastFailures: 3,
      transitions: 0,
    });

    // On the virtual clock the timing is exact: the burst's queued pair runs 100–200 ms after it
    // began, the slow call is cut at 300 ms, the queued busy call gives up at maxWait (250 ms).
    const at = (text: string, from = 0) => timeline.entries.slice(from).find((e) => e.text === text)?.at;
    expect(at('quote(ACME) #4 → ACME 82.58 (live)')! - at('quote(ACME) #4')!).toBe(200);
    expect(at('quote(ACME) #5 → ACME 82.58 (cached)')! - at('quote(ACME) #5')!).toBe(0);
    const slowStart = timeline.entries.findIndex((e) => e.text === 'upstream: now 1000 ms per request');
    const slowAt = timeline.entries[slowStart]!.at;
    expect(at('quote(ACME) → ACME 82.58 (cached)', slowStart)! - slowAt).toBe(300);
    expect(at('quote(ACME) #3 → ACME 82.58 (cached)', slowStart)! - slowAt).toBe(300 + 250);
    expect(at('the upstream saw 10 requests, never more than 2 at once')! - slowAt).toBe(300 + 300 + 100);

    // Nothing left behind: no timer on the clock, the upstream closed.
    expect(time.clock.pending).toBe(0);
    await new Promise((resolve) => setImmediate(resolve)); // a closed handle leaves the list on the next turn
    expect(servers()).toBe(serversBefore);
    const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(timeline.lines[0]!)?.[1];
    expect(await probe(`${url!}/quotes/ACME`)).toBe('ECONNREFUSED');
  });

  describe('QuoteClient', () => {
    let upstream: SlowUpstream;
    let client: QuoteClient;
    beforeEach(async () => {
      upstream = await SlowUpstream.start({ activity: time.activity });
      client = new QuoteClient(upstream.url, time.activity);
    });
    afterEach(async () => {
      await upstream.close();
    });

    it('falls back to "no price" when it has never seen the symbol', async () => {
      upstream.setLatency(1_000);
      await expect(time.run(() => client.quote('ACME'))).resolves.toMatchObject({ symbol: 'ACME', source: 'none' });
      expect(time.clock.now()).toBe(300);
    });

    it('lets an error the fallback does not name surface unchanged (a 404)', async () => {
      await expect(time.run(() => client.quote('lower'))).rejects.toEqual(new UpstreamError(404, '/quotes/lower'));
    });

    it('gives each client its own bulkhead (scope: instance)', async () => {
      const other = new QuoteClient(upstream.url, time.activity);
      const mine = policyOf(client, 'quote', 'bulkhead');
      const rejected: unknown[] = [];
      mine.on('rejected', ({ reason, error }) => rejected.push([reason, error]));
      const calls = [1, 2, 3, 4, 5].map(() => client.quote('ACME'));
      const elsewhere = other.quote('ACME');
      await time.run(() => Promise.all([...calls, elsewhere]));
      expect(rejected).toEqual([['full', expect.any(BulkheadRejectedError)]]);
      expect(policyOf(other, 'quote', 'bulkhead').statistics.rejected).toBe(0);
      expect(upstream.peak).toBe(3); // two of this client's, one of the other's
    });
  });
});
