/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test', '<rootDir>/docker'],
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/cdk.out/'],
  modulePathIgnorePatterns: ['<rootDir>/cdk.out/'],
  // swc strips types only; `npm run typecheck` does the type checking, once, for the whole tree.
  transform: { '^.+\\.tsx?$': ['@swc/jest', { jsc: { target: 'es2022' } }] },
  setupFiles: ['<rootDir>/test/support/quiet-output.ts', '<rootDir>/test/support/cfn-validation-setup.ts'],
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/postgres/global-teardown.ts',
  snapshotSerializers: ['<rootDir>/test/support/asset-hash-serializer.ts'],
  testTimeout: 60_000,
  // Two cores: synth-heavy infra tests and Postgres-backed tests share them.
  maxWorkers: 2,
};
