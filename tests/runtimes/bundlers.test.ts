/**
 * The build tools of the README's "Build tools" section, each with the settings it gives
 * (the configuration files are in ./recipes), building the one scenario against the PACKED
 * packages; every output then runs the scenario on Node 20. Without those settings, esbuild and
 * Vite build "successfully" and ship the `@` syntax untouched: that is tested too. All builds run
 * at once, before the tests.
 */
import { join } from 'node:path';

import { appDir, bin, node22, nodes, root } from './support/paths';
import { allPassed, parseReport, type Report } from './support/report';
import { attempt, run } from './support/run';
import { startServer } from './support/server';

const node20 = nodes[0].bin;
const vite = join(root, 'node_modules/vite/bin/vite.js');
const transpile = join(__dirname, 'support/transpile.mjs');
const esbuild =
  (out: string, ...flags: string[]) =>
  (): Promise<string> =>
    run(bin('esbuild'), ['src/main.ts', '--bundle', '--platform=node', '--format=esm', `--outfile=${out}`, ...flags], {
      cwd: appDir,
    });

interface Recipe {
  readonly name: string;
  /** Builds the scenario; undefined for the tools that run the sources themselves. */
  readonly build?: () => Promise<string>;
  /** The program and arguments that run the output (the server URL is appended). */
  readonly start: readonly string[];
}

const recipes: Recipe[] = [
  {
    name: 'esbuild --bundle --target=node20',
    build: esbuild('out/esbuild/main.js', '--target=node20'),
    start: [node20, 'out/esbuild/main.js'],
  },
  {
    name: 'Vite 8 + @rolldown/plugin-babel (decorators 2023-11)',
    // Babel 8 and @rolldown/plugin-babel need Node ≥ 22.
    build: () => run(node22, [vite, 'build', '--config', 'vite-babel.config.mjs'], { cwd: appDir }),
    start: [node20, 'out/vite-babel/main.js'],
  },
  {
    name: 'Vite 8 + Oxc legacy decorators (staunch’s legacy mode)',
    build: () => run(node20, [vite, 'build', '--config', 'vite-oxc-legacy.config.mjs'], { cwd: appDir }),
    start: [node20, 'out/vite-oxc-legacy/main.js'],
  },
  {
    name: 'swc (.swcrc: decoratorVersion 2023-11, target es2022)',
    build: () => run(node20, [transpile, 'swc', 'out/swc'], { cwd: appDir }),
    start: [node20, 'out/swc/main.js'],
  },
  {
    name: 'Babel (preset-typescript + plugin-proposal-decorators 2023-11)',
    build: () => run(node22, [transpile, 'babel', 'out/babel'], { cwd: appDir }),
    start: [node20, 'out/babel/main.js'],
  },
  {
    name: 'Bun’s bundler (bun build --target=node)',
    build: () => run(bin('bun'), ['build', 'src/main.ts', '--target=node', '--outdir=out/bun-build'], { cwd: appDir }),
    start: [node20, 'out/bun-build/main.js'],
  },
  { name: 'tsx (runs the sources)', start: [bin('tsx'), 'src/main.ts'] },
];

/** What goes wrong without the settings: the build succeeds, the output does not run. */
const without: Recipe[] = [
  {
    name: 'esbuild without --target (esnext)',
    build: esbuild('out/esbuild-esnext/main.js'),
    start: [node20, 'out/esbuild-esnext/main.js'],
  },
  {
    name: 'Vite 8 without a decorator transform',
    build: () => run(node20, [vite, 'build', '--config', 'vite-plain.config.mjs'], { cwd: appDir }),
    start: [node20, 'out/vite-plain/main.js'],
  },
];

/** Each recipe's build error, if any (all built at once). */
const built = new Map<Recipe, string | undefined>();

beforeAll(async () => {
  await Promise.all(
    [...recipes, ...without].map(async (recipe) => {
      built.set(
        recipe,
        await (recipe.build?.() ?? Promise.resolve('')).then(
          () => undefined,
          (error: unknown) => String(error),
        ),
      );
    }),
  );
}, 240_000);

async function runScenario(recipe: Recipe): Promise<Report> {
  const [program = '', ...args] = recipe.start;
  const server = await startServer();
  try {
    const ran = await attempt(program, [...args, server.url], { cwd: appDir, timeout: 60_000 });
    return ran.code === 0 ? parseReport(ran.stdout) : { exit: ran.code, stderr: ran.stderr };
  } finally {
    await server.close();
  }
}

describe.each(recipes)('$name', (recipe) => {
  it('builds, and the output runs the scenario on Node 20', async () => {
    expect(built.get(recipe)).toBeUndefined();
    expect(await runScenario(recipe)).toEqual(allPassed);
  });
});

describe.each(without)('$name', (recipe) => {
  it('builds "successfully", and the output stops at the `@` with a SyntaxError', async () => {
    expect(built.get(recipe)).toBeUndefined();
    const report = await runScenario(recipe);
    expect(report.exit).toBe(1);
    expect(String(report.stderr)).toContain('SyntaxError: Invalid or unexpected token');
  });
});
