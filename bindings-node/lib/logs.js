'use strict';
// The core's log records (its `tracing` events of `sfscale*` targets) delivered to a JS
// function on the event loop: `setLogListener((record) => logger[record.level](...), { level })`.

const native = require('./native');
const { sync, listener } = require('./run');

/** Sends log records at `level` ('trace' ... 'error', default 'info') and above to `fn`; `null` stops. */
function setLogListener(fn, options = {}) {
  const level = options.level ?? 'info';
  sync(() => native.setLogListener(fn ? listener(fn) : null, level));
}

module.exports = { setLogListener };
