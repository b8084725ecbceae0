// Compiled with experimentalDecorators + emitDecoratorMetadata (tsconfig.legacy.json), like the
// example it runs: `*.legacy.test.ts` files run in the jest project `legacy`.
import { policiesOf } from '@staunch/decorators';
import { nestStyleScenario } from '../../examples/nest-style-service/scenario';
import { Container } from '../../examples/nest-style-service/nest';
import { AppLogger, PaymentsService } from '../../examples/nest-style-service/payments.service';
import { Timeline } from '../../examples/support/timeline';
import { useVirtualTime, type VirtualTime } from './helpers/virtual-time';

describe('examples/nest-style-service (experimentalDecorators, virtual clock)', () => {
  let time: VirtualTime;
  beforeEach(() => {
    time = useVirtualTime();
  });
  afterEach(() => {
    time.restore();
  });

  it('builds the service from design:paramtypes, reads its policies from reflect-metadata, and runs them', async () => {
    const timeline = new Timeline();
    await time.run(() => nestStyleScenario(timeline));
    expect(timeline.entries.map((e) => `${e.at} ${e.text}`)).toEqual([
      '0 A Nest-style container builds PaymentsService from its constructor types',
      '0 PaymentsService needs: PaymentsGateway, AppLogger',
      "0 The policies, read with reflect-metadata as a Nest interceptor would ('staunch:policies')",
      '0 charge: @Retry(times 3, interval 100 ms) > @CircuitBreaker(threshold 5, resetTimeout 10000 ms, scope class)',
      '0 refund: @AsyncRetry(maxTries 3, pause 50 ms)',
      '0 settlement: @Poll(timeout 5000 ms, interval 250 ms)',
      '0 charge(): two gateway timeouts, then a receipt',
      '0 charge(order-42, 1999)',
      '0 charge: attempt 1 failed (gateway timeout during charge), next in 100 ms',
      '100 charge: attempt 2 failed (gateway timeout during charge), next in 100 ms',
      '200 charge(order-42, 1999) → ch_1 for 1999',
      '200 refund(): @AsyncRetry, 50 ms between tries',
      '200 refund(ch_1)',
      '200 refund: attempt 1 failed (gateway timeout during refund), next in 50 ms',
      '250 refund(ch_1) → re_ch_1',
      '250 settlement(): @Poll until the provider settles it',
      '250 settlement(ch_1)',
      '250 settlement: not yet (ch_1 pending), next poll in 250 ms',
      '500 settlement: not yet (ch_1 pending), next poll in 250 ms',
      '750 settlement(ch_1) → ch_1 settled',
    ]);
    expect(time.clock.pending).toBe(0);
  });

  it('keeps `this` and the injected dependencies inside decorated methods', async () => {
    const payments = new Container().get(PaymentsService);
    await time.run(() => payments.charge('order-1', 500));
    expect(new Container().get(AppLogger).lines).toEqual([]); // another container, another logger
    expect(policiesOf(PaymentsService, 'charge').map((p) => p.kind)).toEqual(['retry', 'circuitBreaker']);
  });
});
