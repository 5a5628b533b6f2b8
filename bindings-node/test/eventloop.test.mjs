// The event loop keeps turning while the core works, and AbortSignal cancels calls.

import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Client } from '../index.mjs';
import { Emulator, FAST_POLL, accounts } from './emulator.mjs';

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

test('a timer keeps firing while a long bulk job is awaited', async () => {
  // Every bulk call answers after 30 ms: the run spans many poll rounds.
  await emu.faults({ seed: 1, rules: [{ route: 'bulk', share: 1.0, effect: 'delay:30' }] });
  const bulk = client.withWorkDir(await mkdtemp(join(tmpdir(), 'sfscale-node-loop-')));
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  let ticksAtProgress = [];
  const result = await bulk.ingest('Account', 'insert', accounts('loop', 2000), {
    maxRowsPerJob: 500,
    onProgress: () => ticksAtProgress.push(ticks),
    ...FAST_POLL,
  });
  clearInterval(timer);
  assert.equal(result.rowsSucceeded, 2000);
  // The job made well over 10 delayed calls; a loop blocked by the binding would not tick.
  assert.ok(ticks >= 10, `the timer fired ${ticks} times during the job`);
  assert.ok(new Set(ticksAtProgress).size > 1, 'the timer advanced between progress reports');
});

test('an aborted signal rejects at once with its reason and drops the call', async () => {
  await emu.faults({ seed: 1, rules: [{ route: 'limits', share: 1.0, effect: 'delay:60000' }] });
  await client.describe('Account'); // token and connection ready
  const controller = new AbortController();
  const call = client.limits({ signal: controller.signal });
  setImmediate(() => controller.abort());
  await assert.rejects(call, { name: 'AbortError' });
  const already = AbortSignal.abort(new Error('not today'));
  await assert.rejects(client.limits({ signal: already }), /not today/);
});

test('aborting a bulk ingest mid-run rejects it', async () => {
  await emu.faults({ seed: 1, rules: [{ route: 'bulk', share: 1.0, effect: 'delay:50' }] });
  const bulk = client.withWorkDir(await mkdtemp(join(tmpdir(), 'sfscale-node-abort-')));
  const controller = new AbortController();
  const run = bulk.ingest('Account', 'insert', accounts('ab', 1000), {
    signal: controller.signal,
    onProgress: () => controller.abort(),
    ...FAST_POLL,
  });
  await assert.rejects(run, { name: 'AbortError' });
});

test('aborting a query stops the loop and the fetching', async () => {
  await emu.load('Account', accounts('aq', 1000));
  const paged = new Client(emu.options({ queryBatchSize: 200 }));
  const controller = new AbortController();
  let seen = 0;
  await assert.rejects(async () => {
    for await (const _ of paged.query('SELECT Id FROM Account', { signal: controller.signal })) {
      if (++seen === 200) controller.abort();
    }
  }, { name: 'AbortError' });
  assert.ok(seen >= 200 && seen < 1000, `saw ${seen}`);
  paged.close();
});
