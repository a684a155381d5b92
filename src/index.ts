// steer: the library. The CLI (src/cli), server and UI are thin shells over these exports.
export * from './util/errors.js';
export * from './util/config.js';
export * from './util/metrics.js';
export * from './util/progress.js';
export * from './io/atomic.js';
