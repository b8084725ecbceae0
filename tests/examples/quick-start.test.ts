import { quickStart } from '../../examples/quick-start';

describe('examples/quick-start', () => {
  it('prints each attempt, the result, and the unchanged last error', async () => {
    const lines: string[] = [];
    await quickStart((line) => lines.push(line));
    expect(lines).toEqual([
      'retry(ping, NetworkError, { times: 3, interval: 50 }) against a service that fails twice:',
      '  call 1: connection reset',
      '  attempt 1 failed: NetworkError: connection reset (call 1)',
      '  call 2: connection reset',
      '  attempt 2 failed: NetworkError: connection reset (call 2)',
      '  call 3: ok',
      '  result: pong after 3 calls',
      'the same against a service that fails five times: the last error comes back unchanged',
      '  call 1: connection reset',
      '  call 2: connection reset',
      '  call 3: connection reset',
      '  gave up: NetworkError: connection reset (call 3) (instanceof NetworkError: true)',
    ]);
  });
});
