'use strict';
// How native calls become Promises users await: errors translated to SfscaleError classes,
// JSON results parsed, and an optional AbortSignal honoured.
//
// Promises cannot be cancelled, so a signal is turned into a native `Cancel`: on abort the
// Promise rejects at once with `signal.reason` (Node's convention) and the Rust future is
// dropped, which closes its request.

const native = require('./native');
const { translate } = require('./errors');

/** Calls `start(cancel)` (a native method returning a Promise of JSON text). */
function settle(start, signal, finish = JSON.parse) {
  if (signal?.aborted) return Promise.reject(signal.reason);
  const cancel = signal ? new native.Cancel() : undefined;
  let pending;
  try {
    pending = start(cancel).then(finish, (error) => {
      throw translate(error);
    });
  } catch (error) {
    return Promise.reject(translate(error));
  }
  if (!signal) return pending;
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      cancel.cancel();
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    const done = () => signal.removeEventListener('abort', onAbort);
    pending.then(
      (value) => {
        done();
        resolve(value);
      },
      (error) => {
        done();
        reject(error);
      },
    );
  });
}

/** Runs a synchronous native call, translating its error. */
function sync(call) {
  try {
    return call();
  } catch (error) {
    throw translate(error);
  }
}

/**
 * A JS listener for a native callback: parses the JSON text and hands it on. A listener that
 * throws gets the normal uncaught-exception treatment (as with EventEmitter), on a later
 * tick, never inside the native call.
 */
function listener(deliver) {
  return (text) => {
    if (!text) return; // the native side's delivery check carries no value
    try {
      deliver(JSON.parse(text));
    } catch (error) {
      queueMicrotask(() => {
        throw error;
      });
    }
  };
}

module.exports = { settle, sync, listener };
