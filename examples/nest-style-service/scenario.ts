/**
 * The legacy-mode story: the container builds the service from its constructor's parameter
 * types, a Nest-style reader finds the policies in reflect-metadata, and the decorated methods
 * retry, poll and break the circuit exactly as in Stage-3 mode.
 */
import { circuitOf, policyOf, type PolicyDescriptor } from '@staunch/decorators';
import type { Timeline } from '../support/timeline';
import { Container, Reflector } from './nest';
import { PaymentsGateway, PaymentsService } from './payments.service';

export async function nestStyleScenario(timeline: Timeline): Promise<void> {
  timeline.add('step', 'A Nest-style container builds PaymentsService from its constructor types');
  const app = new Container();
  const payments = app.get(PaymentsService);
  const gateway = app.get(PaymentsGateway);
  timeline.add('note', `PaymentsService needs: ${Container.dependenciesOf(PaymentsService).join(', ')}`);

  timeline.add('step', "The policies, read with reflect-metadata as a Nest interceptor would ('staunch:policies')");
  for (const method of ['charge', 'refund', 'settlement']) {
    const policies = (Reflector.get('staunch:policies', PaymentsService, method) ?? []) as readonly PolicyDescriptor[];
    timeline.add('note', `${method}: ${policies.map(describePolicy).join(' > ')}`);
  }

  timeline.watchPolicy(policyOf(PaymentsService, 'charge', 'retry'), 'charge');
  timeline.watchPolicy(policyOf(PaymentsService, 'refund', 'asyncRetry'), 'refund');
  timeline.watchPolicy(policyOf(PaymentsService, 'settlement', 'poll'), 'settlement');
  timeline.watchCircuit(circuitOf(PaymentsService, 'charge'), 'charge');
  try {
    timeline.add('step', 'charge(): two gateway timeouts, then a receipt');
    gateway.failNext(2);
    const charged = await timeline.call(
      'charge(order-42, 1999)',
      () => payments.charge('order-42', 1_999),
      (r) => `${r.id} for ${r.amount}`,
    );

    timeline.add('step', 'refund(): @AsyncRetry, 50 ms between tries');
    gateway.failNext(1);
    await timeline.call('refund(ch_1)', () => payments.refund('ch_1'));

    timeline.add('step', 'settlement(): @Poll until the provider settles it');
    const settled = await timeline.call(
      'settlement(ch_1)',
      () => payments.settlement('ch_1'),
      (s) => s.summary,
    );
    if (!charged.ok || !settled.ok) throw new Error('nest-style-service: the payment did not go through');
  } finally {
    timeline.close();
  }
}

function describePolicy(policy: PolicyDescriptor): string {
  switch (policy.kind) {
    case 'retry':
      return `@Retry(times ${policy.options.times}, interval ${ms(policy.options.interval)})`;
    case 'circuitBreaker':
      return `@CircuitBreaker(threshold ${policy.options.threshold}, resetTimeout ${ms(policy.options.resetTimeout)}, scope ${policy.scope})`;
    case 'asyncRetry':
    case 'asyncBackoff':
      return `@${policy.kind === 'asyncRetry' ? 'AsyncRetry' : 'AsyncBackoff'}(maxTries ${policy.options.maxTries}, pause ${ms(policy.options.pause)})`;
    case 'poll':
      return `@Poll(timeout ${ms(policy.options.timeout)}, interval ${ms(policy.options.interval)})`;
    case 'fallback':
      return `@Fallback(${typeof policy.options.fallback === 'function' ? 'a function' : 'a value'})`;
    case 'timeout':
      return `@Timeout(${ms(policy.options.timeout)})`;
    case 'bulkhead':
      return `@Bulkhead(limit ${policy.options.limit}, queue ${policy.options.queue}, maxWait ${ms(policy.options.maxWait)}, scope ${policy.scope})`;
    case 'hedge':
      return `@Hedge(delay ${ms(policy.options.delay)}, maxHedged ${policy.options.maxHedged}, scope ${policy.scope})`;
  }
}

function ms(value: unknown): string {
  return typeof value === 'number' ? `${value} ms` : 'a backoff';
}
