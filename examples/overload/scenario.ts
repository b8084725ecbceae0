/**
 * The overload story, as `npm start` tells it (and as tests/examples replays it on a virtual
 * clock): a slow upstream is met by `@Fallback` > `@Bulkhead` > `@Timeout`. A burst runs two at a
 * time, queues two and turns two away; a slower upstream times out; a queued call gives up after
 * `maxWait`; every one of those callers still gets an answer, the last known price; then the
 * upstream recovers.
 */
import { policyOf } from '@staunch/decorators';
import type { ActivityTracker } from '../support/activity';
import type { Outcome, Timeline } from '../support/timeline';
import { QuoteClient, type Quote } from './client';
import { SlowUpstream } from './server';

/** A slow, overloaded upstream, and a client that stays answerable. */
export async function overloadScenario(timeline: Timeline, activity?: ActivityTracker): Promise<void> {
  const upstream = await SlowUpstream.start({
    ...(activity ? { activity } : {}),
    onRequest: ({ path, outcome }) => {
      timeline.add('server', `upstream: GET ${path} → ${outcome}`);
    },
  });
  timeline.add('note', `HTTP upstream listening on ${upstream.url}, ${upstream.latency} ms per request`);
  const client = new QuoteClient(upstream.url, activity);
  const quote = (label: string, symbol: string) =>
    timeline.call(
      label,
      () => client.quote(symbol),
      (q: Quote) => q.summary,
    );
  try {
    timeline.watchPolicy(policyOf(QuoteClient, 'quote', 'timeout'), 'quote');
    timeline.watchBulkhead(policyOf(client, 'quote', 'bulkhead'), 'quote');
    timeline.watchFallback(policyOf(QuoteClient, 'quote', 'fallback'), 'quote');

    timeline.add('step', 'A healthy call: 100 ms, a live price (and the one the fallback will remember)');
    await quote('quote(ACME)', 'ACME');

    timeline.add('step', 'A burst of 6 calls: 2 run, 2 wait in the queue, 2 are turned away at once → fallback');
    const burst = await Promise.all([1, 2, 3, 4, 5, 6].map((n) => quote(`quote(ACME) #${n}`, 'ACME')));
    expectSources('the burst', burst, ['live', 'live', 'live', 'live', 'cached', 'cached']);

    timeline.add('step', 'The upstream slows to 1 s per request: @Timeout aborts the call at 300 ms → fallback');
    upstream.setLatency(1_000);
    timeline.add('server', 'upstream: now 1000 ms per request');
    const slow = await quote('quote(ACME)', 'ACME');
    expectSources('the slow call', [slow], ['cached']);

    timeline.add('step', 'Slow and busy: 3 calls; the queued one gets no slot within maxWait (250 ms) → fallback');
    const busy = await Promise.all([1, 2, 3].map((n) => quote(`quote(ACME) #${n}`, 'ACME')));
    expectSources('the busy calls', busy, ['cached', 'cached', 'cached']);

    timeline.add('step', 'The upstream recovers: 100 ms per request, live prices again');
    upstream.setLatency(100);
    timeline.add('server', 'upstream: back to 100 ms per request');
    const recovered = await Promise.all([quote('quote(ACME)', 'ACME'), quote('quote(BOLT)', 'BOLT')]);
    expectSources('the recovery', recovered, ['live', 'live']);
    timeline.add('note', `the upstream saw ${upstream.requests} requests, never more than ${upstream.peak} at once`);
  } finally {
    timeline.close();
    await upstream.close();
  }
}

/** The story ends as told, or the demo says it did not. */
function expectSources(what: string, outcomes: readonly Outcome<Quote>[], sources: readonly Quote['source'][]): void {
  const got = outcomes.map((o) => (o.ok ? o.value.source : 'error'));
  if (got.join() !== sources.join())
    throw new Error(`overload: ${what} ended ${got.join(', ')}, not ${sources.join(', ')}`);
}
