// The Node runner of the cross-language scenarios in tests/scenarios/*.json.
//
// The format is documented in tests/scenarios/README.md; the Rust runner is
// core/tests/scenarios.rs and the Python one bindings-python/tests/test_scenarios.py. This
// one passes the same files unchanged, with the same assertions. Each scenario runs on a
// fresh emulator process (and, for "baseline": true, first on another one without faults).
// Concurrent calls are Promises on one Client, at most the step's `concurrency` in flight.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Client, SalesforceError, SfscaleError } from '../index.mjs';
import { Emulator, ROOT, USERNAME, PASSWORD, JWT_KEY, accounts } from './emulator.mjs';

const DIR = join(ROOT, 'tests', 'scenarios');
const SCENARIOS = readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();

/** Final stats, stats at each mark, and client-side results of one run. */
class Run {
  stats = {};
  marks = {};
  steps = {};

  record(step, error) {
    const results = (this.steps[step] ??= { ok: 0, failed: 0, failed_by_code: {} });
    if (error == null) {
      results.ok += 1;
    } else {
      results.failed += 1;
      results.failed_by_code[error.code] = (results.failed_by_code[error.code] ?? 0) + 1;
    }
  }

  calls() {
    const total = { ok: 0, failed: 0, failed_by_code: {} };
    for (const results of Object.values(this.steps)) {
      total.ok += results.ok;
      total.failed += results.failed;
      for (const [code, n] of Object.entries(results.failed_by_code)) {
        total.failed_by_code[code] = (total.failed_by_code[code] ?? 0) + n;
      }
    }
    return { ...total, ...this.steps };
  }
}

function clientOptions(emu, setup) {
  const options = emu.options();
  const grant = setup.grant ?? 'client_credentials';
  if (grant === 'password') Object.assign(options, { username: USERNAME, password: PASSWORD });
  else if (grant === 'jwt') Object.assign(options, { username: USERNAME, privateKeyFile: JWT_KEY });
  else if (grant !== 'client_credentials') throw new Error(`unknown grant ${grant}`);
  const simple = {
    reserve: 'reserve',
    pace_band: 'paceBand',
    long_running_cap: 'longRunningCap',
    retry_max_attempts: 'retryMaxAttempts',
    query_batch_size: 'queryBatchSize',
    concurrency: 'concurrency',
    retry_backoff_ms: 'retryBackoff',
  };
  for (const [key, option] of Object.entries(simple)) if (key in setup) options[option] = setup[key];
  return options;
}

function fill(template, i, j) {
  return Object.fromEntries(
    Object.entries(template).map(([k, v]) => [k, typeof v === 'string' ? v.replaceAll('{i}', i).replaceAll('{j}', j) : v]),
  );
}

/** A per-row failure report as the error the step records. */
function failureError(error, row, operation, object) {
  return new SalesforceError({ kind: 'Salesforce', code: error.code, message: error.message, fields: error.fields, row, operation, object });
}

/** Runs `count` tasks with at most `limit` in flight. */
async function pool(count, limit, task) {
  let next = 0;
  const worker = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
}

async function oneCall(client, step, i, workDir) {
  switch (step.call) {
    case 'query':
      for await (const _ of client.query(step.soql));
      return;
    case 'create':
      await client.create(step.object, fill(step.record, i, 0));
      return;
    case 'upsert': {
      const record = fill(step.record, i, 0);
      await client.upsert(step.object, step.external_id_field, record[step.external_id_field], record);
      return;
    }
    case 'upsert_many': {
      const rows = Array.from({ length: step.records ?? 200 }, (_, j) => fill(step.record, i, j));
      const results = await client.upsertMany(step.object, step.external_id_field, rows);
      const failed = results.find((r) => r.error);
      if (failed) throw failed.error;
      return;
    }
    case 'limits':
      await client.limits();
      return;
    case 'describe':
      await client.describe(step.object);
      return;
    case 'bulk_ingest':
      return bulkIngest(client, step, i, workDir);
    case 'queue':
      return queueWrites(client, step, i, workDir);
    default:
      throw new Error(`unknown call ${step.call}`);
  }
}

async function bulkIngest(client, step, i, workDir) {
  function* rows() {
    for (let j = 0; j < (step.records ?? 1000); j++) yield fill(step.record, i, j);
  }
  const result = await client
    .withWorkDir(workDir)
    .ingest(step.object, step.operation ?? 'insert', rows(), { externalId: step.external_id_field });
  if (result.rowsFailed) {
    const [first] = result.failures;
    throw failureError(first.error, first.row, 'bulk.ingest', step.object);
  }
}

/** Single-record enqueues (64 in flight) on a fresh journal, then flush and close. */
async function queueWrites(client, step, i, workDir) {
  const queue = await client.queue(join(workDir, `queue-${step.name}-${i}.sqlite`));
  await pool(step.records ?? 1000, 64, (j) =>
    queue.enqueue(step.object, step.operation ?? 'upsert', fill(step.record, i, j), { externalId: step.external_id_field }),
  );
  await queue.flush();
  const dead = await queue.deadLetters({ after: 0, limit: 1 });
  await queue.close();
  if (dead.length > 0) throw failureError(dead[0].error, null, 'queue', step.object);
}

