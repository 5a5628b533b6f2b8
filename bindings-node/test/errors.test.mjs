// The error contract: every core kind has its class, and real failures arrive as the right one.

import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

import * as sfscale from '../index.mjs';
import { Emulator } from './emulator.mjs';

const require = createRequire(import.meta.url);
const native = require('../lib/native.js');
const { translate, KINDS } = require('../lib/errors.js');

let emu;
before(async () => {
  emu = await Emulator.start();
});
after(() => emu.stop());
beforeEach(() => emu.reset());

test('every core error kind maps to its own exported class', () => {
  const kinds = native.errorKinds();
  assert.ok(kinds.length >= 11, `${kinds}`);
  const classes = new Set();
  for (const kind of kinds) {
    const payload = native.errorPayload(kind, `CODE_${kind}`, `a ${kind} failure`);
    const error = translate(new Error(`\u0001sfscale:${payload}`));
    const Class = KINDS[kind];
    assert.ok(Class, `no class for core kind ${kind}`);
    assert.ok(error instanceof Class && error instanceof sfscale.SfscaleError && error instanceof Error, kind);
    assert.equal(sfscale[Class.name], Class, `${Class.name} is not exported`);
    assert.deepEqual([error.kind, error.code, error.message, error.name], [kind, `CODE_${kind}`, `a ${kind} failure`, Class.name]);
    classes.add(Class);
  }
  assert.equal(classes.size, kinds.length, 'one class per kind');
  assert.deepEqual(Object.keys(KINDS).sort(), [...kinds].sort(), 'no class for a kind the core lacks');
});

test('bad configuration is a ConfigError naming the setting', () => {
  assert.throws(
    () => new sfscale.Client(emu.options({ reserve: 1.5 })),
    (e) => e instanceof sfscale.ConfigError && /reserve/i.test(e.message),
  );
  assert.throws(() => new sfscale.Client(emu.options({ noSuchOption: 1 })), /noSuchOption/);
});

test('a wrong secret is an AuthError', async () => {
  const client = new sfscale.Client(emu.options({ clientSecret: 'wrong' }));
  await assert.rejects(client.limits(), sfscale.AuthError);
  client.close();
});

test('bad SOQL is an InvalidInputError with its status', async () => {
  const client = new sfscale.Client(emu.options());
  await assert.rejects(client.query('SELEKT Id FROM Account').toArray(), (e) => {
    assert.ok(e instanceof sfscale.InvalidInputError);
    assert.equal(e.status, 400);
    assert.equal(e.code, 'MALFORMED_QUERY');
    return true;
  });
  client.close();
});

test('a missing required field carries the fields and the operation', async () => {
  const client = new sfscale.Client(emu.options());
  await assert.rejects(client.create('Account', { Description: 'x' }), (e) => {
    assert.ok(e instanceof sfscale.InvalidInputError);
    assert.equal(e.code, 'REQUIRED_FIELD_MISSING');
    assert.deepEqual(e.fields, ['Name']);
    assert.equal(e.object, 'Account');
    return true;
  });
  client.close();
});

test('the daily limit reserve is a LimitError', async () => {
  await emu.limits({ daily_api_requests: 10 });
  const client = new sfscale.Client(emu.options({ reserve: 0.5, paceBand: 0 }));
  const outcomes = [];
  for (let i = 0; i < 12; i++) outcomes.push(await client.limits().then(() => null, (e) => e));
  const refused = outcomes.filter(Boolean);
  assert.ok(refused.length > 0);
  assert.ok(refused.every((e) => e instanceof sfscale.LimitError), refused.map(String).join('\n'));
  client.close();
});

test('a refused connection is a NetworkError', async () => {
  const client = new sfscale.Client({
    instanceUrl: 'http://127.0.0.1:9',
    clientId: 'x',
    clientSecret: 'y',
    retryMaxAttempts: 1,
  });
  await assert.rejects(client.limits(), sfscale.NetworkError);
  client.close();
});

test('server errors after retries are ServerErrors', async () => {
  await emu.faults({ seed: 1, rules: [{ route: 'limits', share: 1.0, effect: '500' }] });
  const client = new sfscale.Client(emu.options({ retryMaxAttempts: 2 }));
  await assert.rejects(client.limits(), (e) => e instanceof sfscale.ServerError && e.status === 500);
  client.close();
});
