'use strict';
// One process of a fleet (see ./fleet.ts), forked as `node fleet-worker.cjs <setup module> <index> <count>`.
// It runs the TypeScript sources as they are, with no build: ts-node compiles them (transpile
// only), @staunch/* resolve to packages/*/src, and a relative `./x.js` import finds `./x.ts`.
// Then the setup module's default export, `async (ctx) => handlers`, gives the handlers that
// the parent calls over IPC: `{ id, method, args }` is answered with `{ id, ok: true, value }`
// or `{ id, ok: false, error }`. `{ stop: true }` runs the `close` handler, if any, and exits.
const path = require('node:path');

const root = path.resolve(__dirname, '../../..');

require('ts-node').register({
  project: path.join(root, 'tsconfig.json'),
  transpileOnly: true,
  compilerOptions: { module: 'commonjs' },
});
// @staunch/* resolve to packages/*/src, as in the examples' forked workers.
require('../../examples/helpers/staunch-sources.cjs');

const [setupModule, index, count] = process.argv.slice(2);

/** Sends a message; one that cannot be serialised is replaced by `fallback()`. */
function send(message, fallback) {
  if (!process.connected) return;
  try {
    process.send(message);
  } catch (error) {
    if (fallback !== undefined) send(fallback(error));
  }
}

const describe = (error) => (error instanceof Error ? (error.stack ?? error.message) : String(error));

// The parent is gone (or stopped listening): nothing can reach this worker any more.
process.on('disconnect', () => process.exit(0));

async function main() {
  const loaded = require(path.resolve(setupModule));
  const setup = loaded.default ?? loaded;
  if (typeof setup !== 'function') throw new Error(`${setupModule} has no default export function`);
  const handlers = await setup({ index: Number(index), count: Number(count), env: process.env });
  if (typeof handlers !== 'object' || handlers === null) throw new Error(`${setupModule}: setup returned no handlers`);

  let stopping = false;
  process.on('message', (message) => {
    if (message.stop === true) {
      if (stopping) return;
      stopping = true;
      Promise.resolve()
        .then(() => (typeof handlers.close === 'function' ? handlers.close() : undefined))
        .then(
          () => process.exit(0),
          (error) => {
            process.stderr.write(`close failed: ${describe(error)}\n`);
            process.exit(1);
          },
        );
      return;
    }
    const { id, method, args } = message;
    const handler = Object.hasOwn(handlers, method) ? handlers[method] : undefined;
    if (typeof handler !== 'function') {
      const known = Object.keys(handlers).join(', ');
      send({ id, ok: false, error: `no handler ${JSON.stringify(method)} (there are: ${known})` });
      return;
    }
    Promise.resolve()
      .then(() => handler(...(Array.isArray(args) ? args : [])))
      .then(
        (value) =>
          send({ id, ok: true, value }, (error) => ({
            id,
            ok: false,
            error: `${method} returned a value IPC cannot carry: ${describe(error)}`,
          })),
        (error) => send({ id, ok: false, error: describe(error) }),
      );
  });
  send({ ready: true });
}

main().catch((error) => {
  process.stderr.write(`setup failed: ${describe(error)}\n`);
  // Exits once the message is out (an IPC send is asynchronous).
  if (process.connected) process.send({ ready: false, error: describe(error) }, () => process.exit(1));
  else process.exit(1);
});
