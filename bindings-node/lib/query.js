'use strict';
// A query's records as an async iterable: `for await (const record of client.query(soql))`.
//
// The native stream hands over a batch of records at a time (everything already fetched,
// up to 2000); the iterator serves them one by one and asks for the next batch only when
// the buffer is empty, so pages are fetched as fast as the loop consumes them and no
// faster. Leaving the loop early (`break`, `return`, a throw) or aborting the signal closes
// the native stream, which stops fetching.

const { settle } = require('./run');

/** The records of a query. Iterate with `for await`; `toArray()` collects them. */
class Query {
  #native;
  #signal;

  constructor(nativeQuery, signal) {
    this.#native = nativeQuery;
    this.#signal = signal;
  }

  async *[Symbol.asyncIterator]() {
    const stream = this.#native;
    try {
      for (;;) {
        const batch = await settle((cancel) => stream.next(cancel), this.#signal);
        if (batch.length === 0) return;
        yield* batch;
      }
    } finally {
      stream.close();
    }
  }

  /** Every record, in order (for results that fit in memory). */
  async toArray() {
    const out = [];
    for await (const record of this) out.push(record);
    return out;
  }
}

module.exports = { Query };
