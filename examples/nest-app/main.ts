/**
 * Runs the Nest story in a process of its own: this folder is compiled with
 * `experimentalDecorators` (tsconfig.legacy.json), which ts-node can only do per process. The
 * demo forks this file and reads the timeline over IPC; run alone, it prints the timeline:
 *
 *   TS_NODE_PROJECT=tsconfig.legacy.json node -r ts-node/register examples/nest-app/main.ts
 */
import 'reflect-metadata';
import { Timeline, renderEntry, wantsColour } from '../support/timeline';
import type { NestAppMessage } from './message';
import { nestAppScenario } from './scenario';

const send = process.send?.bind(process);
const colour = wantsColour(process.stdout, process.env);
const tell = (message: NestAppMessage) => {
  if (send !== undefined) send(message);
  else if ('entry' in message) console.log(renderEntry(message.entry, colour));
};
const timeline = new Timeline((entry) => {
  tell({ entry });
});

nestAppScenario(timeline).then(
  () => {
    tell({ tally: timeline.tally });
  },
  (error: unknown) => {
    tell({ error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    if (send === undefined) console.error(error);
    process.exitCode = 1;
  },
);
