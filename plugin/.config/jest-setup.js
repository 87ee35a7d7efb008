/*
 * jsdom lacks some browser APIs that @grafana/ui touches on import or render.
 */
import '@testing-library/jest-dom';
import { TextDecoder, TextEncoder } from 'util';

Object.assign(global, { TextDecoder, TextEncoder });

Object.defineProperty(global, 'matchMedia', {
  writable: true,
  value: (query) => ({
    matches: false,
    media: query,
    onchange: null,
    addListener: jest.fn(),
    removeListener: jest.fn(),
    addEventListener: jest.fn(),
    removeEventListener: jest.fn(),
    dispatchEvent: jest.fn(),
  }),
});

HTMLCanvasElement.prototype.getContext = () => null;

class NoopObserver {
  observe() {}
  unobserve() {}
  disconnect() {}
}
global.IntersectionObserver = NoopObserver;
global.ResizeObserver = NoopObserver;

// i18next (inside @grafana/i18n) prints a sponsorship notice on init: keep test output readable.
const consoleInfo = console.info;
console.info = (...args) => {
  if (typeof args[0] === 'string' && args[0].includes('i18next is made possible')) {
    return;
  }
  consoleInfo(...args);
};
