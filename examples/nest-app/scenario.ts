/**
 * The Nest story for `npm start`: the api-client example's flaky server as the upstream, this
 * Nest app in front of it, both on 127.0.0.1, and real HTTP requests to the app. Real time: the
 * circuit's 1 s resetTimeout is waited for once.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { circuitOf, policyOf, type PolicyDescriptor } from '@staunch/decorators';
import { FaultyServer } from '../api-client/server';
import type { Timeline } from '../support/timeline';
import { createApp } from './app';
import type { PolicyListing } from './policies.controller';
import { UsersService } from './users.service';

export async function nestAppScenario(timeline: Timeline): Promise<void> {
  timeline.add('step', "A Nest app in front of a flaky upstream (the api-client example's server)");
  const upstream = await FaultyServer.start({
    onRequest: (r) => timeline.add('server', `upstream: ${r.method} ${r.path} → ${r.outcome}`),
  });
  const app = await createApp(upstream.url);
  await app.listen(0, '127.0.0.1');
  const url = `http://127.0.0.1:${((app.getHttpServer() as Server).address() as AddressInfo).port}`;
  timeline.watchPolicy(policyOf(UsersService, 'getUser', 'retry'), 'getUser');
  timeline.watchCircuit(circuitOf(UsersService, 'getUser'), 'getUser');
  try {
    const listing = (await (await fetch(`${url}/policies`)).json()) as PolicyListing[];
    for (const { method, policies } of listing) {
      timeline.add('note', `GET /policies: ${method}: ${policies.map(describePolicy).join(' > ')}`);
    }

    timeline.add('step', 'GET /users/42: the upstream fails twice, @Retry gets the answer');
    upstream.failNext(2);
    await request(timeline, url, '/users/42');

    timeline.add('step', 'Outage: the upstream stops listening; three refused connections open the circuit');
    await upstream.outage();
    await request(timeline, url, '/users/1');
    await request(timeline, url, '/users/2');
    await request(timeline, url, '/health');

    timeline.add('step', 'The upstream is back; after resetTimeout (1 s) a trial call closes the circuit');
    await upstream.restore();
    await new Promise((resolve) => setTimeout(resolve, 1_050));
    await request(timeline, url, '/users/3');
    await request(timeline, url, '/health');
  } finally {
    await app.close();
    await upstream.close();
  }
}

// One request to the app, logged as a call of the story (a health check as a note).
async function request(timeline: Timeline, url: string, path: string): Promise<void> {
  const response = await fetch(`${url}${path}`);
  const body = (await response.json()) as { status?: string; code?: string; name?: string };
  const retryAfter = response.headers.get('retry-after');
  const shown = `GET ${path} → ${response.status}${retryAfter === null ? '' : `, Retry-After: ${retryAfter} s`}`;
  if (path === '/health') {
    timeline.add(response.ok ? 'ok' : 'fail', `${shown} (circuits ${response.ok ? 'up' : 'down'})`);
    return;
  }
  timeline.tally.calls++;
  if (response.ok) {
    timeline.tally.successes++;
    timeline.add('ok', `${shown} (${body.name ?? ''})`);
  } else if (body.code === 'STAUNCH_CIRCUIT_OPEN') {
    timeline.tally.fastFailures++;
    timeline.add('fast-fail', `${shown} (the circuit is open: rejected without calling the upstream)`);
  } else {
    timeline.tally.failures++;
    timeline.add('fail', `${shown} (the upstream failed every try)`);
  }
}

function describePolicy(policy: PolicyDescriptor): string {
  switch (policy.kind) {
    case 'retry':
      return `@Retry(times ${policy.options.times}, interval ${ms(policy.options.interval)})`;
    case 'circuitBreaker':
      return `@CircuitBreaker(threshold ${policy.options.threshold}, resetTimeout ${policy.options.resetTimeout} ms, scope ${policy.scope})`;
    case 'timeout':
      return `@Timeout(${ms(policy.options.timeout)})`;
    default:
      return `@${policy.kind}`;
  }
}

function ms(value: unknown): string {
  return typeof value === 'number' ? `${value} ms` : 'a backoff';
}
