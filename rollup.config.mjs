import typescript from '@rollup/plugin-typescript';
import { dts } from 'rollup-plugin-dts';

// Each package builds to dist/ as ESM (.mjs), CommonJS (.cjs) and one bundled .d.ts per format.
const packages = [
  { name: 'core', entries: { index: 'src/index.ts', testing: 'src/testing/index.ts' } },
  { name: 'decorators', entries: { index: 'src/index.ts' } },
  { name: 'redis', entries: { index: 'src/index.ts' } },
  // otel before nestjs: @staunch/nestjs type-checks against @staunch/otel's declarations (its optional peer).
  { name: 'otel', entries: { index: 'src/index.ts' } },
  { name: 'nestjs', entries: { index: 'src/index.ts' } },
];

// Dependencies and peers stay imports: ioredis is the user's own client (a peer of @staunch/redis),
// Nest the user's own framework (peers of @staunch/nestjs), @opentelemetry/api the user's own API copy
// (a peer of @staunch/otel).
const external = (id) =>
  id === 'tslib' ||
  id === 'reflect-metadata' ||
  id === 'ioredis' ||
  id.startsWith('@nestjs/') ||
  id.startsWith('@opentelemetry/') ||
  id.startsWith('@staunch/') ||
  id.startsWith('node:');

export default packages.flatMap(({ name, entries }) => {
  const dir = `packages/${name}`;
  const input = Object.fromEntries(Object.entries(entries).map(([key, file]) => [key, `${dir}/${file}`]));
  const formats = [
    { format: 'es', ext: 'mjs' },
    { format: 'cjs', ext: 'cjs' },
  ];
  return [
    {
      input,
      external,
      output: formats.map(({ format, ext }) => ({
        dir: `${dir}/dist`,
        format,
        sourcemap: true,
        exports: 'named',
        entryFileNames: `[name].${ext}`,
        chunkFileNames: `shared-[hash].${ext}`,
      })),
      plugins: [
        typescript({
          tsconfig: `${dir}/tsconfig.json`,
          declaration: false,
          declarationMap: false,
          outDir: `${dir}/dist`,
          noEmitOnError: true,
        }),
      ],
    },
    ...formats.map(({ ext }) => ({
      input,
      external,
      output: {
        dir: `${dir}/dist`,
        format: 'es',
        entryFileNames: `[name].d.${ext.replace('js', 'ts')}`,
        chunkFileNames: `shared-[hash].d.${ext.replace('js', 'ts')}`,
      },
      plugins: [dts({ tsconfig: `${dir}/tsconfig.json` })],
    })),
  ];
});
