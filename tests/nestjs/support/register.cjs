// Preloaded (`node -r`) into the child processes that run real NestJS applications for the tests.
// Nest 12 is ESM-only, which jest's module system cannot load, while Node (20.19+) can
// `require()` it: so each Nest app runs in a real Node process, compiled as a Nest user compiles
// (experimentalDecorators + emitDecoratorMetadata, tsconfig.legacy.json, to CommonJS), and the
// tests talk to it over HTTP. `@staunch/*` resolves to the packages' sources, as in jest.
'use strict';
const Module = require('node:module');
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '../../..');
const sources = {
  '@staunch/core': 'packages/core/src/index.ts',
  '@staunch/core/testing': 'packages/core/src/testing/index.ts',
  '@staunch/decorators': 'packages/decorators/src/index.ts',
  '@staunch/redis': 'packages/redis/src/index.ts',
  '@staunch/nestjs': 'packages/nestjs/src/index.ts',
  '@staunch/otel': 'packages/otel/src/index.ts',
};

// STAUNCH_WITHOUT_OTEL=1: @staunch/otel resolves as it does where it is not installed (not found).
const withoutOtel = process.env.STAUNCH_WITHOUT_OTEL === '1';

// STAUNCH_NEST_MAJOR=11: every `@nestjs/*` (the app's, @staunch/nestjs's, and Nest's own requires of
// each other) from the separate install of the previous major, tests/nestjs/nest11 (see nest-process.ts).
const nest11 = process.env.STAUNCH_NEST_MAJOR === '11' ? join(root, 'tests/nestjs/nest11/node_modules') : undefined;

const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, parent, isMain, options) {
  if (withoutOtel && request === '@staunch/otel') {
    const error = new Error(`Cannot find module '${request}'`);
    error.code = 'MODULE_NOT_FOUND';
    throw error;
  }
  const source = sources[request];
  if (source !== undefined) return join(root, source);
  if (nest11 !== undefined && request.startsWith('@nestjs/')) {
    return resolve.call(this, request, parent, isMain, { paths: [nest11] });
  }
  // The sources import each other as './x.js' (ESM style); the file on disk is './x.ts'.
  if (request.startsWith('.') && request.endsWith('.js') && parent?.filename?.endsWith('.ts')) {
    const ts = join(parent.filename, '..', request.slice(0, -3) + '.ts');
    if (existsSync(ts)) return ts;
  }
  return resolve.call(this, request, parent, isMain, options);
};

require('ts-node').register({
  project: join(root, 'tsconfig.legacy.json'),
  transpileOnly: true,
  compilerOptions: { module: 'commonjs' },
});
