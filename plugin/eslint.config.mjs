// ESLint flat configuration: Grafana's shared rules, applied to the TypeScript sources and tests.
import grafanaConfig from '@grafana/eslint-config/flat.js';

export default [
  {
    ignores: ['node_modules/', 'dist/', 'coverage/', '.config/', 'pkg/', '*.js', '*.mjs'],
  },
  ...grafanaConfig,
  {
    files: ['src/**/*.{ts,tsx}'],
    settings: { react: { version: '18.3' } },
    rules: {
      'react/prop-types': 'off',
      'react/react-in-jsx-scope': 'off',
      'react-hooks/exhaustive-deps': 'error',
      eqeqeq: ['error', 'always'],
      'no-console': 'error',
    },
  },
];
