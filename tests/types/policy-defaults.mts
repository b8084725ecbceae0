// ES-module consumer of the policy defaults of @staunch/decorators, as published.
import {
  checkPolicyDefaults,
  expectPolicyDefaults,
  setPolicyDefaults,
  type PolicyDefaults,
  type RetryBudget,
} from '@staunch/decorators';

declare const budget: RetryBudget;
class Unavailable extends Error {}

expectPolicyDefaults();
export const defaults: PolicyDefaults = {
  retry: { times: 3, interval: 200, on: [Unavailable], budget },
  circuitBreaker: { threshold: 5, resetTimeout: 30_000, on: (error) => error instanceof Unavailable },
  hedge: { delay: 100, maxHedged: 2 },
};
checkPolicyDefaults(defaults, 'config');
setPolicyDefaults(defaults, { by: 'config' });

// @ts-expect-error -- a default of the wrong type
setPolicyDefaults({ retry: { times: '3' } });
// @ts-expect-error -- no such policy
setPolicyDefaults({ circuit: { threshold: 3 } });
// @ts-expect-error -- a circuit's store is its method's
setPolicyDefaults({ circuitBreaker: { store: {} } });
// @ts-expect-error -- `by` names who sets them: a string
setPolicyDefaults(defaults, { by: 1 });
