// Type-checks the ```ts blocks of README.md and the package READMEs against the SOURCES
// (packages/*/src, through a `paths` mapping: no build needed), so the documentation cannot
// drift from the API. Each block is one module, compiled strict, Stage-3 decorators, ES2022.
//
// Markers, on the line before a block's opening fence (HTML comments: invisible on GitHub):
//   <!-- snippet: skip -->      not checked (an illustrative fragment; use sparingly)
//   <!-- snippet: continue -->  appended to the previous block of the same file (a story told in steps)
//   <!-- snippet: legacy -->    compiled with experimentalDecorators + emitDecoratorMetadata
// In the root README, blocks may use the placeholder names declared in scripts/readme-snippets.d.ts
// (HttpError, Receipt, …) without declaring them: the reader's own types; and a block with no import
// of its own is a fragment: it sees every export of @staunch/decorators (which re-exports
// @staunch/core), as if imported. The package READMEs are the npm pages, read one snippet at a
// time: there, every block compiles as written (it imports and declares all it uses, third-party
// modules included: they are the repository's devDependencies), and every link is
// absolute or points at a heading of the same README. An ellipsis `…` stands for elided code:
// a `{ … }` at the end of a line is a method body that throws, another `{ … }` an empty object,
// any other `…` the value `undefined!`.
//
// Usage: node scripts/check-readme-snippets.mjs [--verbose] [--keep]
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import ts from 'typescript';

const root = resolve(import.meta.dirname, '..');
const readmes = [
  'README.md',
  'packages/core/README.md',
  'packages/decorators/README.md',
  'packages/redis/README.md',
  'packages/nestjs/README.md',
  'packages/otel/README.md',
];
const preamble = join(root, 'scripts/readme-snippets.d.ts');
const scratch = join(root, 'node_modules/.cache/staunch-readme-snippets');
const verbose = process.argv.includes('--verbose');

/** One block: where it came from, and the code to compile (continued blocks already merged). */
const blocks = [];
let skipped = 0;
for (const readme of readmes) {
  const lines = readFileSync(join(root, readme), 'utf8').split('\n');
  let previous;
  for (let i = 0; i < lines.length; i++) {
    const fence = /^(\s*)```(ts|typescript)\s*$/.exec(lines[i]);
    if (fence === null) continue;
    let above = i - 1;
    while (above >= 0 && lines[above].trim() === '') above--; // prettier puts a blank line after a comment
    const marker = /^\s*<!--\s*snippet:\s*(skip|continue|legacy)\s*-->\s*$/.exec(lines[above] ?? '')?.[1];
    const start = i + 1;
    let end = start;
    while (end < lines.length && !/^\s*```\s*$/.test(lines[end])) end++;
    const code = lines.slice(start, end).map((line) => line.slice(fence[1].length));
    i = end;
    if (marker === 'skip') {
      skipped++;
      continue;
    }
    if (marker === 'continue' && previous !== undefined) {
      previous.parts.push({ line: start + 1, code });
      continue;
    }
    previous = {
      readme,
      legacy: marker === 'legacy',
      published: readme.startsWith('packages/'),
      parts: [{ line: start + 1, code }],
    };
    blocks.push(previous);
  }
}

rmSync(scratch, { recursive: true, force: true });
mkdirSync(scratch, { recursive: true });

const base = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  lib: ['lib.es2022.d.ts', 'lib.esnext.decorators.d.ts'],
  types: ['node', 'jest'],
  typeRoots: [join(root, 'node_modules/@types')],
  strict: true,
  noEmit: true,
  skipLibCheck: true,
  exactOptionalPropertyTypes: true,
  noUncheckedIndexedAccess: true,
  paths: {
    '@staunch/core': [join(root, 'packages/core/src/index.ts')],
    '@staunch/core/testing': [join(root, 'packages/core/src/testing/index.ts')],
    '@staunch/decorators': [join(root, 'packages/decorators/src/index.ts')],
    '@staunch/redis': [join(root, 'packages/redis/src/index.ts')],
    '@staunch/nestjs': [join(root, 'packages/nestjs/src/index.ts')],
    '@staunch/otel': [join(root, 'packages/otel/src/index.ts')],
  },
};

// The names a fragment may use without importing them: everything @staunch/decorators exports.
const exported = exportsOf(join(root, 'packages/decorators/src/index.ts'));

// Each snippet file maps its lines back to README lines, for error messages.
const origins = new Map();
const files = { stage3: [], legacy: [], stage3Published: [], legacyPublished: [] };
blocks.forEach((block, index) => {
  const file = join(scratch, `${block.readme.replace(/[/.]/g, '_')}_${index + 1}.ts`);
  const text = [];
  const lineMap = [];
  for (const part of block.parts) {
    part.code.forEach((line, offset) => {
      text.push(elide(line));
      lineMap.push(part.line + offset);
    });
  }
  // Appended, not prepended, so that lines keep their numbers (imports are hoisted anyway).
  const source = text.join('\n');
  const own = topLevelNames(source);
  if (!own.imports && !block.published) {
    const names = exported.filter((name) => !own.names.has(name));
    text.push(`import { ${names.join(', ')} } from '@staunch/decorators';`);
  }
  text.push('export {};'); // every block is a module (top-level await, no global leaks)
  writeFileSync(file, text.join('\n'));
  origins.set(file, { readme: block.readme, lineMap });
  files[`${block.legacy ? 'legacy' : 'stage3'}${block.published ? 'Published' : ''}`].push(file);
});

