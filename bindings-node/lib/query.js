'use strict';
// A query's records as an async iterable: `for await (const record of client.query(soql))`.
//
// The native stream hands over a batch of records at a time (everything already fetched,
// up to 2000); the iterator serves them one by one and asks for the next batch only when
// the buffer is empty, so records are read as fast as the loop consumes them (the core
// fetches at most one page ahead). Leaving the loop early (`break`, `return`, a throw) or
// aborting the signal closes the native stream, which stops fetching.
//
// The iterator is written out rather than an async generator: a generator's `yield*` costs
// several Promise jobs per record, a third of the JS time of a 200,000-record loop.

const { settle } = require('./run');

const END = Object.freeze({ value: undefined, done: true });

/** The records of a query. Iterate with `for await`; `toArray()` collects them. */
class Query {
  #native;
  #signal;

  constructor(nativeQuery, signal) {
    this.#native = nativeQuery;
    this.#signal = signal;
  }

  [Symbol.asyncIterator]() {
    return new Records(this.#native, this.#signal);
  }

  /** Every record, in order (for results that fit in memory). */
  async toArray() {
    const out = [];
    for await (const record of this) out.push(record);
    return out;
  }
}

/** One pass over a native stream: a buffered batch, refilled when empty. */
class Records {
  #native;
  #signal;
  #batch = [];
  #at = 0;
  #done = false;
  #fetching; // the Promise of the batch being fetched, while one is

  constructor(nativeQuery, signal) {
    this.#native = nativeQuery;
    this.#signal = signal;
  }

  [Symbol.asyncIterator]() {
    return this;
  }

  next() {
    if (this.#fetching) {
      // A call made before the previous one settled waits for it (as a generator would).
      const again = () => this.next();
      return this.#fetching.then(again, again);
    }
    if (this.#at < this.#batch.length) {
      return Promise.resolve({ value: this.#batch[this.#at++], done: false });
    }
    if (this.#done) return Promise.resolve(END);
    this.#fetching = settle((cancel) => this.#native.next(cancel), this.#signal).then(
      (batch) => {
        this.#fetching = undefined;
        if (batch.length === 0 || this.#done) return this.#finish();
        this.#batch = batch;
        this.#at = 1;
        return { value: batch[0], done: false };
      },
      (error) => {
        this.#fetching = undefined;
        this.#finish();
        throw error;
      },
    );
    return this.#fetching;
  }

  /** Called by `for await` on `break`, `return` or a throw in the loop body. */
  return() {
    return Promise.resolve(this.#finish());
  }

  #finish() {
    if (!this.#done) {
      this.#done = true;
      this.#batch = [];
      this.#native.close();
    }
    return END;
  }
}

module.exports = { Query };
