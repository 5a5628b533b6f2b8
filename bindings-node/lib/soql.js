'use strict';
// `soql(object, fields)`: the core's SOQL builder (bound values always escaped), with its
// errors as SfscaleError classes. Each method returns a new builder.

const native = require('./native');
const { sync } = require('./run');

class Soql {
  #native;

  constructor(nativeSoql) {
    this.#native = nativeSoql;
  }

  #then(call) {
    return new Soql(sync(() => call(this.#native)));
  }

  /** `AND field = value`. */
  whereEq(field, value) {
    return this.#then((s) => s.whereEq(field, value));
  }

  /** `AND field <op> value` (`=`, `!=`, `<`, `<=`, `>`, `>=`, `LIKE`). */
  whereCmp(field, operator, value) {
    return this.#then((s) => s.whereCmp(field, operator, value));
  }

  /** `AND field IN (values)`. */
  whereIn(field, values) {
    return this.#then((s) => s.whereIn(field, values));
  }

  /** `AND field NOT IN (values)`. */
  whereNotIn(field, values) {
    return this.#then((s) => s.whereNotIn(field, values));
  }

  /** `AND field = null`. */
  whereNull(field) {
    return this.#then((s) => s.whereNull(field));
  }

  /** `AND (a OR b ...)` from `[field, op, value]` triples. */
  whereAny(conditions) {
    return this.#then((s) => s.whereAny(conditions));
  }

  /** `ORDER BY field ASC|DESC` (repeatable). */
  orderBy(field, descending = false) {
    return this.#then((s) => s.orderBy(field, descending));
  }

  /** `LIMIT n`. */
  limit(n) {
    return this.#then((s) => s.limit(n));
  }

  /** `OFFSET n`. */
  offset(n) {
    return this.#then((s) => s.offset(n));
  }

  /** The query text; throws InvalidInputError naming the first bad identifier or value. */
  build() {
    return sync(() => this.#native.build());
  }

  toString() {
    return this.build();
  }
}

/** `SELECT fields FROM object`; with no fields, `SELECT COUNT() FROM object`. */
function soql(object, fields) {
  return new Soql(sync(() => native.soql(object, fields ?? null)));
}

module.exports = { Soql, soql };
