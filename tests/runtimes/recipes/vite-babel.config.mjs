// Vite 8 (Rolldown + Oxc) leaves Stage-3 decorators as they are: Babel lowers them.
import babel from '@rolldown/plugin-babel';
import { defineConfig } from 'vite';

export default defineConfig({
  plugins: [babel({ plugins: [['@babel/plugin-proposal-decorators', { version: '2023-11' }]] })],
  // The test runs the scenario in Node: an SSR build with everything bundled, as a page would be.
  build: { ssr: 'src/main.ts', outDir: 'out/vite-babel', emptyOutDir: true },
  ssr: { noExternal: true },
  logLevel: 'warn',
});
