/**
 * A trivial fleet setup module for ../fleet.test.ts: handlers that report on the worker itself,
 * and one that uses the staunch sources (loaded without a build, as the Redis tests will).
 */
import { writeFileSync } from 'node:fs';
import { CircuitOpenError, isCircuitOpenError, StaunchError } from '@staunch/core';
import * as decorators from '@staunch/decorators';
import type { FleetSetup } from './fleet';

const setup: FleetSetup = async ({ index, count, env }) => ({
  pid: async () => process.pid,
  whoami: async () => ({ index, count, greeting: env.ECHO_GREETING }),
  add: async (a: number, b: number) => a + b,
  fail: async (message: string) => {
    throw new Error(message);
  },
  /** Never settles (until the worker is killed). */
  hang: () => new Promise<never>(() => undefined),
  /** Where a bare specifier resolves inside a worker. */
  resolve: async (specifier: string) => require.resolve(specifier),
  staunch: async () => {
    const error = new CircuitOpenError('payments', 1500);
    return {
      isCircuitOpenError: isCircuitOpenError(error),
      retryAfter: error.retryAfter,
      // @staunch/decorators re-exports @staunch/core: the same module, not a second copy.
      sameCore: decorators.StaunchError === StaunchError,
    };
  },
  close: async () => {
    const marker = env.ECHO_CLOSE_DIR;
    if (marker !== undefined) writeFileSync(`${marker}/closed-${index}`, String(process.pid));
  },
});

export default setup;
