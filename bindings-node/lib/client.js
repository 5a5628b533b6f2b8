'use strict';
// `Client`: the Node face of one core client. Every method converts its arguments, calls
// the native client and returns a Promise (or an async iterable for queries); nothing here
// decides anything the core decides (limits, scheduling, retries, grants, bulk planning).
//
// Events: the client is an EventEmitter. Each core event is emitted twice: as 'event' with
// the whole event, and under its kind in camelCase ('throttled', 'tokenRefreshed',
// 'limitThreshold', 'reserveReached', ...). Events are delivered on the event loop, never
// inside the core's work; a listener never keeps the process alive.

const { EventEmitter } = require('node:events');
const native = require('./native');
const { settle, sync, listener } = require('./run');
const { fromPayload } = require('./errors');
const { record, records, toSalesforce, camelize } = require('./values');
const { Query } = require('./query');
const { Bulk } = require('./bulk');
const { openQueue } = require('./queue');

const NATIVE = Symbol('sfscale.native');

function subrequest(s, row) {
  const body = s.body == null ? null : toSalesforce(s.body, 'body', row);
  return { method: s.method, url: s.url, referenceId: s.referenceId, body };
}

function identifier(value, field) {
  const converted = toSalesforce(value, field, null);
  return typeof converted === 'string' ? converted : String(converted);
}

/** Per-record results with each failure as an SfscaleError (`error`, row set). */
function recordResults(results) {
  return results.map((r) => ({ ...camelize({ ...r, error: null }), error: r.error ? fromPayload(r.error) : null }));
}

class Client extends EventEmitter {
  #native;

  /**
   * A client from options named after the SFSCALE_* variables in camelCase (instanceUrl,
   * clientId, clientSecret, username, password, privateKeyFile, refreshToken, reserve, ...)
   * plus knobs (paceBand, retryMaxAttempts, retryBackoff [baseMs, capMs], concurrency
   * [initial, min, max], queryBatchSize, requestTimeout, connectTimeout, reserveWait (ms),
   * developerEdition).
   */
  constructor(options = {}) {
    super();
    this.#native = options[NATIVE] ?? sync(() => new native.NativeClient(plain(options), false));
    let listening = false;
    this.on('newListener', (event) => {
      if (event === 'newListener' || event === 'removeListener' || listening) return;
      listening = true;
      sync(() => this.#native.onEvent(listener((e) => this.#emitEvent(camelize(e)))));
    });
  }

  /** A client from the SFSCALE_* environment variables; `options` take precedence. */
  static fromEnv(options = {}) {
    return new Client({ [NATIVE]: sync(() => new native.NativeClient(plain(options), true)) });
  }

  #emitEvent(event) {
    this.emit('event', event);
    this.emit(event.kind.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase()), event);
  }

  /** The same client for a class of work: 'critical', 'normal' or 'background'. */
  withPriority(priority) {
    return new Client({ [NATIVE]: sync(() => this.#native.withPriority(priority)) });
  }

  /** The same client on the scheduler's long-running lane. */
  longRunning() {
    return new Client({ [NATIVE]: sync(() => this.#native.longRunning()) });
  }

  /** The records of a SOQL query, fetched page by page as you iterate (`for await`). */
  query(soql, options = {}) {
    const { includeDeleted = false, signal } = options;
    return new Query(sync(() => this.#native.query(String(soql), includeDeleted)), signal);
  }

  /** A query's records, served from the core's cache for `ttlMs`. */
  queryCached(soql, ttlMs, options = {}) {
    return settle((c) => this.#native.queryCached(String(soql), ttlMs, c), options.signal);
  }

  /** Creates a record; resolves with its id. */
  create(object, fields, options = {}) {
    return this.#call((c) => this.#native.create(object, record(fields, null), c), options);
  }

  /** Reads a record (all fields, or `fields`). */
  get(object, id, fields = [], options = {}) {
    return this.#call((c) => this.#native.get(object, id, fields, c), options);
  }

  update(object, id, fields, options = {}) {
    return this.#call((c) => this.#native.update(object, id, record(fields, null), c), options);
  }

  delete(object, id, options = {}) {
    return this.#call((c) => this.#native.delete(object, id, c), options);
  }

  /** Inserts or updates by external id; resolves with `{ id, created }`. */
  upsert(object, externalIdField, value, fields, options = {}) {
    return this.#call(
      (c) => this.#native.upsert(object, externalIdField, identifier(value, externalIdField), record(fields, null), c),
      options,
    );
  }

  /** sObject Collections (200 per call): resolve with one result per record. */
  createMany(object, rows, options = {}) {
    return this.#many((c) => this.#native.createMany(object, records(rows), !!options.allOrNone, c), options);
  }

  updateMany(object, rows, options = {}) {
    return this.#many((c) => this.#native.updateMany(object, records(rows), !!options.allOrNone, c), options);
  }

  upsertMany(object, externalIdField, rows, options = {}) {
    return this.#many(
      (c) => this.#native.upsertMany(object, externalIdField, records(rows), !!options.allOrNone, c),
      options,
    );
  }

  deleteMany(ids, options = {}) {
    return this.#many((c) => this.#native.deleteMany(ids, !!options.allOrNone, c), options);
  }

  /** Composite API: `[{ method, url, referenceId, body? }]`; resolves with each answer. */
  composite(subrequests, options = {}) {
    return this.#call(
      (c) => this.#native.composite(subrequests.map(subrequest), !!options.allOrNone, c),
      options,
    ).then(camelize);
  }

  /** Describe of one object, or the global describe without one. */
  describe(object, options = {}) {
    return this.#call((c) => this.#native.describe(object ?? null, c), options);
  }

  /** The org's limits: `{ DailyApiRequests: { max, remaining }, ... }`. */
  limits(options = {}) {
    return this.#call((c) => this.#native.limits(c), options);
  }

  /** Bulk API 2.0 (`client.bulk.ingest(...)`); `withWorkDir(dir)` for another work directory. */
  get bulk() {
    return this.withWorkDir(null);
  }

  /** Bulk API 2.0 with its journal and outcome files under `dir`. */
  withWorkDir(dir) {
    return new Bulk(sync(() => this.#native.bulk(dir == null ? null : String(dir))));
  }

  /** Writes records the cheapest way (single calls, Collections or Bulk): `bulk.write`. */
  write(object, operation, rows, options = {}) {
    return this.bulk.write(object, operation, rows, options);
  }

  /** Opens a durable write-behind queue journaled at `path`. */
  queue(path, options = {}) {
    return openQueue(this.#native, path, options);
  }

  /** The core's counters and gauges (plain object). */
  metrics() {
    return camelize(JSON.parse(sync(() => this.#native.metrics())));
  }

  /** The same metrics in Prometheus text format. */
  prometheus() {
    return sync(() => this.#native.prometheus());
  }

  /** Access tokens obtained so far. */
  get tokenGrants() {
    return sync(() => this.#native.tokenGrants());
  }

  /** Closes the client: later calls fail; calls in flight finish. */
  close() {
    this.#native.close();
  }

  #call(start, options) {
    return settle(start, options.signal);
  }

  #many(start, options) {
    return settle(start, options.signal).then(recordResults);
  }
}

function plain(options) {
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
}

module.exports = { Client };
