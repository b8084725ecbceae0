// CommonJS consumer: the same classes through require() and the .d.cts declarations.
import core = require('@staunch/core');

import type { Equal, Expect } from './helpers/expect.js';

const open = new core.CircuitOpenError('db', 1_500);
type _IsStaunch = Expect<Equal<ReturnType<typeof core.isStaunchError>, boolean>>;
type _RetryAfter = Expect<Equal<typeof open.retryAfter, number>>;

declare const caught: unknown;
if (core.isCircuitOpenError(caught)) {
  type _Circuit = Expect<Equal<typeof caught.circuit, string>>;
}

// @ts-expect-error code is read-only
open.code = 'OTHER';
