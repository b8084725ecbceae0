/**
 * The API client's stories, as `npm start` tells them (and as tests/examples replays them on a
 * virtual clock): retries on 5xx and resets, an attempt timeout, an outage that opens the circuit,
 * fast failures, the half-open trial and the recovery; then an export job started with
 * `@AsyncBackoff` and awaited with `@Poll`.
 */
import { circuitOf, getDefaultClock, isCircuitOpenError, policyOf } from '@staunch/decorators';
import type { ActivityTracker } from '../support/activity';
import type { Outcome, Timeline } from '../support/timeline';
import { ApiClient, type User } from './client';
import { FaultyServer } from './server';
import { linesThatMatter, startMetricsEndpoint } from './telemetry';

/**
 * Retries, timeouts, and a circuit through an outage and back; then what Prometheus scrapes from
 * the service's OpenTelemetry metrics endpoint. Returns the scraped exposition text.
 */
export async function apiClientScenario(timeline: Timeline, activity?: ActivityTracker): Promise<string> {
  const metrics = await startMetricsEndpoint(activity);
  let scraped = '';
  try {
    await withServer(timeline, activity, async (server, client) => {
      await story(timeline, server, client);
      timeline.add('step', 'What Prometheus scrapes for ApiClient.getUser (OpenTelemetry SDK + @staunch/otel)');
      timeline.add('note', `GET ${metrics.url}`);
      scraped = await metrics.scrape();
      for (const line of linesThatMatter(scraped)) timeline.add('note', line);
    });
  } finally {
    await metrics.stop();
  }
  return scraped;
}

async function story(timeline: Timeline, server: FaultyServer, client: ApiClient): Promise<void> {
  timeline.watchPolicy(policyOf(ApiClient, 'getUser', 'retry'), 'getUser');
  timeline.watchPolicy(policyOf(ApiClient, 'getUser', 'asyncBackoff'), 'getUser');
  timeline.watchCircuit(circuitOf(client, 'getUser'), 'getUser');
  const user = (u: User) => u.name;

  timeline.add('step', 'A healthy call');
  await timeline.call('getUser(1)', () => client.getUser('1'), user);

  timeline.add('step', 'Two HTTP 503s: @Retry calls again, 100 ms apart');
  server.failNext(2, 503);
  await timeline.call('getUser(2)', () => client.getUser('2'), user);

  timeline.add('step', 'A connection reset: also transient, also retried');
  server.resetNext(1);
  await timeline.call('getUser(3)', () => client.getUser('3'), user);

  timeline.add('step', 'Latency: the answer would take 1 s; @AsyncBackoff abandons the attempt after 250 ms');
  server.delayNext(1, 1_000);
  await timeline.call('getUser(4)', () => client.getUser('4'), user);

  timeline.add('step', 'Outage: the server stops listening; 3 failures in a row open the circuit');
  await server.outage();
  timeline.add('server', 'server: stopped listening (connections are refused)');
  const first = await timeline.call('getUser(5)', () => client.getUser('5'), user);
  await timeline.call('getUser(6)', () => client.getUser('6'), user);

  timeline.add('step', 'After resetTimeout, one trial call goes through: the server is still down');
  await waitOut(timeline, first);
  const trial = await timeline.call('getUser(7)', () => client.getUser('7'), user);

  timeline.add('step', 'The server is back: the next trial succeeds and closes the circuit');
  await server.restore();
  timeline.add('server', 'server: listening again');
  await waitOut(timeline, trial);
  const last = await timeline.call('getUser(8)', () => client.getUser('8'), user);
  if (!last.ok) throw new Error('api-client: the circuit did not recover');
}

/** An export job: started with `@AsyncBackoff` (idempotent POST), awaited with `@Poll`. */
export async function exportJobScenario(timeline: Timeline, activity?: ActivityTracker): Promise<void> {
  await withServer(timeline, activity, async (server, client) => {
    timeline.watchPolicy(policyOf(ApiClient, 'startExport', 'asyncBackoff'), 'startExport');
    timeline.watchPolicy(policyOf(ApiClient, 'waitForExport', 'poll'), 'waitForExport');
    timeline.watchPolicy(policyOf(ApiClient, 'waitForExport', 'retry'), 'waitForExport');

    timeline.add('step', 'Start an export: the first POST gets a 503; the same idempotency key is sent again');
    server.failNext(1, 503);
    const started = await timeline.call(
      'startExport(monthly-report)',
      () => client.startExport('monthly-report'),
      (job) => job.summary,
    );
    if (!started.ok) throw new Error('export-job: the export did not start');

    timeline.add('step', '@Poll asks every 250 ms until the job is done; @Retry under it absorbs a reset');
    server.resetNext(1);
    const done = await timeline.call(
      `waitForExport(${started.value.id})`,
      () => client.waitForExport(started.value.id),
      (job) => job.summary,
    );
    if (!done.ok) throw new Error('export-job: the export never finished');
  });
}

async function withServer(
  timeline: Timeline,
  activity: ActivityTracker | undefined,
  story: (server: FaultyServer, client: ApiClient) => Promise<void>,
): Promise<void> {
  const server = await FaultyServer.start({
    ...(activity ? { activity } : {}),
    onRequest: ({ method, path, outcome }) => {
      timeline.add('server', `server: ${method} ${path} → ${outcome}`);
    },
  });
  timeline.add('note', `HTTP server listening on ${server.url}`);
  try {
    await story(server, new ApiClient(server.url, activity));
  } finally {
    timeline.close();
    await server.close();
  }
}

/** Sleeps until the circuit that rejected `outcome` lets a trial call through. */
async function waitOut(timeline: Timeline, outcome: Outcome<unknown>): Promise<void> {
  const wait = !outcome.ok && isCircuitOpenError(outcome.error) ? Math.ceil(outcome.error.retryAfter) : 1_000;
  timeline.add('note', `waiting ${wait} ms (the circuit's retryAfter)`);
  await getDefaultClock().sleep(wait);
}
