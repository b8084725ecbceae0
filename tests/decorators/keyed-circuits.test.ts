import { CircuitBreaker, circuitOf, policiesOf } from '@staunch/decorators';
import { capture, HttpError, useVirtualClock } from './helpers';

// Keyed circuits are bounded: past `maxKeys`, the idle ones are forgotten; busy ones never are.
describe('@CircuitBreaker({ key, maxKeys })', () => {
  const time = useVirtualClock();

  class Hosts {
    outcome: (host: string) => Promise<string> = async (host) => host;

    @CircuitBreaker({ key: (_self, [host]: [string]) => host, maxKeys: 3, threshold: 2, resetTimeout: 1_000 })
    async get(host: string): Promise<string> {
      return this.outcome(host);
    }
  }

  it('forgets idle circuits once more than maxKeys keys are held: a forgotten key starts afresh', async () => {
    const hosts = new Hosts();
    await hosts.get('a');
    const first = circuitOf(hosts, 'get', 'a');
    for (const host of ['b', 'c', 'd', 'e']) await hosts.get(host);
    // 'a' was idle (closed, nothing on record, nothing running): forgotten, so this is a new circuit.
    expect(circuitOf(hosts, 'get', 'a')).not.toBe(first);
    expect(circuitOf(hosts, 'get', 'a').state).toBe('closed');
  });

  it('never forgets a circuit with a failure on record, an open one, or one with a call running', async () => {
    const hosts = new Hosts();
    hosts.outcome = (host) => (host === 'ok' ? Promise.resolve(host) : Promise.reject(new HttpError(503)));
    await capture(hosts.get('failed-once'));
    const failedOnce = circuitOf(hosts, 'get', 'failed-once');
    await capture(hosts.get('open'));
    await capture(hosts.get('open'));
    const open = circuitOf(hosts, 'get', 'open');
    expect(open.state).toBe('open');
    let release!: (value: string) => void;
    hosts.outcome = (host) =>
      host === 'running' ? new Promise((resolve) => (release = resolve)) : Promise.resolve(host);
    const running = hosts.get('running');
    const busy = circuitOf(hosts, 'get', 'running');
    for (let i = 0; i < 20; i++) await hosts.get(`idle-${i}`);
    expect(circuitOf(hosts, 'get', 'failed-once')).toBe(failedOnce);
    expect(circuitOf(hosts, 'get', 'open')).toBe(open);
    expect(circuitOf(hosts, 'get', 'running')).toBe(busy);
    release('done');
    await expect(running).resolves.toBe('done');
  });

  it('forgets a circuit whose failures have leaked away (older than resetTimeout)', async () => {
    const hosts = new Hosts();
    hosts.outcome = () => Promise.reject(new HttpError(503));
    await capture(hosts.get('x'));
    const failed = circuitOf(hosts, 'get', 'x');
    expect(failed.idle).toBe(false);
    await time.clock.advance(1_001);
    expect(failed.idle).toBe(true);
    hosts.outcome = async (host) => host;
    for (const host of ['b', 'c', 'd', 'e']) await hosts.get(host);
    expect(circuitOf(hosts, 'get', 'x')).not.toBe(failed);
  });

  it('records maxKeys (default 10,000) in the method’s policies', () => {
    class Defaults {
      @CircuitBreaker({ key: (_self, [host]: [string]) => host })
      async get(host: string): Promise<string> {
        return host;
      }
    }
    expect(policiesOf(Defaults, 'get')).toEqual([expect.objectContaining({ scope: 'key', maxKeys: 10_000 })]);
    expect(policiesOf(Hosts, 'get')).toEqual([expect.objectContaining({ scope: 'key', maxKeys: 3 })]);
  });

  it.each([
    [{ maxKeys: 5 }, '@CircuitBreaker on get(): `maxKeys` must be given only with `key`, got 5.'],
    [
      { key: () => 'k', maxKeys: 0 },
      '@CircuitBreaker on get(): `maxKeys` must be an integer >= 1 (or Infinity), got 0.',
    ],
    [
      { key: () => 'k', maxKeys: 1.5 },
      '@CircuitBreaker on get(): `maxKeys` must be an integer >= 1 (or Infinity), got 1.5.',
    ],
  ])('rejects %p at class definition', (options, message) => {
    expect(() => {
      class Bad {
        @CircuitBreaker(options as never)
        async get(): Promise<number> {
          return 1;
        }
      }
      return Bad;
    }).toThrow(message);
  });
});
