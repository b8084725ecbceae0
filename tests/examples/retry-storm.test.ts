import { policyOf, retryBudget } from '@staunch/decorators';
import { CatalogUnavailableError, HedgedCatalog, stormClients } from '../../examples/retry-storm/client';
import { retryStormScenario } from '../../examples/retry-storm/scenario';
import { CatalogService } from '../../examples/retry-storm/server';
import { Timeline } from '../../examples/support/timeline';
import { expectInOrder } from './helpers/lines';
import { useVirtualTime, type VirtualTime } from './helpers/virtual-time';

const servers = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPServerWrap').length;

describe('examples/retry-storm (real HTTP server on 127.0.0.1, virtual clock)', () => {
  let time: VirtualTime;
  beforeEach(() => {
    time = useVirtualTime();
  });
  afterEach(() => {
    time.restore();
  });

  it('sends a failing catalog 3x its calls without a budget and at most 1.2x + floor with one, then hedges the slow tail', async () => {
    const serversBefore = servers();
    const timeline = new Timeline();
    await time.run(() => retryStormScenario(timeline, time.activity));

    expectInOrder(timeline.lines, [
      '## The catalog goes down; 100 calls arrive over 1 s, each retrying 503s (times: 3)',
      'without a budget: 100 calls failed, the catalog received 300 requests (3.0x the calls)',
      /^with retryBudget\(\{ ratio: 0\.2, minPerSecond: 2 \}\): 100 calls failed, the catalog received 140 requests \(1\.4x the calls\); \d+ calls ended at once \(give-up reason 'budget'\)$/,
      'requests that reached the failing catalog: 300 without a budget, 140 with one (bound: 140)',
      '## The catalog recovers, with a slow tail: every 4th request takes 1 s',
      'plain: item(4) → item 4 in 1000 ms',
      'plain: item(8) → item 8 in 1000 ms',
      'without @Hedge: slowest call 1000 ms, 8 requests',
      'hedged: item(3) → item 3 in 20 ms',
      'hedged: no answer within 100 ms, request 2 sent alongside',
      'hedged: item(4) → item 4 in 120 ms',
      'catalog: GET /items/4 abandoned by the client after 120 ms',
      'hedged: no answer within 100 ms, request 2 sent alongside',
      'hedged: item(7) → item 7 in 120 ms',
      'with @Hedge({ delay: 100 }): slowest call 120 ms, 10 requests (2 abandoned)',
    ]);
    expect(timeline.lines.filter((l) => l.startsWith('hedged: no answer'))).toHaveLength(2);

    // Nothing left behind: no timer on the clock, the catalog closed.
    expect(time.clock.pending).toBe(0);
    await new Promise((resolve) => setImmediate(resolve)); // a closed handle leaves the list on the next turn
    expect(servers()).toBe(serversBefore);
  });

  describe('the clients', () => {
    let catalog: CatalogService;
    beforeEach(async () => {
      catalog = await CatalogService.start({ activity: time.activity });
    });
    afterEach(async () => {
      await catalog.close();
    });

    it('ends a budgeted call with the 503 itself once the budget is spent', async () => {
      const budget = retryBudget({ ratio: 0, minPerSecond: 0.1, window: 10_000 }); // one retry
      const { BudgetedCatalog } = stormClients(budget);
      const client = new BudgetedCatalog(catalog.url, time.activity);
      catalog.setDown(true);
      await expect(time.run(() => client.item('1'))).rejects.toBeInstanceOf(CatalogUnavailableError);
      expect(catalog.requests).toBe(2);
      await expect(time.run(() => client.item('2'))).rejects.toBeInstanceOf(CatalogUnavailableError);
      expect(catalog.requests).toBe(3);
      expect(policyOf(BudgetedCatalog, 'item', 'retry').statistics).toMatchObject({ budgetExhausted: 2 });
    });

    it('gives each hedged client its own policy (scope: instance)', async () => {
      const a = new HedgedCatalog(catalog.url, time.activity);
      const b = new HedgedCatalog(catalog.url, time.activity);
      await time.run(() => a.item('1'));
      expect(policyOf(a, 'item', 'hedge').statistics.calls).toBe(1);
      expect(policyOf(b, 'item', 'hedge').statistics.calls).toBe(0);
    });
  });
});
