'use strict';
// `client.bulk`: Bulk API 2.0 ingest (from an array, an (async) iterable of records, a CSV
// file path or CSV bytes), resume, `write` (auto: single calls, Collections or Bulk, the core
// decides) and query (streamed, or into a CSV file with `{ to }`).
//
// Records from an iterable are pulled lazily, converted a batch at a time and sent to the
// native channel, which admits a batch only when the core has taken the previous ones: a
// generator of a million rows is never held in memory. When the caller's iterable throws,
// or a value cannot be converted, the run stops and that exception is re-thrown as is.

const native = require('./native');
const { settle, sync, listener } = require('./run');
const { record, records, camelize } = require('./values');
const { Query } = require('./query');

/** Rows converted and sent per batch. */
const PULL = 1000;

function source(input) {
  if (typeof input === 'string') return { source: native.IngestSource.csvFile(input) };
  if (input instanceof URL) return { source: native.IngestSource.csvFile(input.pathname) };
  if (input instanceof Uint8Array) return { source: native.IngestSource.csvBytes(Buffer.from(input)) };
  if (input != null && (Symbol.iterator in Object(input) || Symbol.asyncIterator in Object(input))) {
    return { source: native.IngestSource.rows(), rows: input };
  }
  throw new TypeError('records must be an array, an (async) iterable of plain objects, a CSV path or CSV bytes');
}

/** Feeds `rows` into the native source; remembers the caller's exception in `state`. */
async function pump(target, rows, state) {
  let sent = 0;
  let batch = [];
  const flush = async () => {
    const more = JSON.parse(await target.send(batch, sent));
    sent += batch.length;
    batch = [];
    return more;
  };
  try {
    // `for await` takes sync iterables too; each full batch awaits the native channel, which
    // is where the event loop turns and where backpressure holds the loop.
    for await (const item of rows) {
      batch.push(record(item, sent + batch.length));
      if (batch.length === PULL && !(await flush())) return;
    }
    if (batch.length > 0 && !(await flush())) return;
    target.end();
  } catch (error) {
    state.error = error;
    target.fail(String(error?.message ?? error), sent + batch.length);
  }
}

function progressListener(onProgress) {
  return onProgress ? listener((p) => onProgress(camelize(p))) : undefined;
}

class Bulk {
  #native;

  constructor(nativeBulk) {
    this.#native = nativeBulk;
  }

  /** The work directory (journal and outcome files). */
  get workDir() {
    return this.#native.workDir;
  }

  /**
   * Runs one Bulk API 2.0 ingest; resolves with the run's result (`rowsFailed`,
   * `failures`, `successFile`, ...). Options: externalId, groupBy, runId, maxParallelJobs,
   * maxRowsPerJob, maxUploadBytes, lockRetryRounds, pollInterval [firstMs, maxMs],
   * deadline (ms), onProgress, signal.
   */
  async ingest(object, operation, input, options = {}) {
    const { onProgress, signal, ...settings } = options;
    const { source: target, rows } = source(input);
    const state = {};
    const feeding = rows ? pump(target, rows, state) : Promise.resolve();
    const run = settle(
      (cancel) => this.#native.ingest(object, operation, settings, target, progressListener(onProgress), cancel),
      signal,
    );
    try {
      const result = await run;
      await feeding;
      return camelize(result);
    } catch (error) {
      await feeding;
      throw state.error ?? error;
    }
  }

  /** Finishes a run that stopped (deadline, crash): `resume(runId, { deadline, onProgress, signal })`. */
  async resume(runId, options = {}) {
    const { deadline, onProgress, signal } = options;
    const result = await settle(
      (cancel) => this.#native.resume(runId, deadline, progressListener(onProgress), cancel),
      signal,
    );
    return camelize(result);
  }

  /** Writes records the cheapest way; `{ externalId, signal }`. */
  async write(object, operation, rows, options = {}) {
    const converted = records(rows);
    const result = await settle(
      (cancel) => this.#native.write(object, operation, converted, options.externalId, cancel),
      options.signal,
    );
    return camelize(result);
  }

  /**
   * A Bulk query: with `{ to: path }` resolves with the file's summary once written;
   * without, returns an async iterable of records. `{ includeDeleted, signal }`.
   */
  query(soql, options = {}) {
    const { to, includeDeleted = false, signal } = options;
    if (to != null) {
      return settle(
        (cancel) => this.#native.queryToCsv(soql, String(to), includeDeleted, cancel),
        signal,
      ).then(camelize);
    }
    return new Query(sync(() => this.#native.query(soql, includeDeleted)), signal);
  }
}

module.exports = { Bulk };
