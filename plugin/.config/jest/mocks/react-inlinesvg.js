// Renders an empty <svg> named after the icon instead of fetching it (jsdom has no network).
const React = require('react');

// eslint-disable-next-line no-unused-vars
function InlineSVG({ src, innerRef, cacheRequests, preProcessor, loader, onLoad, onError, ...rest }) {
  const name = String(src || '').split('/').pop();
  return React.createElement('svg', { 'data-testid': `svg-${name}`, ref: innerRef, ...rest });
}

module.exports = InlineSVG;
module.exports.default = InlineSVG;
// @grafana/ui 10.x pre-fills the icon cache through the component's static cacheStore.
InlineSVG.cacheStore = {};
module.exports.cacheStore = InlineSVG.cacheStore;
