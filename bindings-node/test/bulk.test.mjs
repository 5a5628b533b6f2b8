// client.bulk: ingest from arrays, (async) generators, CSV paths and bytes; failures by row;
// resume; write (auto); query streamed and to a file.

import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile, readFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Client } from '../index.mjs';
import { Emulator, FAST_POLL, accounts } from './emulator.mjs';

let emu;
let client;
let dir;
let bulk;
before(async () => {
  emu = await Emulator.start();
});
after(async () => {
  client?.close();
  await emu.stop();
});
beforeEach(async () => {
  await emu.reset();
  client?.close();
  client = new Client(emu.options());
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = await mkdtemp(join(tmpdir(), 'sfscale-node-bulk-'));
  bulk = client.withWorkDir(join(dir, 'bulk'));
});

test('ingest from an async generator maps failures to rows and reports progress', async () => {
  async function* rows() {
    for (let i = 0; i < 3000; i++) {
      yield i === 1234 ? { External_Id__c: 'no-name' } : { Name: `g-${i}`, External_Id__c: `g-${i}` };
    }
  }
  const progress = [];
  const result = await bulk.ingest('Account', 'upsert', rows(), {
    externalId: 'External_Id__c',
    onProgress: (p) => progress.push(p),
    ...FAST_POLL,
  });
  assert.equal(result.complete, true);
  assert.deepEqual([result.rowsRead, result.rowsSucceeded, result.rowsFailed], [3000, 2999, 1]);
  const [failure] = result.failures;
  assert.equal(failure.row, 1234);
  assert.equal(failure.error.code, 'REQUIRED_FIELD_MISSING');
  assert.ok(existsSync(result.errorFile));
  assert.equal((await emu.stats()).records.Account, 2999);
  assert.ok(progress.length > 0);
  assert.equal(progress.at(-1).rowsRead, 3000);
});

test('ingest from an array, a sync generator, a CSV path and CSV bytes', async () => {
  const csv = join(dir, 'a.csv');
  await writeFile(csv, `Name,External_Id__c\n${Array.from({ length: 100 }, (_, i) => `csv-${i},csv-${i}`).join('\n')}\n`);
  assert.equal((await bulk.ingest('Account', 'insert', accounts('arr', 50), FAST_POLL)).rowsSucceeded, 50);
  function* gen() {
    for (let i = 0; i < 2500; i++) yield { Name: `sync-${i}` };
  }
  assert.equal((await bulk.ingest('Account', 'insert', gen(), FAST_POLL)).rowsSucceeded, 2500);
  assert.equal((await bulk.ingest('Account', 'insert', csv, FAST_POLL)).rowsSucceeded, 100);
  assert.equal((await bulk.ingest('Account', 'insert', Buffer.from('Name\nfrom-bytes\n'), FAST_POLL)).rowsSucceeded, 1);
  assert.equal((await emu.stats()).records.Account, 2651);
});

test("an exception from the caller's rows is thrown as is; a bad value names field and row", async () => {
  async function* failing() {
    yield { Name: 'fine' };
    throw new Error('the source database went away');
  }
  await assert.rejects(bulk.ingest('Account', 'insert', failing(), FAST_POLL), /source database went away/);
  await assert.rejects(
    bulk.ingest('Account', 'insert', [{ Name: 'ok' }, { Name: Symbol('bad') }], FAST_POLL),
    (e) => e instanceof TypeError && /field 'Name' of row 1/.test(e.message),
  );
  await assert.rejects(bulk.ingest('Account', 'insert', 42), TypeError);
});

test('a run past its deadline resumes to completion', async () => {
  await emu.faults({ seed: 1, rules: [{ route: 'bulk', share: 1.0, effect: 'delay:100' }] });
  const rows = Array.from({ length: 500 }, (_, i) => ({ Name: `r-${i}` }));
  const first = await bulk.ingest('Account', 'insert', rows, { deadline: 50, maxRowsPerJob: 100, ...FAST_POLL });
  assert.equal(first.complete, false);
  await emu.faults({ rules: [] });
  const finished = await bulk.resume(first.runId);
  assert.equal(finished.complete, true);
  assert.equal(finished.rowsSucceeded, 500);
  assert.equal((await emu.stats()).records.Account, 500);
});

test('bulk query into a file and as records', async () => {
  await emu.load('Account', accounts('q', 120));
  const out = join(dir, 'out.csv');
  const summary = await bulk.query('SELECT Id, Name FROM Account', { to: out });
  assert.equal(summary.rows, 120);
  const lines = (await readFile(out, 'utf8')).trim().split('\n');
  assert.equal(lines.length, 121);
  const names = [];
  for await (const r of bulk.query('SELECT Name FROM Account')) names.push(r.Name);
  assert.deepEqual(names.sort(), accounts('q', 120).map((a) => a.Name).sort());
});

test('write picks the method by volume', async () => {
  const few = await bulk.write('Account', 'insert', [{ Name: 'one' }]);
  const many = await bulk.write('Account', 'insert', Array.from({ length: 300 }, (_, i) => ({ Name: `w-${i}` })));
  assert.deepEqual([few.method, many.method], ['single', 'collections']);
  assert.equal(many.succeeded, 300);
  assert.ok(many.reason);
  const report = await client.write('Account', 'insert', [{ Name: 'cw' }]);
  assert.equal(report.succeeded, 1);
});
