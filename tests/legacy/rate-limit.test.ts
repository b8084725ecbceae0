// @RateLimit compiled with `experimentalDecorators` + `emitDecoratorMetadata` (jest project `legacy`).
import 'reflect-metadata';
import { RateLimit, RateLimitedError, policiesOf, policyOf, setDefaultClock } from '@staunch/decorators';
import { VirtualClock } from '@staunch/core/testing';

describe('legacy mode: @RateLimit', () => {
  let clock: VirtualClock;
  let restore: () => void;
  beforeEach(() => {
    clock = new VirtualClock();
    restore = setDefaultClock(clock);
  });
  afterEach(() => restore());

  it('limits, queues in order, rejects past the queue, and records its descriptor and live policy', async () => {
    const started: [number, number][] = [];
    class Geocoder {
      @RateLimit({ permits: 1, per: 100, queue: 1 })
      async lookup(n: number): Promise<number> {
        started.push([n, clock.now()]);
        return n;
      }
    }
    const geocoder = new Geocoder();
    const first = geocoder.lookup(1);
    const second = geocoder.lookup(2);
    await expect(geocoder.lookup(3)).rejects.toBeInstanceOf(RateLimitedError);
    await clock.advance(100);
    await expect(Promise.all([first, second])).resolves.toEqual([1, 2]);
    expect(started).toEqual([
      [1, 0],
      [2, 100],
    ]);
    expect(policiesOf(Geocoder, 'lookup')[0]).toMatchObject({ kind: 'rateLimit', scope: 'class' });
    expect(policyOf(Geocoder, 'lookup', 'rateLimit').statistics).toMatchObject({ admitted: 2, rejected: 1 });
  });

  it('rejects bad options when the class is defined', () => {
    expect(() => {
      class Geocoder {
        @RateLimit({ permits: -1 })
        async lookup(): Promise<void> {}
      }
      return Geocoder;
    }).toThrow('@RateLimit on lookup(): `permits` must be an integer >= 1, got -1.');
  });
});
