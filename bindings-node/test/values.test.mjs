// Values: JS types written in Salesforce's formats, bad types named by field and row.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { Client } from '../index.mjs';
import { Emulator } from './emulator.mjs';

let emu;
let client;
before(async () => {
  emu = await Emulator.start();
  await emu.reset();
  client = new Client(emu.options());
});
after(async () => {
  client.close();
  await emu.stop();
});

test('Dates, numbers, BigInts and null are written in Salesforce formats', async () => {
  const when = new Date('2024-05-01T14:30:05.250+02:00');
  const id = await client.create('Account', {
    Name: 'Typed',
    NumberOfEmployees: 12n,
    AnnualRevenue: 1234.5,
    Description: when,
    Phone: null,
    Website: undefined,
  });
  const record = await client.get('Account', id, ['Description', 'NumberOfEmployees', 'AnnualRevenue', 'Phone']);
  assert.equal(record.Description, '2024-05-01T12:30:05.250Z');
  assert.equal(record.NumberOfEmployees, 12);
  assert.equal(record.AnnualRevenue, 1234.5);
  assert.equal(record.Phone, null);
});

test('an unsupported type is a TypeError naming the field and the row', async () => {
  await assert.rejects(
    client.createMany('Account', [{ Name: 'ok' }, { Name: () => 'no' }]),
    (e) => e instanceof TypeError && /field 'Name' of row 1/.test(e.message),
  );
  await assert.rejects(client.create('Account', { Name: Symbol('x') }), /field 'Name'/);
  await assert.rejects(client.create('Account', { Name: new Map() }), /field 'Name': unsupported type Map/);
  await assert.rejects(client.create('Account', ['not', 'a', 'record']), /a record must be a plain object/);
});

test('non-finite numbers, invalid Dates and huge BigInts are refused', async () => {
  await assert.rejects(client.create('Account', { Name: 'x', AnnualRevenue: NaN }), RangeError);
  await assert.rejects(client.create('Account', { Name: 'x', AnnualRevenue: Infinity }), RangeError);
  await assert.rejects(client.create('Account', { Name: new Date('nope') }), /invalid Date/);
  await assert.rejects(client.create('Account', { Name: 'x', NumberOfEmployees: 2n ** 70n }), /too large/);
});

test('records come back as plain JSON values', async () => {
  const id = await client.create('Account', { Name: 'Plain', NumberOfEmployees: 3 });
  const [record] = await client.query(`SELECT Id, Name, NumberOfEmployees FROM Account WHERE Id = '${id}'`).toArray();
  assert.equal(Object.getPrototypeOf(record), Object.prototype);
  assert.equal(record.NumberOfEmployees, 3);
  assert.equal(record.attributes.type, 'Account');
});
