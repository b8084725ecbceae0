// The routes of nest-handlers-app.ts, without Nest: the jest test iterates over them (jest cannot
// load ESM-only Nest 12; the app runs in a child process).
export type Placement = 0 | 1 | 2; // above the staunch pair, between its two, below it

export interface RouteCase {
  readonly path: string;
  readonly verb: 'GET' | 'POST';
  /** Where route, guard, interceptor, metadata and status code decorators are written. */
  readonly placements: readonly [Placement, Placement, Placement, Placement, Placement];
  /** The staunch pair, outermost first. */
  readonly staunch: readonly ['retry', 'circuitBreaker'] | readonly ['circuitBreaker', 'retry'];
}

export const STATUS = 203;

export function routeCases(): RouteCase[] {
  const cases: RouteCase[] = [];
  for (const staunch of [['retry', 'circuitBreaker'] as const, ['circuitBreaker', 'retry'] as const]) {
    for (let n = 0; n < 3 ** 5; n++) {
      const p = [0, 1, 2, 3, 4].map((digit) => Math.floor(n / 3 ** digit) % 3) as RouteCase['placements'][number][];
      const i = cases.length;
      cases.push({
        path: `r${i}`,
        verb: i % 2 === 0 ? 'GET' : 'POST',
        placements: p as unknown as RouteCase['placements'],
        staunch,
      });
    }
  }
  return cases;
}
