/*
 * jest `transformIgnorePatterns` helper: node_modules are not transformed, except the packages listed
 * here, which @grafana/* pull in and which ship only as ES modules.
 */
const nodeModulesToTransform = (moduleNames) => `node_modules\\/(?!.*(${moduleNames.join('|')})\\/.*)`;

const grafanaESModules = [
  '@grafana/schema',
  'd3',
  'd3-color',
  'd3-force',
  'd3-interpolate',
  'd3-scale-chromatic',
  'ol',
  'react-colorful',
  'rxjs',
  'uuid',
  'marked',
  'react-calendar',
  '@wojtekmaj/date-utils',
  'get-user-locale',
  'memoize',
  'mimic-function',
];

module.exports = { nodeModulesToTransform, grafanaESModules };
