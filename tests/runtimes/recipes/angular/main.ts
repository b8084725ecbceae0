// Resolves the service from an Angular injector, calls it, and prints one JSON line of checks.
import { Injector } from '@angular/core';
import { circuitOf, policiesOf } from '@staunch/decorators';

import { PaymentsGateway, PaymentsService } from './payments.service.js';

const injector = Injector.create({ providers: [PaymentsGateway, PaymentsService] });
const service = injector.get(PaymentsService);
const gateway = injector.get(PaymentsGateway);

void service.charge(42).then((result) => {
  const kinds = policiesOf(PaymentsService, 'charge').map((policy) => policy.kind);
  const checks = {
    'compiled ahead of time by ngc (a static ɵprov)': 'ɵprov' in PaymentsService || 'ɵprov',
    'injected through inject()': gateway === (service as unknown as { gateway: PaymentsGateway }).gateway,
    'retried twice, then the result': (result === 'charged 42' && gateway.calls === 3) || {
      result,
      calls: gateway.calls,
    },
    'policies recorded, outermost first': kinds.join(',') === 'retry,circuitBreaker' || kinds,
    'the circuit stayed closed': circuitOf(PaymentsService, 'charge').state === 'closed',
  };
  console.log(JSON.stringify(checks));
});
