// Compiles the scenario's sources file by file, as `swc src -d out/swc` or `babel src -d out/babel`
// would, through each tool's API with the configuration file at the app's root (.swcrc,
// babel.config.json): the CLIs (@swc/cli, @babel/cli) add nothing to the transform.
// Usage, in the app: node transpile.mjs swc|babel <outDir>
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

const [tool, outDir] = process.argv.slice(2);
const sources = readdirSync('src').filter((file) => file.endsWith('.ts'));
mkdirSync(outDir, { recursive: true });
for (const file of sources) {
  const code =
    tool === 'swc'
      ? (await import('@swc/core')).transformFileSync(join('src', file), { swcrc: true }).code
      : (await (await import('@babel/core')).transformFileAsync(join('src', file))).code;
  writeFileSync(join(outDir, `${basename(file, '.ts')}.js`), code);
}
