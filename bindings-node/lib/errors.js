'use strict';
// The core's errors as JS classes: `SfscaleError` and one subclass per core error kind.
//
// The native module rejects with a message that carries the core error's fields as JSON
// after a marker (napi cannot attach custom fields to async rejections); `translate` turns
// such an error into the class named after its kind. The table below is checked against
// the core's own list of kinds by test/errors.test.mjs, so a new kind cannot go unmapped.

const PREFIX = '\u0001sfscale:';

/** Base class of every error sfscale raises for a failed call. */
class SfscaleError extends Error {
  constructor(fields) {
    super(fields.message, fields.cause ? { cause: fields.cause } : undefined);
    this.name = new.target.name;
    /** Core error family (`"Limit"`, `"Auth"`, ...). */
    this.kind = fields.kind;
    /** Salesforce's or sfscale's code, e.g. `REQUEST_LIMIT_EXCEEDED`. */
    this.code = fields.code;
    /** HTTP status, when there was an answer. */
    this.status = fields.status ?? null;
    /** Fields Salesforce named. */
    this.fields = fields.fields ?? [];
    /** Input row (0-based) for many-record calls. */
    this.row = fields.row ?? null;
    /** Whether the core considered the failure transient. */
    this.retryable = Boolean(fields.retryable);
    /** The failing operation (`query`, `create`, `bulk.ingest`, ...). */
    this.operation = fields.operation ?? null;
    /** The sObject, when the call had one. */
    this.object = fields.object ?? null;
  }
}

const KINDS = {
  Auth: class AuthError extends SfscaleError {},
  Limit: class LimitError extends SfscaleError {},
  Lock: class LockError extends SfscaleError {},
  InvalidInput: class InvalidInputError extends SfscaleError {},
  NotFound: class NotFoundError extends SfscaleError {},
  Server: class ServerError extends SfscaleError {},
  Network: class NetworkError extends SfscaleError {},
  Timeout: class TimeoutError extends SfscaleError {},
  Backpressure: class BackpressureError extends SfscaleError {},
  Config: class ConfigError extends SfscaleError {},
  Salesforce: class SalesforceError extends SfscaleError {},
};

/** The class for a core error kind name (SfscaleError for a kind this version does not know). */
function classFor(kind) {
  return Object.hasOwn(KINDS, kind) ? KINDS[kind] : SfscaleError;
}

/** An error from the core's payload fields. */
function fromPayload(fields) {
  const Class = classFor(fields.kind);
  return new Class(fields);
}

/** A native module error as an SfscaleError when it carries a core error; else unchanged. */
function translate(error) {
  const message = error?.message;
  if (typeof message === 'string' && message.startsWith(PREFIX)) {
    return fromPayload(JSON.parse(message.slice(PREFIX.length)));
  }
  return error;
}

module.exports = { SfscaleError, KINDS, classFor, fromPayload, translate };
