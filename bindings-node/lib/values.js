'use strict';
// Values across the boundary.
//
// JS → Salesforce (records you write):
//   null → null (clears the field on update/upsert); string, boolean → as is;
//   finite number → JSON number (NaN and ±Infinity are refused: RangeError);
//   BigInt → an exact JSON integer (up to 64 bits; larger is a RangeError);
//   Date → `2024-05-01T12:30:00.000Z` (UTC; an invalid Date is a RangeError);
//   plain object / array → nested (relationship references like {Account: {Ext__c: 'A1'}});
//   undefined fields are left out (as JSON.stringify does);
//   anything else (functions, symbols, Map, Buffer, class instances) → TypeError.
// Every error names the field and, for many-record calls, the row.
//
// Salesforce → JS: plain JSON values; date and datetime fields stay the strings Salesforce
// sent, because a record carries no field types. Result documents from the core (not
// records) get camelCase keys, the Node convention.

const I64_MIN = -(2n ** 63n);
const U64_MAX = 2n ** 64n - 1n;

function at(field, row) {
  return row == null ? `field '${field}'` : `field '${field}' of row ${row}`;
}

function isPlain(value) {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** One JS value as its Salesforce JSON value (see the table above). */
function toSalesforce(value, field, row) {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw new RangeError(`${at(field, row)}: ${value} is not a finite number`);
      return value;
    case 'bigint':
      if (value < I64_MIN || value > U64_MAX) {
        throw new RangeError(`${at(field, row)}: BigInt ${value} is too large for Salesforce`);
      }
      return value;
    case 'object':
      return objectValue(value, field, row);
    default:
      throw new TypeError(
        `${at(field, row)}: unsupported type ${typeof value} (use string, number, boolean, null, Date, BigInt, object or array)`,
      );
  }
}

function objectValue(value, field, row) {
  if (value === null) return null;
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new RangeError(`${at(field, row)}: invalid Date`);
    return value.toISOString();
  }
  if (Array.isArray(value)) return value.map((item) => toSalesforce(item, field, row));
  if (isPlain(value)) return fields(value, row, field);
  throw new TypeError(`${at(field, row)}: unsupported type ${value.constructor?.name ?? 'object'}`);
}

function fields(source, row, parent) {
  const out = {};
  for (const key of Object.keys(source)) {
    const value = source[key];
    if (value !== undefined) out[key] = toSalesforce(value, parent ? `${parent}.${key}` : key, row);
  }
  return out;
}

/** A record (a plain object of field → value) for Salesforce; `row` names it in errors. */
function record(value, row) {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || !isPlain(value)) {
    const where = row == null ? '' : ` (row ${row})`;
    throw new TypeError(`a record must be a plain object of field name to value${where}, got ${describe(value)}`);
  }
  return fields(value, row, null);
}

function describe(value) {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return value.constructor?.name ?? 'object';
  return typeof value;
}

/** Records from an array. */
function records(values) {
  if (!Array.isArray(values)) throw new TypeError('records must be an array of plain objects');
  return values.map((value, row) => record(value, row));
}

const SNAKE = /^[a-z][a-z0-9]*(?:_[a-z0-9]+)+$/;

/** A core result document with snake_case keys turned camelCase (values untouched). */
function camelize(value) {
  if (Array.isArray(value)) return value.map(camelize);
  if (value === null || typeof value !== 'object') return value;
  const out = {};
  for (const [key, inner] of Object.entries(value)) {
    out[SNAKE.test(key) ? key.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase()) : key] = camelize(inner);
  }
  return out;
}

module.exports = { toSalesforce, record, records, camelize };
