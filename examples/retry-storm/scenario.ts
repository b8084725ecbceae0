/**
 * The retry-storm story, as `npm start` tells it (and as tests/examples replays it on a virtual
 * clock). The catalog goes down while 100 calls arrive over a second: a client that retries every
 * 503 three times sends it 300 requests; the same client with a retry budget sends it at most
 * (1 + 20 %) × 100 + its floor. Then the catalog recovers with a slow tail (every 4th request
 * takes 1 s): `@Hedge` sends a second request after 100 ms and the slow one is abandoned.
 */
import { getDefaultClock, policyOf, retryBudget } from '@staunch/decorators';
import type { ActivityTracker } from '../support/activity';
import type { Timeline } from '../support/timeline';
import { HedgedCatalog, PlainCatalog, stormClients } from './client';
import { CatalogService, type ItemBody } from './server';

/** How the storm is made: `batches` of `perBatch` calls, `gap` ms apart. */
const storm = { batches: 10, perBatch: 10, gap: 100 } as const;

/** A catalog that goes down, then gets a slow tail; clients with and without a budget, with and without a hedge. */
export async function retryStormScenario(timeline: Timeline, activity?: ActivityTracker): Promise<void> {
  const catalog = await CatalogService.start({
    ...(activity ? { activity } : {}),
    onAbandoned: (path, after) => {
      timeline.add('server', `catalog: GET ${path} abandoned by the client after ${after} ms`);
    },
  });
  timeline.add('note', `HTTP catalog listening on ${catalog.url}, 20 ms per request`);
  const budget = retryBudget({ ratio: 0.2, minPerSecond: 2, window: 10_000 });
  const { NaiveCatalog, BudgetedCatalog } = stormClients(budget);
  try {
    const calls = storm.batches * storm.perBatch;
    timeline.add('step', `The catalog goes down; ${calls} calls arrive over 1 s, each retrying 503s (times: 3)`);
    catalog.setDown(true);

    const naive = new NaiveCatalog(catalog.url, activity);
    const naiveFailed = await stormOf(timeline, (id) => naive.item(id));
    const withoutBudget = catalog.requests;
    timeline.add(
      'fail',
      `without a budget: ${naiveFailed} calls failed, the catalog received ${withoutBudget} requests (${ratio(withoutBudget, calls)})`,
    );

    catalog.resetCount();
    const budgeted = new BudgetedCatalog(catalog.url, activity);
    let refusedCalls = 0;
    policyOf(BudgetedCatalog, 'item', 'retry').on('giveUp', ({ reason }) => {
      if (reason === 'budget') refusedCalls++;
    });
    const budgetFailed = await stormOf(timeline, (id) => budgeted.item(id));
    const withBudget = catalog.requests;
    timeline.add(
      'fail',
      `with retryBudget({ ratio: 0.2, minPerSecond: 2 }): ${budgetFailed} calls failed, the catalog received ` +
        `${withBudget} requests (${ratio(withBudget, calls)}); ${refusedCalls} calls ended at once (give-up reason 'budget')`,
    );
    const bound = (1 + 0.2) * calls + 2 * 10;
    timeline.add(
      'note',
      `requests that reached the failing catalog: ${withoutBudget} without a budget, ${withBudget} with one (bound: ${bound})`,
    );
    if (withoutBudget !== 3 * calls || withBudget > bound) {
      throw new Error(
        `retry-storm: expected ${3 * calls} and at most ${bound} requests, saw ${withoutBudget} and ${withBudget}`,
      );
    }

    timeline.add('step', 'The catalog recovers, with a slow tail: every 4th request takes 1 s');
    catalog.setDown(false);
    catalog.setSlowTail(4, 1_000);
    catalog.resetCount();
    const plainSlowest = await sequence(timeline, 'plain', new PlainCatalog(catalog.url, activity));
    timeline.add('note', `without @Hedge: slowest call ${plainSlowest} ms, ${catalog.requests} requests`);

    catalog.resetCount();
    const hedged = new HedgedCatalog(catalog.url, activity);
    policyOf(hedged, 'item', 'hedge').on('hedge', ({ attempt }) => {
      timeline.tally.retries++;
      timeline.add('retry', `hedged: no answer within 100 ms, request ${attempt} sent alongside`);
    });
    const hedgedSlowest = await sequence(timeline, 'hedged', hedged);
    timeline.add(
      'note',
      `with @Hedge({ delay: 100 }): slowest call ${hedgedSlowest} ms, ${catalog.requests} requests (${catalog.abandoned} abandoned)`,
    );
    if (hedgedSlowest >= plainSlowest) throw new Error('retry-storm: the hedge did not cut the slow tail');
  } finally {
    timeline.close();
    await catalog.close();
  }
}

/** The storm: batches of concurrent calls `gap` ms apart; resolves with how many failed once all settled. */
async function stormOf(timeline: Timeline, call: (id: string) => Promise<ItemBody>): Promise<number> {
  const clock = getDefaultClock();
  const all: Promise<boolean>[] = [];
  for (let batch = 0; batch < storm.batches; batch++) {
    if (batch > 0) await clock.sleep(storm.gap);
    for (let i = 0; i < storm.perBatch; i++) {
      all.push(
        call(String(batch * storm.perBatch + i)).then(
          () => true,
          () => false,
        ),
      );
    }
  }
  const outcomes = await Promise.all(all);
  const failed = outcomes.filter((ok) => !ok).length;
  timeline.tally.calls += outcomes.length;
  timeline.tally.successes += outcomes.length - failed;
  timeline.tally.failures += failed;
  return failed;
}

/** Eight calls one after the other, each logged with how long it took; resolves with the slowest, ms. */
async function sequence(
  timeline: Timeline,
  name: string,
  client: { item(id: string): Promise<ItemBody> },
): Promise<number> {
  const clock = getDefaultClock();
  let slowest = 0;
  for (let n = 1; n <= 8; n++) {
    const start = clock.now();
    timeline.tally.calls++;
    try {
      const item = await client.item(String(n));
      const took = Math.round(clock.now() - start);
      slowest = Math.max(slowest, took);
      timeline.tally.successes++;
      timeline.add('ok', `${name}: item(${n}) → ${item.name} in ${took} ms`);
    } catch (error) {
      timeline.tally.failures++;
      timeline.add('fail', `${name}: item(${n}) → failed: ${String(error)}`);
    }
  }
  return slowest;
}

function ratio(requests: number, calls: number): string {
  return `${(requests / calls).toFixed(1)}x the calls`;
}
