// @Fallback in Stage-3 mode, where the decorator sees the method's `this` (legacy decorators do not).
import { Fallback } from '@staunch/decorators';

export class Report {
  readonly empty = 0;

  @Fallback(function (this: Report) {
    return this.empty;
  })
  total(): number {
    return 1;
  }

  // @ts-expect-error the fallback wants `this` to be a Date, but the method's `this` is a Report
  @Fallback(function (this: Date) {
    return this.getTime();
  })
  wrongThis(): number {
    return 1;
  }
}
