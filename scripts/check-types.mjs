// Type-checks the consumer files in tests/types against the PUBLISHED declarations: the
// built packages/*/dist/*.d.{mts,cts}, resolved through the `exports` maps (module
// nodenext), with every TypeScript version and decorator mode below. A consumer marks what
// must NOT compile with `@ts-expect-error`, so a missing error fails the check (TS2578).
//
// Which files run in which mode: `*.legacy.*` only in legacy mode, `*.stage3.*` only in
// Stage-3 mode, any other consumer in both. `.mts` files are ES modules, `.cts` and `.ts`
// files CommonJS (the root package.json has no "type"). Run `npm run build` first.
//
// Usage: node scripts/check-types.mjs [--verbose]
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';

const root = resolve(import.meta.dirname, '..');
const consumersDir = join(root, 'tests/types');

/** The compilers every consumer must pass. TS 7 has no JS API, so each runs as its own `tsc`. */
const compilers = [
  { name: 'TS 5.2', tsc: 'node_modules/typescript52/bin/tsc' },
  { name: 'TS 6.0', tsc: 'node_modules/typescript/bin/tsc' },
  { name: 'TS 7.0', tsc: 'node_modules/typescript7/bin/tsc' },
];

/** A Node user's tsconfig: strict, ES2022, only @types/node, and the published .d.ts checked too. */
const userOptions = {
  target: 'ES2022',
  lib: ['ES2022'],
  module: 'nodenext',
  moduleResolution: 'nodenext',
  types: ['node'], // AbortSignal (in the Clock contract) comes from @types/node, as in any Node app
  typeRoots: [join(root, 'node_modules/@types')], // the generated tsconfig lives in a temp folder
  strict: true,
  noEmit: true,
  skipLibCheck: false, // the published .d.ts must compile too
  forceConsistentCasingInFileNames: true,
};

/** Decorator modes: the options they add, and which consumer files they compile. */
const modes = [
  { name: 'stage3', options: {}, includes: (file) => !file.includes('.legacy.') },
  {
    name: 'legacy',
    options: { experimentalDecorators: true, emitDecoratorMetadata: true },
    includes: (file) => !file.includes('.stage3.'),
  },
];

const verbose = process.argv.includes('--verbose');
const run = promisify(execFile);

const missing = ['core/dist/index.d.mts', 'core/dist/index.d.cts', 'decorators/dist/index.d.mts']
  .map((file) => join(root, 'packages', file))
  .filter((file) => !existsSync(file));
if (missing.length > 0) {
  console.error(
    `check-types: ${missing.map((f) => relative(root, f)).join(', ')} missing: run \`npm run build\` first.`,
  );
  process.exit(1);
}

const consumers = readdirSync(consumersDir)
  .filter((file) => /\.(ts|mts|cts)$/.test(file) && !file.endsWith('.d.ts'))
  .sort();
if (consumers.length === 0) {
  console.error('check-types: no consumer files in tests/types.');
  process.exit(1);
}

const scratch = mkdtempSync(join(tmpdir(), 'staunch-types-'));
const jobs = compilers.flatMap((compiler) =>
  modes.map((mode) => ({ compiler, mode, files: consumers.filter(mode.includes) })),
);

try {
  const results = await pool(jobs, availableParallelism(), check);
  const width = Math.max(...results.map((r) => r.label.length));
  let failures = 0;
  for (const result of results) {
    const status = result.errors.length === 0 && result.problems.length === 0 ? 'ok' : 'FAIL';
    if (status !== 'ok') failures++;
    console.log(
      `${result.label.padEnd(width)}  ${String(result.files.length).padStart(2)} files  ${status.padEnd(4)}  ${result.seconds.toFixed(1)} s`,
    );
    for (const line of [...result.problems, ...result.errors]) console.log(`    ${line}`);
    if (verbose) for (const file of result.declarations) console.log(`    loaded ${file}`);
  }
  console.log(
    failures === 0
      ? `check-types: ${consumers.length} consumers pass with ${compilers.length} compilers in ${modes.length} modes.`
      : `check-types: ${failures} of ${results.length} runs failed.`,
  );
  process.exitCode = failures === 0 ? 0 : 1;
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

/** Compiles one (compiler, mode) set of consumers; returns its errors and the dist .d.ts it loaded. */
async function check({ compiler, mode, files }) {
  const label = `${compiler.name} ${mode.name}`;
  const tsconfig = join(scratch, `tsconfig.${compiler.name.replace(/\W/g, '')}.${mode.name}.json`);
  writeFileSync(
    tsconfig,
    JSON.stringify({
      compilerOptions: { ...userOptions, ...mode.options },
      files: files.map((file) => join(consumersDir, file)),
    }),
  );
  const started = performance.now();
  let output;
  try {
    const { stdout } = await run(
      process.execPath,
      [join(root, compiler.tsc), '-p', tsconfig, '--listFiles', '--pretty', 'false'],
      {
        cwd: root,
        maxBuffer: 64 * 1024 * 1024,
      },
    );
    output = stdout;
  } catch (error) {
    output = `${error.stdout ?? ''}${error.stderr ?? ''}` || String(error);
    if (!/error TS\d+/.test(output)) output += `\nerror TS0000: tsc failed: ${error.message}`;
  }
  const lines = output.split('\n').map((line) => line.trimEnd());
  const errors = collectErrors(lines);
  const declarations = lines
    .filter((line) => /\/packages\/[^/]+\/dist\/.*\.d\.[cm]?ts$/.test(line) || /\/node_modules\/@staunch\//.test(line))
    .map((line) => relative(root, line));
  // Prove the consumers really read the published declarations of each format they use.
  const problems = [];
  const wants = [
    [files.some((f) => f.endsWith('.mts')), '.d.mts'],
    [files.some((f) => /\.c?ts$/.test(f) && !f.endsWith('.mts')), '.d.cts'],
  ];
  for (const [used, ext] of wants) {
    if (used && !declarations.some((file) => file.endsWith(ext))) problems.push(`no dist/*${ext} was loaded`);
  }
  if (declarations.some((file) => file.includes('/src/'))) problems.push('a consumer resolved to sources, not dist');
  return { label, files, errors, problems, declarations, seconds: (performance.now() - started) / 1000 };
}

/** tsc error lines (with their indented continuation lines), paths made relative to the repo. */
function collectErrors(lines) {
  const errors = [];
  for (const line of lines) {
    if (/error TS\d+/.test(line)) errors.push(line.startsWith('/') ? relative(root, line) : line);
    else if (/^\s+\S/.test(line) && errors.length > 0 && !line.startsWith('/'))
      errors[errors.length - 1] += `\n    ${line}`;
  }
  return errors;
}

/** Runs `work` over `items`, at most `limit` at a time, keeping the order of `items`. */
async function pool(items, limit, work) {
  const results = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