const legacy = { ...base, experimentalDecorators: true, emitDecoratorMetadata: true };
const modes = [
  { name: 'Stage-3', files: files.stage3, options: base, preamble: true },
  { name: 'legacy', files: files.legacy, options: legacy, preamble: true },
  { name: 'Stage-3, published', files: files.stage3Published, options: base, preamble: false },
  { name: 'legacy, published', files: files.legacyPublished, options: legacy, preamble: false },
];

let errors = 0;
for (const mode of modes) {
  if (mode.files.length === 0) continue;
  const program = ts.createProgram([...(mode.preamble ? [preamble] : []), ...mode.files], mode.options);
  for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
    const file = diagnostic.file?.fileName;
    const origin = file === undefined ? undefined : origins.get(resolve(file));
    // Errors in the sources or the preamble are not the README's: `npm run typecheck` reports those.
    if (file !== undefined && origin === undefined) continue;
    errors++;
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n  ');
    if (origin === undefined || diagnostic.start === undefined) {
      console.error(`readme snippets (${mode.name}): ${message}`);
      continue;
    }
    const { line, character } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
    const readmeLine = origin.lineMap[line] ?? '?';
    console.error(`${origin.readme}:${readmeLine}:${character + 1} TS${diagnostic.code}: ${message}`);
    if (verbose) console.error(`  (compiled as ${relative(root, file)}:${line + 1})`);
  }
}

// The package READMEs are also the npm pages, where a relative link leads nowhere: links there
// must be absolute (https://…) or point at a heading of the same README.
for (const readme of readmes.filter((file) => file.startsWith('packages/'))) {
  const text = readFileSync(join(root, readme), 'utf8');
  const anchors = headingAnchors(text);
  const prose = text.replace(/^([ \t]*)```[\s\S]*?^\1```/gm, (block) => block.replace(/[^\n]/g, ' '));
  for (const match of prose.matchAll(/\]\(([^)\s]+)\)|^\[[^\]]+\]:\s*(\S+)/gm)) {
    const target = match[1] ?? match[2];
    const line = prose.slice(0, match.index).split('\n').length;
    const broken = target.startsWith('#') ? !anchors.has(target.slice(1)) : !/^https?:\/\//.test(target);
    if (broken) {
      errors++;
      console.error(
        `${readme}:${line}: link "${target}" does not work on the npm page (use an absolute URL or a heading of this README)`,
      );
    }
  }
}

if (!process.argv.includes('--keep')) rmSync(scratch, { recursive: true, force: true });
const checked = `${blocks.length} snippet${blocks.length === 1 ? '' : 's'} from ${readmes.length} READMEs`;
if (errors > 0) {
  console.error(`check-readme-snippets: ${errors} error${errors === 1 ? '' : 's'} in ${checked}.`);
  process.exit(1);
}
console.log(`check-readme-snippets: ${checked} compile (${skipped} marked skip).`);

/** `…` is elided code: a `{ … }` body throws, another `{ … }` is `{}`, any other `…` is `undefined!`. */
function elide(line) {
  return line
    .replace(/\{\s*…\s*\}(\s*(\/\/.*)?)$/, "{ throw new Error('elided'); }$1")
    .replace(/\{\s*…\s*\}/g, '{}')
    .replace(/…/g, 'undefined!');
}

/** The names a module exports (values and types), read with the compiler. */
function exportsOf(file) {
  const program = ts.createProgram([file], base);
  const checker = program.getTypeChecker();
  const symbol = checker.getSymbolAtLocation(program.getSourceFile(file));
  return checker
    .getExportsOfModule(symbol)
    .map((s) => s.name)
    .sort();
}

/** Whether a block imports anything, and the names it declares at the top level. */
function topLevelNames(source) {
  const file = ts.createSourceFile('block.ts', source, ts.ScriptTarget.ES2022, false, ts.ScriptKind.TS);
  const names = new Set();
  let imports = false;
  for (const statement of file.statements) {
    if (ts.isImportDeclaration(statement)) imports = true;
    else if (ts.isVariableStatement(statement)) {
      for (const d of statement.declarationList.declarations) if (ts.isIdentifier(d.name)) names.add(d.name.text);
    } else if (statement.name !== undefined && ts.isIdentifier(statement.name)) names.add(statement.name.text);
  }
  return { imports, names };
}

/** The anchors GitHub and npm give a README's headings: lower case, punctuation dropped, spaces → `-`. */
function headingAnchors(text) {
  const anchors = new Set();
  const outsideCode = text.replace(/^([ \t]*)```[\s\S]*?^\1```/gm, '');
  for (const [, heading] of outsideCode.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = heading
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    let anchor = base;
    for (let n = 1; anchors.has(anchor); n++) anchor = `${base}-${n}`;
    anchors.add(anchor);
  }
  return anchors;
}
