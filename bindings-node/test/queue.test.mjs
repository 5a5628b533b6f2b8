// client.queue: durable write-behind writes, coalesced, with outcomes and dead letters.

import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Client, SfscaleError, InvalidInputError } from '../index.mjs';
import { Emulator, until } from './emulator.mjs';

let emu;
let client;
let dir;
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
  dir = await mkdtemp(join(tmpdir(), 'sfscale-node-queue-'));
});

test('writes are coalesced and every outcome is reported', async () => {
  const queue = await client.queue(join(dir, 'queue.sqlite'));
  const outcomes = [];
  queue.on('outcome', (o) => outcomes.push(o));
  const tickets = await Promise.all(
    Array.from({ length: 500 }, (_, i) =>
      queue.enqueue('Account', 'upsert', { Name: `q-${i}`, External_Id__c: `q-${i}` }, { externalId: 'External_Id__c' }),
    ),
  );
  assert.equal(new Set(tickets).size, 500);
  await queue.flush();
  assert.equal(queue.stats().depth, 0);
  await queue.close();
  const stats = await emu.stats();
  assert.equal(stats.records.Account, 500);
  assert.ok(stats.api_requests < 100, `500 writes coalesced, not one call each (${stats.api_requests})`);
  await until(() => outcomes.length === 500, 'every outcome');
  assert.deepEqual(new Set(outcomes.map((o) => o.outcome.kind)), new Set(['delivered']));
  await assert.rejects(queue.enqueue('Account', 'insert', { Name: 'after close' }), SfscaleError);
});

test('refused writes become dead letters and replay', async () => {
  const queue = await client.queue(join(dir, 'queue.sqlite'), { linger: 10 });
  await queue.enqueue('Account', 'insert', { Description: 'no name' });
  await queue.flush();
  const [letter, ...rest] = await queue.deadLetters();
  assert.equal(rest.length, 0);
  assert.equal(letter.error.code, 'REQUIRED_FIELD_MISSING');
  assert.equal(queue.stats().deadLetters, 1);
  await queue.replay(letter.ticket, { Name: 'fixed', Description: 'now named' });
  await queue.flush();
  assert.deepEqual(await queue.deadLetters(), []);
  await queue.enqueue('Account', 'insert', { Description: 'again' });
  await queue.flush();
  const [second] = await queue.deadLetters();
  assert.equal(await queue.discard(second.ticket), true);
  await queue.close();
  assert.equal((await emu.stats()).records.Account, 1);
});

test('bad queue options are named', async () => {
  await assert.rejects(client.queue(join(dir, 'q.sqlite'), { noSuch: 1 }), (e) => e instanceof InvalidInputError && /noSuch/.test(e.message));
  await assert.rejects(client.queue(join(dir, 'q.sqlite'), { whenFull: 'explode' }), /whenFull/);
});
