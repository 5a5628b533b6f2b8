// REST operations, queries, the SOQL builder, observability and the client's lifecycle,
// through the public API against the emulator.

import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

import { Client, soql, setLogListener, SfscaleError, InvalidInputError, NotFoundError } from '../index.mjs';
import { Emulator, accounts, until } from './emulator.mjs';

let emu;
let client;

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
});

test('create, get, update and delete round trip', async () => {
  const id = await client.create('Account', { Name: 'Acme', NumberOfEmployees: 12 });
  assert.match(id, /^001/);
  assert.equal((await client.get('Account', id, ['Name'])).Name, 'Acme');
  await client.update('Account', id, { Name: 'Acme 2' });
  assert.equal((await client.get('Account', id)).Name, 'Acme 2');
  await client.delete('Account', id);
  await assert.rejects(client.get('Account', id), NotFoundError);
});

test('upsert creates then updates', async () => {
  const first = await client.upsert('Account', 'External_Id__c', 'U-1', { Name: 'one' });
  const second = await client.upsert('Account', 'External_Id__c', 'U-1', { Name: 'uno' });
  assert.deepEqual([first.created, second.created], [true, false]);
  assert.equal(first.id, second.id);
});

test('query streams every page lazily with for await', async () => {
  await emu.load('Account', accounts('p', 450));
  const paged = new Client(emu.options({ queryBatchSize: 200 }));
  const names = [];
  for await (const record of paged.query('SELECT Id, Name FROM Account')) names.push(record.Name);
  assert.equal(names.length, 450);
  assert.equal(new Set(names).size, 450);
  assert.equal((await paged.query('SELECT Id FROM Account LIMIT 5').toArray()).length, 5);
  paged.close();
});

test('next() called again before it settled serves every record once, in order', async () => {
  await emu.load('Account', accounts('n', 450));
  const paged = new Client(emu.options({ queryBatchSize: 200 }));
  const soql = 'SELECT Id, Name FROM Account ORDER BY Name';
  const iterator = paged.query(soql)[Symbol.asyncIterator]();
  const steps = await Promise.all(Array.from({ length: 452 }, () => iterator.next()));
  assert.deepEqual(steps.slice(450).map((s) => s.done), [true, true]);
  const names = steps.slice(0, 450).map((s) => s.value.Name);
  assert.deepEqual(names, (await paged.query(soql).toArray()).map((r) => r.Name));
  assert.equal(new Set(names).size, 450);
  paged.close();
});

test('leaving the loop early stops fetching pages', async () => {
  await emu.load('Account', accounts('s', 1000));
  const paged = new Client(emu.options({ queryBatchSize: 200 }));
  const before = (await emu.stats()).api_requests;
  let seen = 0;
  for await (const _ of paged.query('SELECT Id FROM Account')) {
    if (++seen === 10) break;
  }
  const used = (await emu.stats()).api_requests - before;
  assert.ok(used <= 3, `a break after 10 records made ${used} requests (5 pages exist)`);
  paged.close();
});

test('includeDeleted reads deleted records through queryAll', async () => {
  const id = await client.create('Account', { Name: 'gone' });
  await client.delete('Account', id);
  const live = await client.query('SELECT Id FROM Account').toArray();
  const all = await client.query('SELECT Id, IsDeleted FROM Account', { includeDeleted: true }).toArray();
  assert.deepEqual([live.length, all.length], [0, 1]);
});

test('queryCached answers from the cache within its ttl', async () => {
  await emu.load('Account', accounts('c', 3));
  await client.limits(); // token and the limits guard's first reading
  const before = (await emu.stats()).api_requests;
  const first = await client.queryCached('SELECT Name FROM Account', 60_000);
  const second = await client.queryCached('SELECT Name FROM Account', 60_000);
  assert.deepEqual(first, second);
  assert.equal(first.length, 3);
  assert.equal((await emu.stats()).api_requests - before, 1);
});

test('collections report every row, each failure an SfscaleError with its row', async () => {
  const results = await client.createMany('Account', [{ Name: 'a' }, { Description: 'no name' }, { Name: 'c' }]);
  assert.deepEqual(results.map((r) => r.success), [true, false, true]);
  const { error } = results[1];
  assert.ok(error instanceof SfscaleError);
  assert.equal(error.code, 'REQUIRED_FIELD_MISSING');
  assert.equal(error.row, 1);
  assert.equal(results[1].errors[0].statusCode, 'REQUIRED_FIELD_MISSING');
  const ids = results.filter((r) => r.success).map((r) => r.id);
  const updated = await client.updateMany('Account', ids.map((Id) => ({ Id, Name: 'renamed' })));
  assert.ok(updated.every((r) => r.success));
  const upserted = await client.upsertMany('Account', 'External_Id__c', accounts('m', 3));
  assert.deepEqual(upserted.map((r) => r.created), [true, true, true]);
  const deleted = await client.deleteMany(ids, { allOrNone: true });
  assert.ok(deleted.every((r) => r.success));
});

