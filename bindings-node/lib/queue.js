'use strict';
// `await client.queue(path, options)`: the core's durable write-behind queue, the natural
// tool for webhook-style backends: `enqueue` resolves once the write is journaled (a ticket
// number), the core coalesces writes into Collections calls or Bulk jobs, `flush` waits for
// every accepted write to settle, `close` flushes and stops. Settled writes are emitted as
// 'outcome' events.

const { EventEmitter } = require('node:events');
const native = require('./native');
const { settle, sync, listener } = require('./run');
const { record, camelize } = require('./values');

class Queue extends EventEmitter {
  #native;

  constructor(nativeQueue) {
    super();
    this.#native = nativeQueue;
    let listening = false;
    this.on('newListener', (event) => {
      if (event !== 'outcome' || listening) return;
      listening = true;
      sync(() => this.#native.onOutcome(listener((o) => this.emit('outcome', camelize(o)))));
    });
  }

  /** Accepts one write (`insert`, `update`, `upsert`, `delete`); resolves with its ticket. */
  enqueue(object, operation, fields, options = {}) {
    let converted;
    try {
      converted = record(fields, null);
    } catch (error) {
      return Promise.reject(error);
    }
    return settle(() => this.#native.enqueue(object, operation, converted, options.externalId, options.key));
  }

  /** Resolves once every write accepted so far has settled. */
  flush() {
    return settle(() => this.#native.flush());
  }

  /** Flushes and stops the queue. */
  close() {
    return settle(() => this.#native.close());
  }

  /** Up to `limit` dead letters with tickets after `after`. */
  async deadLetters(options = {}) {
    const { after = 0, limit = 100 } = options;
    return camelize(await settle(() => this.#native.deadLetters(after, limit)));
  }

  /** Sends a dead letter again (with `fixed` fields replacing its record); resolves with the new ticket. */
  replay(ticket, fixed) {
    const converted = fixed == null ? null : record(fixed, null);
    return settle(() => this.#native.replay(ticket, converted));
  }

  /** Drops a dead letter; resolves whether it existed. */
  discard(ticket) {
    return settle(() => this.#native.discard(ticket));
  }

  /** The queue's counters. */
  stats() {
    return camelize(JSON.parse(sync(() => this.#native.stats())));
  }
}

/** Opens the journal at `path` (options: sync, batchSize, linger (ms), bulkThreshold, ...). */
async function openQueue(nativeClient, path, options = {}) {
  const q = new native.NativeQueue();
  await settle(() => q.open(nativeClient, String(path), options));
  return new Queue(q);
}

module.exports = { Queue, openQueue };
