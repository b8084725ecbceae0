// Entry for the command-line runtimes (Node, Bun, Deno): runs the scenario against the loopback
// server whose URL is the first argument, and prints the report as one line of JSON.
import { runScenario } from './scenario.js';

const host = globalThis as { Deno?: { args: string[] }; process?: { argv: string[] } };
const base = host.Deno?.args[0] ?? host.process?.argv[2] ?? '';

void runScenario(base).then((checks) => {
  console.log(JSON.stringify(checks));
});
