// Vite 8 as `npm create vite` sets it up: no decorator transform. The build succeeds, the output does not run.
import { defineConfig } from 'vite';

export default defineConfig({
  build: { ssr: 'src/main.ts', outDir: 'out/vite-plain', emptyOutDir: true },
  ssr: { noExternal: true },
  logLevel: 'warn',
});
