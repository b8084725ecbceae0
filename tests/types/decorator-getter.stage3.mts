// Stage-3 only: a policy decorator on a getter or a field is a compile error.
import { CircuitBreaker, Retry } from '@staunch/decorators';

export class Holder {
  // @ts-expect-error a getter is not a method
  @Retry()
  get value(): Promise<number> {
    return Promise.resolve(1);
  }

  // @ts-expect-error a field is not a method
  @CircuitBreaker({ threshold: 1, resetTimeout: 1 })
  handler = (): number => 1;
}
