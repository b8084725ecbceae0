/**
 * Where the runtime tests find things. The global setup packs the packages once into
 * `.pack/runtimes` (git-ignored) and installs the tarballs into `.pack/runtimes/app`, a user's
 * project; every test builds into its own folder under `app/out`. `app` sits inside the
 * repository so that the build tools (esbuild, vite, swc…) resolve from the root
 * node_modules, while `@staunch/*` resolve from the app's own node_modules: the tarballs.
 */
import { join, resolve } from 'node:path';

export const root = resolve(__dirname, '../../..');
export const packDir = join(root, '.pack/runtimes');
export const tarballDir = join(packDir, 'tarballs');
export const appDir = join(packDir, 'app');
export const scenarioDir = join(root, 'tests/runtimes/scenario');
export const recipeDir = join(root, 'tests/runtimes/recipes');

/** A tool installed as a devDependency. */
export const bin = (name: string): string => join(root, 'node_modules/.bin', name);

/** The tarball of a workspace package (`core`, `decorators`, `redis`), as `npm pack` names it. */
export const tarball = (name: string): string => join(tarballDir, `staunch-${name}-0.1.0.tgz`);

// `npm run` puts node_modules/.bin first on PATH, and the `node22` alias installs a `node` bin
// there: take Node 20 from the node that runs npm (as tests/dist does).
export const nodes = [
  { major: 20, bin: process.env.npm_node_execpath ?? process.execPath },
  { major: 22, bin: join(root, 'node_modules/node22/bin/node') },
  { major: 24, bin: join(root, 'node_modules/node24/bin/node') },
] as const;

/** Node 22, for the tools whose current majors need it (Babel 8, @rolldown/plugin-babel). */
export const node22 = nodes[1].bin;
