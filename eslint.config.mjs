import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'cdk.out/', '**/dist/', '**/node_modules/', 'coverage/', '**/*.js', '!eslint.config.mjs', '!docker/synapse-admin/*.js'] },
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
    // Browser scripts we serve as they are (no build step): classic scripts with the page's globals.
    files: ['docker/synapse-admin/*.js'],
    languageOptions: { sourceType: 'script', globals: { window: 'readonly', document: 'readonly', URL: 'readonly', JSON: 'readonly' } },
  },
);
