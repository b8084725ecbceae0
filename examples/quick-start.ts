/**
 * Quick start: `retry` from @staunch/core around a flaky call.
 * The service fails twice with a network error, then answers; `retry` makes up to three
 * calls, 50 ms apart, and re-throws the last error unchanged if all of them fail.
 */
import { retry } from '@staunch/core';

/** The error our pretend network client throws; only this one is worth retrying. */
export class NetworkError extends Error {
  override name = 'NetworkError';
}

/** A service that is restarting: its first `failures` calls fail. */
export function flakyService(failures: number, log: (line: string) => void): () => Promise<string> {
  let calls = 0;
  return async () => {
    calls++;
    log(`  call ${calls}: ${calls <= failures ? 'connection reset' : 'ok'}`);
    if (calls <= failures) throw new NetworkError(`connection reset (call ${calls})`);
    return `pong after ${calls} calls`;
  };
}

export async function quickStart(log: (line: string) => void = console.log): Promise<void> {
  log('retry(ping, NetworkError, { times: 3, interval: 50 }) against a service that fails twice:');
  const result = await retry(flakyService(2, log), NetworkError, {
    times: 3,
    interval: 50,
    onError: (error, previousAttempts) => {
      log(`  attempt ${previousAttempts + 1} failed: ${String(error)}`);
    },
  });
  log(`  result: ${result}`);

  log('the same against a service that fails five times: the last error comes back unchanged');
  try {
    await retry(flakyService(5, log), NetworkError, { times: 3, interval: 50 });
  } catch (error) {
    log(`  gave up: ${String(error)} (instanceof NetworkError: ${String(error instanceof NetworkError)})`);
  }
}
