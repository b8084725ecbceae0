/**
 * @jest-config-loader-options {"transpileOnly": true, "compilerOptions": {"module": "commonjs", "moduleResolution": "bundler"}}
 */
import type { Config } from 'jest';

type Project = NonNullable<Config['projects']>[number] & object;

const sourceMapper = {
  '^@staunch/core$': '<rootDir>/packages/core/src/index.ts',
  '^@staunch/core/testing$': '<rootDir>/packages/core/src/testing/index.ts',
  '^@staunch/decorators$': '<rootDir>/packages/decorators/src/index.ts',
  '^@staunch/redis$': '<rootDir>/packages/redis/src/index.ts',
  '^@staunch/nestjs$': '<rootDir>/packages/nestjs/src/index.ts',
  '^@staunch/otel$': '<rootDir>/packages/otel/src/index.ts',
  '^(\\.{1,2}/.*)\\.js$': '$1',
};

const project = (name: string, tsconfig: string, extra: Partial<Project> = {}): Project => ({
  displayName: name,
  testEnvironment: 'node',
  rootDir: __dirname,
  // Not `roots: tests/${name}`: jest rejects a missing root, and a fresh clone has no empty folders.
  roots: ['<rootDir>/tests'],
  testMatch: [`<rootDir>/tests/${name}/**/*.test.ts`],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: `<rootDir>/${tsconfig}` }] },
  moduleNameMapper: sourceMapper,
  ...extra,
});

const config: Config = {
  projects: [
    project('core', 'tsconfig.json'),
    project('decorators', 'tsconfig.json'),
    // @staunch/otel against the real OpenTelemetry SDK (in-memory reader and span exporter).
    project('otel', 'tsconfig.json'),
    // Against real redis-server processes the tests start themselves (tests/redis/support): slower.
    project('redis', 'tsconfig.json', { setupFilesAfterEnv: ['<rootDir>/tests/redis/support/jest-setup.ts'] }),
    // Everything compiled with experimentalDecorators, the legacy-mode example's test included (one
    // project per tsconfig: two ts-jest configurations in one project can compile a file with the wrong one).
    project('legacy', 'tsconfig.legacy.json', {
      setupFiles: ['reflect-metadata'],
      testMatch: ['<rootDir>/tests/legacy/**/*.test.ts', '<rootDir>/tests/examples/**/*.legacy.test.ts'],
    }),
    // Real NestJS apps in child processes (Nest 12 is ESM-only: jest's module system cannot load it;
    // tests/nestjs/support/register.cjs), spoken to over HTTP.
    project('nestjs', 'tsconfig.legacy.json', { setupFiles: ['reflect-metadata'] }),
    project('examples', 'tsconfig.json', {
      testPathIgnorePatterns: ['/node_modules/', '\\.legacy\\.test\\.ts$'],
      transform: {
        // PGlite loads Node built-ins with import(), which jest's vm only allows behind a flag.
        '@electric-sql/pglite/dist/.+\\.cjs$': '<rootDir>/tests/examples/helpers/require-builtins-transform.cjs',
        '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }],
      },
      transformIgnorePatterns: ['/node_modules/(?!@electric-sql/pglite/)'],
    }),
    // The built packages, resolved through their `exports` maps by child Node processes: no source mapping here.
    project('dist', 'tsconfig.json', { moduleNameMapper: {} }),
    // The PACKED packages on every runtime and through every build tool (tests/runtimes): one pack,
    // made by the global setup, shared by all the files. `npm run build` first.
    project('runtimes', 'tsconfig.json', {
      moduleNameMapper: {},
      globalSetup: '<rootDir>/tests/runtimes/support/global-setup.ts',
      globalTeardown: '<rootDir>/tests/runtimes/support/global-teardown.ts',
      setupFilesAfterEnv: ['<rootDir>/tests/runtimes/support/jest-setup.ts'],
      testPathIgnorePatterns: ['/node_modules/', '/tests/runtimes/(scenario|recipes)/'],
    }),
  ],
};

export default config;
