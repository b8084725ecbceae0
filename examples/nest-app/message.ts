import type { Timeline, TimelineEntry } from '../support/timeline';

/** What main.ts tells the demo over IPC, one message per entry, then the tally or the error. */
export type NestAppMessage =
  { readonly entry: TimelineEntry } | { readonly tally: Timeline['tally'] } | { readonly error: string };
