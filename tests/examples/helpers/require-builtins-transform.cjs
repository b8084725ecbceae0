// A jest transform for PGlite's CommonJS build, which loads Node built-ins with `import("zlib")`
// and the like. Jest runs tests in a vm context where a dynamic import() needs
// --experimental-vm-modules; a require() of a built-in needs nothing. Only literal
// `import("<built-in>")` calls are rewritten; nothing else in the file changes.
const { builtinModules } = require('node:module');

const { createHash } = require('node:crypto');
const { readFileSync } = require('node:fs');

const builtins = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));

module.exports = {
  // Jest caches transformed files; the key must change when this file does.
  getCacheKey(source) {
    return createHash('sha256').update(readFileSync(__filename)).update(source).digest('hex');
  },
  process(source) {
    // The module's own `require`, kept under a name no function in the file redeclares (the
    // Emscripten loader declares a local `var require`).
    const code = source.replace(/\bimport\("([\w:/]+)"\)/g, (call, name) =>
      builtins.has(name) ? `Promise.resolve().then(() => __requireBuiltin("${name}"))` : call,
    );
    return { code: `var __requireBuiltin = require;${code}` };
  },
};
