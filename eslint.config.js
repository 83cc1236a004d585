// typescript-eslint's recommended rules over the product, its tests and its scripts.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.cache/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        URL: 'readonly',
        performance: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'no-restricted-syntax': [
        'error',
        // One place reads the environment and listens for signals: src/cli/main.ts (see the override below).
        {
          selector: "CallExpression[callee.object.name='process'][callee.property.name=/^(on|once|addListener|prependListener)$/]",
          message: 'no module installs process handlers; take an AbortSignal from the front end',
        },
        { selector: "MemberExpression[object.name='process'][property.name='env']", message: 'read the environment in main only (src/runtime.ts); take it from the Runtime' },
      ],
    },
  },
  {
    // The entry, the tests, the benches and the scripts are their own main.
    files: ['src/cli/main.ts', 'test/**', 'scripts/**', 'bin/**'],
    rules: { 'no-restricted-syntax': 'off' },
  },
);
