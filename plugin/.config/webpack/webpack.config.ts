/*
 * Production and development bundles of the plugin frontend (create-plugin layout, trimmed: no Sass, no
 * in-build type checking or linting — `npm run typecheck` and `npm run lint` do that once).
 */
import CopyWebpackPlugin from 'copy-webpack-plugin';
import path from 'path';
import { Configuration } from 'webpack';

import { BACKEND_EXECUTABLES, DIST_DIR, SOURCE_DIR } from './constants';
import { fillPlaceholders, getPluginJson } from './utils';

type Env = { production?: boolean; development?: boolean };

const config = (env: Env): Configuration => {
  const pluginJson = getPluginJson();
  return {
    cache: {
      type: 'filesystem',
      buildDependencies: { config: [__filename] },
    },
    context: path.join(process.cwd(), SOURCE_DIR),
    devtool: env.production ? 'source-map' : 'eval-source-map',
    entry: { module: './module.ts' },
    // Provided by Grafana at run time (SystemJS/AMD): bundling them would duplicate React and break hooks.
    externals: [
      'lodash',
      'jquery',
      'moment',
      'slate',
      'emotion',
      '@emotion/react',
      '@emotion/css',
      'prismjs',
      'slate-plain-serializer',
      '@grafana/slate-react',
      'react',
      'react-dom',
      'react-redux',
      'redux',
      'rxjs',
      'react-router',
      'react-router-dom',
      'd3',
      'angular',
      '@grafana/ui',
      '@grafana/runtime',
      '@grafana/data',
      '@grafana/schema',
    ],
    mode: env.production ? 'production' : 'development',
    module: {
      rules: [
        {
          exclude: /node_modules/,
          test: /\.[tj]sx?$/,
          use: {
            loader: 'swc-loader',
            options: {
              jsc: {
                baseUrl: path.resolve(process.cwd(), SOURCE_DIR),
                target: 'es2018',
                loose: false,
                parser: { syntax: 'typescript', tsx: true, decorators: false, dynamicImport: true },
              },
            },
          },
        },
        {
          test: /\.(png|jpe?g|gif|svg)$/,
          type: 'asset/resource',
          generator: {
            // Relative to Grafana's public path so that sub-path deployments (host/grafana/) work.
            publicPath: `public/plugins/${pluginJson.id}/img/`,
            outputPath: 'img/',
            filename: env.production ? '[hash][ext]' : '[name][ext]',
          },
        },
      ],
    },
    output: {
      clean: { keep: BACKEND_EXECUTABLES },
      filename: '[name].js',
      library: { type: 'amd' },
      path: path.resolve(process.cwd(), DIST_DIR),
      publicPath: `public/plugins/${pluginJson.id}/`,
      uniqueName: pluginJson.id,
    },
    plugins: [
      new CopyWebpackPlugin({
        patterns: [
          { from: 'plugin.json', to: '.', transform: fillPlaceholders },
          { from: '../README.md', to: '.', transform: fillPlaceholders },
          { from: '../CHANGELOG.md', to: '.' },
          { from: 'img/**/*', to: '.', noErrorOnMissing: true },
        ],
      }),
    ],
    resolve: {
      extensions: ['.js', '.jsx', '.ts', '.tsx'],
      modules: [path.resolve(process.cwd(), SOURCE_DIR), 'node_modules'],
      unsafeCache: true,
    },
    performance: { hints: false },
  };
};

export default config;
