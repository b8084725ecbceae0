/**
 * Runs the Nest-style story in a process of its own: this folder is compiled with
 * `experimentalDecorators` (tsconfig.legacy.json), which ts-node can only do per process. The
 * demo forks this file and reads the timeline over IPC; run alone, it prints the timeline:
 *
 *   TS_NODE_PROJECT=tsconfig.legacy.json node -r ts-node/register examples/nest-style-service/main.ts
 */
import { Timeline, renderEntry, wantsColour, type TimelineEntry } from '../support/timeline';
import { nestStyleScenario } from './scenario';

/** What this process tells the demo, one message per entry, then the tally or the error. */
export type NestStyleMessage =
  { readonly entry: TimelineEntry } | { readonly tally: Timeline['tally'] } | { readonly error: string };

const send = process.send?.bind(process);
const colour = wantsColour(process.stdout, process.env);
const tell = (message: NestStyleMessage) => {
  if (send !== undefined) send(message);
  else if ('entry' in message) console.log(renderEntry(message.entry, colour));
};
const timeline = new Timeline((entry) => {
  tell({ entry });
});

nestStyleScenario(timeline).then(
  () => {
    tell({ tally: timeline.tally });
  },
  (error: unknown) => {
    tell({ error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    if (send === undefined) console.error(error);
    process.exitCode = 1;
  },
);
