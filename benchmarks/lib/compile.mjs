// The build step of the decorated scenarios: TypeScript sources → ES2022 JavaScript, with the
// installed `typescript` (transpileModule: the same emit `tsc` produces, without type-checking;
// `npm run typecheck` checks benchmarks/decorated/staunch.ts with the rest of the repository).
//
// Output goes to node_modules/.cache/staunch-bench/ (ignored by git). From there `@staunch/*`,
// `cockatiel` resolve through the root node_modules, to the built dist files users get.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const outDir = join(root, 'node_modules', '.cache', 'staunch-bench');

// cockatiel's `@usePolicy` is a legacy (experimentalDecorators) decorator: `(target, key,
// descriptor)`. It lives here as a string rather than a .ts file because the repository's one
// TypeScript program uses Stage-3 decorators, under which this file does not type-check.
const cockatielSource = `
import { retry, handleAll, usePolicy, ConstantBackoff } from 'cockatiel';

const policy = retry(handleAll, { maxAttempts: 2, backoff: new ConstantBackoff(100) });

export class Service {
  @usePolicy(policy)
  async retried(_context?: unknown): Promise<number> {
    return 42;
  }
}
`;

/** Compiles every decorated source; returns the output file of each, by name. */
export function compileDecorated() {
  const require = createRequire(import.meta.url);
  const ts = require('typescript');
  mkdirSync(outDir, { recursive: true });
  const stage3 = { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext };
  const legacy = { ...stage3, experimentalDecorators: true };
  const units = {
    staunch: { source: readFileSync(join(root, 'benchmarks', 'decorated', 'staunch.ts'), 'utf8'), options: stage3 },
    cockatiel: { source: cockatielSource, options: legacy },
    // The same cockatiel class compiled with Stage-3 decorators: it throws when the class is
    // defined (the decorator receives no descriptor). Kept to report that honestly.
    cockatielStage3: { source: cockatielSource, options: stage3 },
  };
  const files = {};
  for (const [name, { source, options }] of Object.entries(units)) {
    const { outputText, diagnostics } = ts.transpileModule(source, {
      compilerOptions: options,
      fileName: `${name}.ts`,
      reportDiagnostics: true,
    });
    if (diagnostics?.length) {
      throw new Error(`${name}.ts: ${ts.flattenDiagnosticMessageText(diagnostics[0].messageText, '\n')}`);
    }
    const file = join(outDir, `${name}.mjs`);
    writeFileSync(file, outputText);
    files[name] = file;
  }
  return files;
}
