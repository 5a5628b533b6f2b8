// Public types of the `sfscale` package (the JS layer in lib/; the native module's generated
// declarations are native.d.ts, private). Checked by `npm run typecheck` over
// test/types/usage.ts with `strict`.

import { EventEmitter } from 'node:events';

/** A value written to a Salesforce field. Dates become UTC datetimes; BigInts exact integers. */
export type FieldValue = string | number | boolean | null | undefined | bigint | Date | FieldValue[] | { [field: string]: FieldValue };
/** A record to write: field name → value. */
export type RecordInput = { [field: string]: FieldValue };
/** A record read back: plain JSON values (dates stay Salesforce's strings). */
export type SalesforceRecord = { [field: string]: any };

/** Options of every call that talks to Salesforce. */
export interface CallOptions {
  /** Cancels the call: the Promise rejects with `signal.reason` and the request is dropped. */
  signal?: AbortSignal;
}

/** Client options, named after the SFSCALE_* variables in camelCase, plus knobs. Durations in ms. */
export interface ClientOptions {
  instanceUrl?: string;
  loginUrl?: string;
  clientId?: string;
  clientSecret?: string;
  username?: string;
  password?: string;
  privateKeyFile?: string;
  refreshToken?: string;
  apiVersion?: string;
  /** Fraction of the daily allocation kept for other integrations. */
  reserve?: number;
  sessionLifetimeSecs?: number;
  caFile?: string;
  maxRps?: number;
  longRunningCap?: number;
  paceBand?: number;
  retryMaxAttempts?: number;
  /** `[baseMs, capMs]`. */
  retryBackoff?: [number, number];
  /** `[initial, min, max]` of the adaptive concurrency limit. */
  concurrency?: [number, number, number];
  queryBatchSize?: number;
  requestTimeout?: number;
  connectTimeout?: number;
  reserveWait?: number;
  developerEdition?: boolean;
}

export type Priority = 'critical' | 'normal' | 'background';

/** A query's records: iterate with `for await`; pages are fetched as the loop consumes them. */
export declare class Query implements AsyncIterable<SalesforceRecord> {
  private constructor();
  [Symbol.asyncIterator](): AsyncIterator<SalesforceRecord>;
  /** Every record, in order. */
  toArray(): Promise<SalesforceRecord[]>;
}

/** One record's outcome in a Collections call. */
export interface RecordResult {
  index: number;
  id: string | null;
  success: boolean;
  created: boolean | null;
  errors: Array<{ statusCode: string; message: string; fields: string[] }>;
  /** The failure as an error (with `row`), or null. */
  error: SfscaleError | null;
}

export interface UpsertResult {
  id: string | null;
  created: boolean;
}

export interface Subrequest {
  method: string;
  url: string;
  referenceId: string;
  body?: FieldValue;
}

export interface SubResponse {
  referenceId: string;
  status: number;
  body: any;
  headers: Record<string, any>;
}

export type OrgLimits = Record<string, { max: number; remaining: number }>;

/** A core event (`kind` is snake_case, e.g. `token_refreshed`; emitted under its camelCase name). */
export interface SfscaleEvent {
  kind: string;
  [field: string]: any;
}

export interface ClientEvents {
  event: [SfscaleEvent];
  limitThreshold: [SfscaleEvent];
  reserveReached: [SfscaleEvent];
  throttled: [SfscaleEvent];
  retryBudgetExhausted: [SfscaleEvent];
  tokenRefreshed: [SfscaleEvent];
  lockContention: [SfscaleEvent];
  backpressure: [SfscaleEvent];
}

export type Operation = 'insert' | 'update' | 'upsert' | 'delete' | 'hardDelete';

export interface Progress {
  rowsRead: number;
  rowsUploaded: number;
  rowsProcessed: number;
  rowsFailed: number;
}

