import { apiClientScenario, exportJobScenario } from '../../examples/api-client/scenario';
import { ApiClient, HttpError, NetworkError, isTransient } from '../../examples/api-client/client';
import { FaultyServer } from '../../examples/api-client/server';
import { Timeline } from '../../examples/support/timeline';
import { circuitOf, AttemptTimeoutError, CircuitOpenError } from '@staunch/decorators';
import { expectInOrder } from './helpers/lines';
import { useVirtualTime, type VirtualTime } from './helpers/virtual-time';

describe('examples/api-client (real HTTP server on 127.0.0.1, virtual clock)', () => {
  let time: VirtualTime;
  beforeEach(() => {
    time = useVirtualTime();
  });
  afterEach(() => {
    time.restore();
  });

  it('retries 5xx and resets, abandons a slow attempt, and takes the circuit through an outage and back', async () => {
    const timeline = new Timeline();
    await time.run(() => apiClientScenario(timeline, time.activity));

    expectInOrder(timeline.lines, [
      '## A healthy call',
      'server: GET /users/1 → 200',
      'getUser(1) → User 1',
      '## Two HTTP 503s: @Retry calls again, 100 ms apart',
      'server: GET /users/2 → 503 (injected)',
      'getUser: attempt 1 failed (HTTP 503), next in 100 ms',
      'server: GET /users/2 → 503 (injected)',
      'getUser: attempt 2 failed (HTTP 503), next in 100 ms',
      'server: GET /users/2 → 200',
      'getUser(2) → User 2',
      'server: GET /users/3 → connection reset (injected)',
      'getUser: attempt 1 failed (ECONNRESET), next in 100 ms',
      'getUser(3) → User 3',
      'getUser: no answer within 250 ms, attempt abandoned (its signal aborted)',
      'getUser: attempt 1 failed (timed out after 250 ms), next in 100 ms',
      'server: GET /users/4 → 200',
      'getUser(4) → User 4',
      'getUser: attempt 1 failed (ECONNREFUSED), next in 100 ms',
      'getUser: attempt 2 failed (ECONNREFUSED), next in 100 ms',
      'circuit getUser: closed → open (too many failures)',
      'getUser: attempt 3 failed (ECONNREFUSED), next in 100 ms',
      'getUser(5) → CircuitOpenError: circuit "getUser" is open, retry after 900 ms',
      'getUser(6) → CircuitOpenError: circuit "getUser" is open, retry after 900 ms',
      "waiting 900 ms (the circuit's retryAfter)",
      'circuit getUser: open → half-open (resetTimeout passed: one trial call may go through)',
      'circuit getUser: half-open → open (the trial call failed)',
      'getUser(7) → CircuitOpenError: circuit "getUser" is open, retry after 900 ms',
      'circuit getUser: open → half-open (resetTimeout passed: one trial call may go through)',
      'server: GET /users/8 → 200',
      'circuit getUser: half-open → closed (the trial call succeeded)',
      'getUser(8) → User 8',
    ]);
    expect(timeline.tally).toEqual({
      calls: 8,
      successes: 5,
      failures: 0,
      retries: 8,
      timeouts: 1,
      fastFailures: 3,
      transitions: 5,
    });
    // On the virtual clock the story's timing is exact: the circuit opens on the third refused
    // attempt, 200 ms into the outage call, and closes 2 × (retryAfter + 100 ms) later.
    const at = (text: string) => timeline.entries.find((e) => e.text === text)?.at;
    const outageStart = at('getUser(5)')!;
    expect(at('circuit getUser: closed → open (too many failures)')! - outageStart).toBe(200);
    expect(at('circuit getUser: half-open → closed (the trial call succeeded)')! - outageStart).toBe(
      300 + 900 + 100 + 900,
    );
    expect(time.clock.pending).toBe(0);
  });

  it('starts an export with an idempotent, retried POST and polls it until done', async () => {
    const timeline = new Timeline();
    await time.run(() => exportJobScenario(timeline, time.activity));

    expectInOrder(timeline.lines, [
      'server: POST /exports → 503 (injected)',
      'startExport: attempt 1 failed (HTTP 503), next in 100 ms',
      'server: POST /exports → 202',
      'startExport(monthly-report) → exp-1 running, 0%',
      'server: GET /exports/exp-1 → connection reset (injected)',
      'waitForExport: attempt 1 failed (ECONNRESET), next in 100 ms',
      'waitForExport: not yet (exp-1 running, 10%), next poll in 250 ms',
      'waitForExport: not yet (exp-1 running, 35%), next poll in 250 ms',
      'waitForExport: not yet (exp-1 running, 60%), next poll in 250 ms',
      'waitForExport: not yet (exp-1 running, 85%), next poll in 250 ms',
      'waitForExport(exp-1) → exp-1 done, 1200 rows',
    ]);
    expect(time.clock.pending).toBe(0);
  });

  describe('ApiClient', () => {
    let server: FaultyServer;
    let client: ApiClient;
    beforeEach(async () => {
      server = await FaultyServer.start({ activity: time.activity });
      client = new ApiClient(server.url, time.activity);
    });
    afterEach(async () => {
      await server.close();
    });

    it('does not retry a 4xx, and a 4xx does not count against the circuit', async () => {
      server.failNext(1, 404);
      await expect(time.run(() => client.getUser('x'))).rejects.toEqual(new HttpError(404, '/users/x'));
      expect(server.requests).toBe(1);
      expect(circuitOf(client, 'getUser').statistics.failures).toBe(0);
    });

    it('stops retrying when the circuit opens: the 4th call is rejected without a request', async () => {
      server.failNext(4, 502);
      const error: unknown = await time.run(() => client.getUser('1')).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CircuitOpenError);
      expect(server.requests).toBe(3);
    });

    it('startExport re-throws the last error after maxTries (4) attempts, 100 ms apart', async () => {
      server.failNext(3, 503);
      server.failNext(1, 502);
      const started = time.clock.now();
      const error: unknown = await time.run(() => client.startExport('k')).catch((e: unknown) => e);
      expect(error).toEqual(new HttpError(502, '/exports'));
      expect(server.requests).toBe(4);
      expect(time.clock.now() - started).toBe(300);
    });

    it('gives each client its own circuit (scope: instance)', async () => {
      const other = new ApiClient(server.url, time.activity);
      circuitOf(client, 'getUser').isolate();
      await expect(time.run(() => client.getUser('1'))).rejects.toBeInstanceOf(CircuitOpenError);
      await expect(time.run(() => other.getUser('1'))).resolves.toEqual({ id: '1', name: 'User 1' });
    });

    it('gives up on a 501 at once (giveup), whatever maxTries says', async () => {
      server.failNext(1, 501);
      await expect(time.run(() => client.startExport('k'))).rejects.toEqual(new HttpError(501, '/exports'));
      expect(server.requests).toBe(1);
    });

    it('classifies transient errors', () => {
      expect(isTransient(new HttpError(503, '/'))).toBe(true);
      expect(isTransient(new HttpError(429, '/'))).toBe(false);
      expect(isTransient(new NetworkError('ECONNRESET'))).toBe(true);
      expect(isTransient(new AttemptTimeoutError(250, 1))).toBe(true);
      expect(isTransient(new CircuitOpenError('c', 100))).toBe(false);
    });
  });
});