async function runCalls(client, step, run, workDir) {
  let handle = client.withPriority(step.priority ?? 'normal');
  if (step.long_running) handle = handle.longRunning();
  await pool(step.count ?? 1, step.concurrency ?? 1, async (i) => {
    try {
      await oneCall(handle, step, i, workDir);
      run.record(step.name, null);
    } catch (error) {
      if (!(error instanceof SfscaleError)) throw error;
      run.record(step.name, error);
    }
  });
}

async function control(emu, step, run) {
  switch (step.control) {
    case 'expire_sessions':
      return emu.expireSessions();
    case 'faults':
      return emu.faults(step.body);
    case 'limits':
      return emu.limits(step.body);
    case 'mark':
      run.marks[step.name] = await emu.stats();
      return;
    default:
      throw new Error(`unknown control step ${step.control}`);
  }
}

async function runScenario(scenario, withFaults) {
  const emu = await Emulator.start();
  const workDir = await mkdtemp(join(tmpdir(), 'sfscale-node-scenario-'));
  const client = new Client(clientOptions(emu, scenario.client ?? {}));
  try {
    const setup = scenario.emulator ?? {};
    if (setup.limits) await emu.limits(setup.limits);
    for (const load of setup.load ?? []) await emu.load(load.object, accounts(load.prefix, load.count));
    if (withFaults && setup.faults) await emu.faults(setup.faults);
    const run = new Run();
    for (const step of scenario.steps) {
      if ('control' in step) await control(emu, step, run);
      else await runCalls(client, step, run, workDir);
    }
    run.stats = await emu.stats();
    return run;
  } finally {
    client.close();
    await emu.stop();
    await rm(workDir, { recursive: true, force: true });
  }
}

function lookup(run, path, stats) {
  let root;
  if (path.startsWith('calls.')) {
    root = run.calls();
    path = path.slice('calls.'.length);
  } else {
    root = stats ?? run.stats;
  }
  for (const key of path.split('.')) root = root !== null && typeof root === 'object' ? root[key] : undefined;
  return typeof root === 'number' ? root : 0;
}

function check(assertion, run, baseline) {
  const tokens = assertion.split(' ');
  let lhs;
  let rest;
  if (tokens.length >= 3 && tokens[1] === 'since') {
    const [path, , mark] = tokens;
    if (!(mark in run.marks)) return `no mark named ${mark}`;
    lhs = lookup(run, path) - lookup(run, path, run.marks[mark]);
    rest = tokens.slice(3);
  } else {
    lhs = lookup(run, tokens[0]);
    rest = tokens.slice(1);
  }
  const base = (p) => {
    if (!baseline) throw new Error('baseline.* needs "baseline": true');
    return lookup(baseline, p.replace(/^baseline\./, ''));
  };
  let op;
  let rhs;
  if (rest.length === 2) {
    [op] = rest;
    rhs = rest[1].startsWith('baseline.') ? base(rest[1]) : Number(rest[1]);
  } else if (rest.length === 4 && rest[2] === '*') {
    op = rest[0];
    rhs = Number(rest[1]) * base(rest[3]);
  } else {
    return `cannot parse '${assertion}'`;
  }
  const holds = { '==': lhs === rhs, '!=': lhs !== rhs, '<=': lhs <= rhs, '>=': lhs >= rhs, '<': lhs < rhs, '>': lhs > rhs }[op];
  if (holds === undefined) return `unknown operator ${op}`;
  return holds ? null : `'${assertion}' failed: left side is ${lhs}, right side ${rhs}`;
}

test('the scenario files are there', () => {
  assert.ok(SCENARIOS.length >= 4, SCENARIOS.join(', '));
});

test('assertions parse and compare', () => {
  const run = new Run();
  const base = new Run();
  run.stats = { token_grants: { total: 3 }, api_requests: 110 };
  run.marks = { m: { token_grants: { total: 2 } } };
  run.record('storm', null);
  base.stats = { api_requests: 100 };
  for (const good of ['token_grants.total since m == 1', 'calls.storm.ok == 1', 'api_requests <= 1.2 * baseline.api_requests']) {
    assert.equal(check(good, run, base), null, good);
  }
  for (const bad of ['token_grants.total == 1', 'api_requests <= 1.05 * baseline.api_requests', 'calls.ok ~ 1', 'x since no == 1']) {
    assert.notEqual(check(bad, run, base), null, bad);
  }
});

for (const file of SCENARIOS) {
  test(`scenario ${file.replace(/\.json$/, '')} holds`, async () => {
    const scenario = JSON.parse(readFileSync(join(DIR, file), 'utf8'));
    const baseline = scenario.baseline ? await runScenario(scenario, false) : null;
    const run = await runScenario(scenario, true);
    const failures = scenario.assert.map((a) => check(a, run, baseline)).filter(Boolean);
    assert.deepEqual(failures, [], `${scenario.name}\nstats: ${JSON.stringify(run.stats)}\ncalls: ${JSON.stringify(run.calls())}`);
  });
}