test('composite runs subrequests with references', async () => {
  const answers = await client.composite([
    { method: 'POST', url: '/services/data/v62.0/sobjects/Account', referenceId: 'acct', body: { Name: 'Parent' } },
    { method: 'GET', url: '/services/data/v62.0/sobjects/Account/@{acct.id}', referenceId: 'read' },
  ]);
  assert.deepEqual(answers.map((a) => a.referenceId), ['acct', 'read']);
  assert.equal(answers[1].status, 200);
  assert.equal(answers[1].body.Name, 'Parent');
});

test('describe (one object and global) and limits', async () => {
  const account = await client.describe('Account');
  assert.equal(account.name, 'Account');
  assert.ok(account.fields.some((f) => f.name === 'Name'));
  const global = await client.describe();
  assert.ok(global.sobjects.some((o) => o.name === 'Account'));
  const limits = await client.limits();
  assert.equal(typeof limits.DailyApiRequests.max, 'number');
  assert.ok(limits.DailyApiRequests.remaining <= limits.DailyApiRequests.max);
});

test('the soql builder escapes bound values and names bad input', async () => {
  await client.create('Account', { Name: "O'Brien \\ Sons" });
  const text = soql('Account', ['Id', 'Name']).whereEq('Name', "O'Brien \\ Sons").limit(10).build();
  assert.match(text, /O\\'Brien/);
  const found = await client.query(text).toArray();
  assert.equal(found.length, 1);
  const counted = soql('Account').whereCmp('NumberOfEmployees', '>', 5).whereIn('Name', ['a', 'b']).build();
  assert.match(counted, /^SELECT COUNT\(\) FROM Account WHERE/);
  const dated = soql('Account', ['Id']).whereCmp('CreatedDate', '>=', new Date('2024-05-01T12:00:00+02:00')).build();
  assert.match(dated, /2024-05-01T10:00:00(\.000)?Z/);
  assert.throws(() => soql('Account; DROP', ['Id']).build(), InvalidInputError);
  assert.throws(() => soql('Account', ['Id']).whereEq('Name', () => 1), InvalidInputError);
});

test('metrics, prometheus and events', async () => {
  const observed = new Client(emu.options());
  const refreshed = [];
  const all = [];
  observed.on('tokenRefreshed', (e) => refreshed.push(e));
  observed.on('event', (e) => all.push(e));
  await observed.limits();
  const metrics = observed.metrics();
  assert.equal(metrics.tokenRefreshes, 1);
  const answered = Object.values(metrics.requests).reduce((n, byStatus) => n + (byStatus['200'] ?? 0), 0);
  assert.ok(answered >= 1, JSON.stringify(metrics.requests));
  assert.match(observed.prometheus(), /sfscale_/);
  assert.equal(observed.tokenGrants, 1);
  await until(() => refreshed.length === 1, 'the tokenRefreshed event');
  assert.equal(refreshed[0].kind, 'token_refreshed');
  assert.ok(all.length >= 1);
  observed.close();
});

test("the core's log records reach a listener at the chosen level", async () => {
  const records = [];
  const tokens = () => records.filter((r) => r.target === 'sfscale::tokens::manager');
  try {
    setLogListener((r) => records.push(r), { level: 'info' });
    const quiet = new Client(emu.options());
    await quiet.limits(); // its token is logged at DEBUG: filtered out
    quiet.close();
    setLogListener((r) => records.push(r), { level: 'debug' });
    const verbose = new Client(emu.options());
    await verbose.limits();
    verbose.close();
    await until(() => tokens().length > 0, 'a token log record');
    assert.equal(tokens().length, 1, JSON.stringify(records));
    assert.equal(tokens()[0].level, 'DEBUG');
    assert.match(tokens()[0].message, /access token obtained/);
  } finally {
    setLogListener(null);
  }
  assert.throws(() => setLogListener(() => {}, { level: 'loud' }), InvalidInputError);
});

test('a closed client refuses calls clearly', async () => {
  const closing = new Client(emu.options());
  closing.close();
  await assert.rejects(closing.limits(), (e) => e instanceof InvalidInputError && /closed/.test(e.message));
});

test('fromEnv reads the variables and options win', async () => {
  const saved = { ...process.env };
  Object.assign(process.env, {
    SFSCALE_INSTANCE_URL: emu.url,
    SFSCALE_CLIENT_ID: 'sfscale-emulator-client',
    SFSCALE_CLIENT_SECRET: 'wrong',
  });
  try {
    const fromEnv = Client.fromEnv({ clientSecret: 'sfscale-emulator-secret' });
    assert.ok((await fromEnv.limits()).DailyApiRequests);
    fromEnv.close();
  } finally {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
  }
});

test('priority and long-running handles share the client and its token', async () => {
  await client.limits();
  await client.withPriority('background').limits();
  await client.longRunning().limits();
  assert.equal(client.tokenGrants, 1);
  assert.throws(() => client.withPriority('urgent'), InvalidInputError);
});

test('the package loads through require as well as import', () => {
  const require = createRequire(import.meta.url);
  const cjs = require('../index.js');
  assert.equal(cjs.Client, Client);
  assert.equal(typeof cjs.soql, 'function');
});
