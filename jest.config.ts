/**
 * @jest-config-loader-options {"transpileOnly": true, "compilerOptions": {"module": "commonjs", "moduleResolution": "bundler"}}
 */
import type { Config } from 'jest';

type Project = NonNullable<Config['projects']>[number] & object;

const sourceMapper = {
  '^@staunch/core$': '<rootDir>/packages/core/src/index.ts',
  '^@staunch/core/testing$': '<rootDir>/packages/core/src/testing/index.ts',
  '^@staunch/decorators$': '<rootDir>/packages/decorators/src/index.ts',
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
    project('legacy', 'tsconfig.legacy.json', { setupFiles: ['reflect-metadata'] }),
    project('examples', 'tsconfig.json', {
      transform: {
        // PGlite loads Node built-ins with import(), which jest's vm only allows behind a flag.
        '@electric-sql/pglite/dist/.+\\.cjs$': '<rootDir>/tests/examples/helpers/require-builtins-transform.cjs',
        // The Nest-style example and its test are legacy-decorator code (experimentalDecorators).
        '(nest-style-service/.+|\\.legacy\\.test)\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.legacy.json' }],
        '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }],
      },
      transformIgnorePatterns: ['/node_modules/(?!@electric-sql/pglite/)'],
    }),
    // The built packages, resolved through their `exports` maps by child Node processes: no source mapping here.
    project('dist', 'tsconfig.json', { moduleNameMapper: {} }),
  ],
};

export default config;
