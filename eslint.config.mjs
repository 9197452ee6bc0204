import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'cdk.out/', '**/dist/', '**/node_modules/', 'coverage/', '.local/', '**/*.js', '!eslint.config.mjs', '!docker/synapse-admin/*.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      // CDK constructs are created for their side effects on the tree.
      'no-new': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  {
    // A promise nobody awaits loses its rejection (an unhandled rejection ends the process), and
    // an async callback where a void one is expected runs unawaited: both need the types to see.
    // One program for the whole tree (tsconfig.json includes the MCP server too): projectService
    // opened a program per tsconfig and cost 111 s of CPU on `eslint .` against 60 s for `project`
    // with the two tsconfigs (measured 2026-12-01), and one program parses aws-cdk-lib once.
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { project: './tsconfig.json', tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
  {
    // Browser scripts we serve as they are (no build step): classic scripts with the page's globals.
    files: ['docker/synapse-admin/*.js'],
    languageOptions: { sourceType: 'script', globals: { window: 'readonly', document: 'readonly', URL: 'readonly', JSON: 'readonly' } },
  },
);
