import { apiClientScenario } from '../../examples/api-client/scenario';
import { Timeline } from '../../examples/support/timeline';
import { expectInOrder } from './helpers/lines';
import { useVirtualTime, type VirtualTime } from './helpers/virtual-time';

/** The value of the one series of `metric` whose labels include every `label="value"` given. */
function sample(scraped: string, metric: string, labels: Record<string, string>): number | undefined {
  const hits = scraped
    .split('\n')
    .filter((line) => line.startsWith(`${metric}{`))
    .filter((line) => Object.entries(labels).every(([name, value]) => line.includes(`${name}="${value}"`)));
  if (hits.length > 1) throw new Error(`${hits.length} series of ${metric} match ${JSON.stringify(labels)}`);
  return hits[0] === undefined ? undefined : Number(hits[0].slice(hits[0].lastIndexOf(' ') + 1));
}

describe('examples/api-client telemetry (OpenTelemetry SDK, Prometheus exporter over real HTTP)', () => {
  let time: VirtualTime;
  beforeEach(() => {
    time = useVirtualTime();
  });
  afterEach(() => {
    time.restore();
  });

  it('serves the staunch series of the story on a loopback port: calls, attempts, circuit state, transitions', async () => {
    const timeline = new Timeline();
    const scraped = await time.run(() => apiClientScenario(timeline, time.activity));
    const getUser = { code_function_name: 'ApiClient.getUser' };
    const circuit = { ...getUser, staunch_policy_kind: 'circuitBreaker', staunch_policy_name: 'getUser' };

    expect(scraped).toContain('# TYPE staunch_calls_total counter');
    expect(scraped).toContain('# UNIT staunch_calls_total {call}');
    const retry = { ...getUser, staunch_policy_kind: 'retry' };
    expect(sample(scraped, 'staunch_calls_total', { ...retry, staunch_outcome: 'success' })).toBe(5);
    // getUser(5), (6) and (7) end with CircuitOpenError: @Retry does not retry it.
    expect(sample(scraped, 'staunch_calls_total', { ...retry, staunch_outcome: 'failure' })).toBe(3);
    expect(sample(scraped, 'staunch_attempts_total', retry)).toBe(16);
    expect(sample(scraped, 'staunch_calls_total', { ...circuit, staunch_outcome: 'rejected' })).toBe(3);
    expect(sample(scraped, 'staunch_calls_total', { ...circuit, staunch_outcome: 'failure' })).toBe(8);
    expect(sample(scraped, 'staunch_circuit_state', { ...circuit, staunch_circuit_state: 'closed' })).toBe(1);
    expect(sample(scraped, 'staunch_circuit_state', { ...circuit, staunch_circuit_state: 'open' })).toBe(0);
    const transitions = (from: string, to: string): number | undefined =>
      sample(scraped, 'staunch_circuit_transitions_total', {
        ...circuit,
        staunch_circuit_previous_state: from,
        staunch_circuit_state: to,
      });
    expect(transitions('closed', 'open')).toBe(1);
    expect(transitions('open', 'half-open')).toBe(2);
    expect(transitions('half-open', 'open')).toBe(1);
    expect(transitions('half-open', 'closed')).toBe(1);

    expectInOrder(timeline.lines, [
      'getUser(8) → User 8',
      '## What Prometheus scrapes for ApiClient.getUser (OpenTelemetry SDK + @staunch/otel)',
      /^GET http:\/\/127\.0\.0\.1:\d+\/metrics$/,
      'staunch_calls_total{staunch_policy_kind="circuitBreaker",staunch_outcome="rejected"} 3',
      'staunch_circuit_state{staunch_policy_kind="circuitBreaker",staunch_circuit_state="closed"} 1',
      'staunch_circuit_transitions_total{staunch_policy_kind="circuitBreaker",staunch_circuit_previous_state="closed",staunch_circuit_state="open"} 1',
    ]);
    expect(time.clock.pending).toBe(0);
  });
});