export interface IngestOptions extends CallOptions {
  externalId?: string;
  /** A parent column to group rows by (fewer lock conflicts), or `false` for none. */
  groupBy?: string | false;
  runId?: string;
  maxParallelJobs?: number;
  maxRowsPerJob?: number;
  maxUploadBytes?: number;
  lockRetryRounds?: number;
  /** `[firstMs, maxMs]`. */
  pollInterval?: [number, number];
  /** Stop waiting after this many ms (`complete: false`; resume later). */
  deadline?: number;
  onProgress?: (progress: Progress) => void;
}

export interface BulkFailure {
  row: number;
  error: { code: string; message: string; fields: string[] };
  [field: string]: any;
}

export interface BulkResult {
  runId: string;
  complete: boolean;
  object: string;
  operation: string;
  rowsRead: number;
  rowsSucceeded: number;
  rowsFailed: number;
  rowsPending: number;
  jobsUsed: number;
  apiCalls: number;
  failures: BulkFailure[];
  successFile: string;
  errorFile: string;
  [field: string]: any;
}

export interface WriteReport {
  method: 'single' | 'collections' | 'bulk';
  reason: string;
  succeeded: number;
  failed: number;
  [field: string]: any;
}

export type IngestInput =
  | string
  | URL
  | Uint8Array
  | Iterable<RecordInput>
  | AsyncIterable<RecordInput>;

export declare class Bulk {
  private constructor();
  readonly workDir: string;
  ingest(object: string, operation: Operation, records: IngestInput, options?: IngestOptions): Promise<BulkResult>;
  resume(runId: string, options?: CallOptions & { deadline?: number; onProgress?: (progress: Progress) => void }): Promise<BulkResult>;
  write(object: string, operation: Operation, records: RecordInput[], options?: CallOptions & { externalId?: string }): Promise<WriteReport>;
  query(soql: string, options: CallOptions & { to: string; includeDeleted?: boolean }): Promise<{ rows: number; [field: string]: any }>;
  query(soql: string, options?: CallOptions & { includeDeleted?: boolean }): Query;
}

export interface QueueOptions {
  sync?: 'full' | 'normal';
  batchSize?: number;
  /** ms a batch waits for more writes. */
  linger?: number;
  collapseSameKey?: boolean;
  /** Rows from which a batch goes to Bulk API 2.0; `null` never. */
  bulkThreshold?: number | null;
  bulkMaxRows?: number;
  bulkDir?: string;
  maxPending?: number;
  whenFull?: 'wait' | 'fail';
  workers?: number;
  retryBackoff?: [number, number];
  priority?: Priority;
}

export interface QueueOutcome {
  ticket: number;
  object: string;
  operation: string;
  key: string | null;
  outcome: { kind: string; [field: string]: any };
}

export interface DeadLetter {
  ticket: number;
  object: string;
  error: { code: string; message: string; fields: string[] };
  [field: string]: any;
}

export declare class Queue extends EventEmitter<{ outcome: [QueueOutcome] }> {
  private constructor();
  enqueue(
    object: string,
    operation: 'insert' | 'update' | 'upsert' | 'delete',
    record: RecordInput,
    options?: { externalId?: string; key?: string },
  ): Promise<number>;
  flush(): Promise<null>;
  close(): Promise<null>;
  deadLetters(options?: { after?: number; limit?: number }): Promise<DeadLetter[]>;
  replay(ticket: number, fixed?: RecordInput | null): Promise<number>;
  discard(ticket: number): Promise<boolean>;
  stats(): { depth: number; deadLetters: number; [field: string]: number };
}

