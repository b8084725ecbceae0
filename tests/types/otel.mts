// ES-module consumer: @staunch/otel as published, with the registry of @staunch/core.
import type { MeterProvider } from '@opentelemetry/api';
import {
  circuitBreaker,
  livePolicies,
  livePolicyOf,
  policyHealth,
  type LivePolicy,
  type PolicyHealth,
} from '@staunch/core';
import { attributeNames, instrument, metricNames, type Instrumentation } from '@staunch/otel';

import type { Equal, Expect } from './helpers/expect.js';

declare const meterProvider: MeterProvider;

const telemetry = instrument({ meterProvider, keys: true, spanEvents: false, providerCheckInterval: 5_000 });
type _stop = Expect<Equal<typeof telemetry, Instrumentation>>;
instrument();
telemetry.stop();

// @ts-expect-error keys is a boolean, not a list
instrument({ keys: ['host'] });
// @ts-expect-error an unknown option
instrument({ tracerProvider: meterProvider });

const name: 'staunch.calls' = metricNames.calls;
const kind: 'staunch.policy.kind' = attributeNames.kind;
void name;
void kind;

const rows: LivePolicy[] = livePolicies({ each: true });
const health: PolicyHealth = policyHealth().status;
void rows;
void health;
const row = livePolicyOf(circuitBreaker());
if (row !== undefined) {
  // @ts-expect-error rows are read-only snapshots
  row.state = 'open';
}
