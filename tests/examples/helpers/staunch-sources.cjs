'use strict';
// Preloaded (`node -r`) into the worker processes an example test forks, after ts-node: resolves
// @staunch/* to the TypeScript sources, as jest.config.ts's moduleNameMapper does in the test's own
// process, so the tests need no build. The sources import each other as `./x.js` (the compiled
// names): such a request finds `./x.ts` when there is no `./x.js`.
const { existsSync } = require('node:fs');
const Module = require('node:module');
const path = require('node:path');

const root = path.resolve(__dirname, '../../..');

const sources = {
  '@staunch/core': 'packages/core/src/index.ts',
  '@staunch/core/testing': 'packages/core/src/testing/index.ts',
  '@staunch/decorators': 'packages/decorators/src/index.ts',
  '@staunch/redis': 'packages/redis/src/index.ts',
};

const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, parent, ...rest) {
  if (Object.hasOwn(sources, request)) return path.join(root, sources[request]);
  if (/^\.\.?\//.test(request) && request.endsWith('.js') && parent?.filename) {
    const file = path.resolve(path.dirname(parent.filename), request);
    const ts = `${file.slice(0, -'.js'.length)}.ts`;
    if (!existsSync(file) && existsSync(ts)) return ts;
  }
  return resolveFilename.call(this, request, parent, ...rest);
};