export declare class Client extends EventEmitter<ClientEvents> {
  constructor(options?: ClientOptions);
  static fromEnv(options?: ClientOptions): Client;
  withPriority(priority: Priority): Client;
  longRunning(): Client;
  query(soql: string, options?: CallOptions & { includeDeleted?: boolean }): Query;
  queryCached(soql: string, ttlMs: number, options?: CallOptions): Promise<SalesforceRecord[]>;
  create(object: string, record: RecordInput, options?: CallOptions): Promise<string>;
  get(object: string, id: string, fields?: string[], options?: CallOptions): Promise<SalesforceRecord>;
  update(object: string, id: string, fields: RecordInput, options?: CallOptions): Promise<null>;
  delete(object: string, id: string, options?: CallOptions): Promise<null>;
  upsert(object: string, externalIdField: string, value: string | number | bigint, record: RecordInput, options?: CallOptions): Promise<UpsertResult>;
  createMany(object: string, records: RecordInput[], options?: CallOptions & { allOrNone?: boolean }): Promise<RecordResult[]>;
  updateMany(object: string, records: RecordInput[], options?: CallOptions & { allOrNone?: boolean }): Promise<RecordResult[]>;
  upsertMany(object: string, externalIdField: string, records: RecordInput[], options?: CallOptions & { allOrNone?: boolean }): Promise<RecordResult[]>;
  deleteMany(ids: string[], options?: CallOptions & { allOrNone?: boolean }): Promise<RecordResult[]>;
  composite(subrequests: Subrequest[], options?: CallOptions & { allOrNone?: boolean }): Promise<SubResponse[]>;
  describe(object?: string, options?: CallOptions): Promise<any>;
  limits(options?: CallOptions): Promise<OrgLimits>;
  readonly bulk: Bulk;
  withWorkDir(dir: string): Bulk;
  write(object: string, operation: Operation, records: RecordInput[], options?: CallOptions & { externalId?: string }): Promise<WriteReport>;
  queue(path: string, options?: QueueOptions): Promise<Queue>;
  metrics(): Record<string, any>;
  prometheus(): string;
  readonly tokenGrants: number;
  close(): void;
}

/** A SOQL SELECT being built; bound values are always escaped. */
export declare class Soql {
  private constructor();
  whereEq(field: string, value: unknown): Soql;
  whereCmp(field: string, operator: string, value: unknown): Soql;
  whereIn(field: string, values: unknown[]): Soql;
  whereNotIn(field: string, values: unknown[]): Soql;
  whereNull(field: string): Soql;
  whereAny(conditions: Array<[string, string, unknown]>): Soql;
  orderBy(field: string, descending?: boolean | null): Soql;
  limit(n: number): Soql;
  offset(n: number): Soql;
  build(): string;
  toString(): string;
}

/** `SELECT fields FROM object`; with no fields, `SELECT COUNT() FROM object`. */
export declare function soql(object: string, fields?: string[] | null): Soql;

/** One core log record. */
export interface LogRecord {
  level: 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  /** The core module, e.g. `sfscale::observe::span`. */
  target: string;
  /** The message and its fields (`key=value`). */
  message: string;
}

/** Sends the core's log records at `level` and above (default 'info') to `listener`; `null` stops. */
export declare function setLogListener(
  listener: ((record: LogRecord) => void) | null,
  options?: { level?: 'trace' | 'debug' | 'info' | 'warn' | 'error' },
): void;

export interface SfscaleErrorFields {
  kind: string;
  code: string;
  message: string;
  status?: number | null;
  fields?: string[];
  row?: number | null;
  retryable?: boolean;
  operation?: string | null;
  object?: string | null;
}

/** Base class of every error sfscale raises for a failed call. */
export declare class SfscaleError extends Error {
  constructor(fields: SfscaleErrorFields);
  readonly kind: string;
  readonly code: string;
  readonly status: number | null;
  readonly fields: string[];
  readonly row: number | null;
  readonly retryable: boolean;
  readonly operation: string | null;
  readonly object: string | null;
}
export declare class AuthError extends SfscaleError {}
export declare class LimitError extends SfscaleError {}
export declare class LockError extends SfscaleError {}
export declare class InvalidInputError extends SfscaleError {}
export declare class NotFoundError extends SfscaleError {}
export declare class ServerError extends SfscaleError {}
export declare class NetworkError extends SfscaleError {}
export declare class TimeoutError extends SfscaleError {}
export declare class BackpressureError extends SfscaleError {}
export declare class ConfigError extends SfscaleError {}
export declare class SalesforceError extends SfscaleError {}
