// Vite 8 with Oxc's own transform of legacy decorators (experimentalDecorators): staunch's legacy mode.
import { defineConfig } from 'vite';

export default defineConfig({
  oxc: { decorator: { legacy: true } },
  build: { ssr: 'src/main.ts', outDir: 'out/vite-oxc-legacy', emptyOutDir: true },
  ssr: { noExternal: true },
  logLevel: 'warn',
});
