// sfscale vs jsforce on the same emulator: a large REST query (jsforce autoFetch) and a Bulk
// API 2.0 ingest. Prints times and ratios; for comparison over time, not a CI gate.
//
//   node vs-jsforce.mjs --emulator ../../target/debug/sfscale-emulator [--query 200000] [--ingest 1000000]
//
// Needs only `npm install && npm run build` in bindings-node: jsforce is one of its dev
// dependencies, and both packages are loaded from there.
// Both clients get the same data, the same API version and the same page size (2000). Each
// measurement runs on a freshly reset emulator, after a warm-up call that fetches the token.

import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';

import { createRequire } from 'node:module';

const require = createRequire(new URL('../../bindings-node/package.json', import.meta.url));
const jsforce = require('jsforce');
const { Client } = require('./index.js');

const { values: args } = parseArgs({
  options: {
    emulator: { type: 'string', default: process.env.SFSCALE_EMULATOR_BIN },
    query: { type: 'string', default: '200000' },
    ingest: { type: 'string', default: '1000000' },
  },
});
const CLIENT_ID = 'sfscale-emulator-client';
const CLIENT_SECRET = 'sfscale-emulator-secret';
const VERSION = '62.0';

async function startEmulator(binary) {
  const child = spawn(binary, ['--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise((resolve) => createInterface({ input: child.stdout }).once('line', resolve));
  child.stdout.resume();
  const url = line.split(' ').find((w) => w.startsWith('http')).replace(/\/$/, '');
  const control = async (method, path, body) => {
    const r = await fetch(`${url}/__emulator/${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body && JSON.stringify(body),
    });
    if (!r.ok) throw new Error(`${path}: ${r.status}`);
    return r.json().catch(() => null);
  };
  return { url, control, stop: () => child.kill('SIGTERM') };
}

async function reset(emu, records) {
  await emu.control('POST', 'reset', {});
  await emu.control('PUT', 'limits', { daily_api_requests: 10_000_000 });
  for (let start = 0; start < records; start += 10_000) {
    const n = Math.min(10_000, records - start);
    const batch = Array.from({ length: n }, (_, i) => ({ Name: `bench-${start + i}`, External_Id__c: `bench-${start + i}` }));
    await emu.control('POST', 'load', { object: 'Account', records: batch });
  }
}

async function jsforceConnection(url) {
  const body = new URLSearchParams({ grant_type: 'client_credentials', client_id: CLIENT_ID, client_secret: CLIENT_SECRET });
  const token = await (await fetch(`${url}/services/oauth2/token`, { method: 'POST', body })).json();
  return new jsforce.Connection({ instanceUrl: url, accessToken: token.access_token, version: VERSION });
}

async function timed(label, work) {
  const start = performance.now();
  const count = await work();
  const seconds = (performance.now() - start) / 1000;
  console.log(`${label.padEnd(34)} ${seconds.toFixed(2).padStart(8)} s  (${count} rows)`);
  return seconds;
}

async function queryBench(emu, n) {
  const soql = 'SELECT Id, Name, External_Id__c FROM Account';
  await reset(emu, n);
  const client = new Client({ instanceUrl: emu.url, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, apiVersion: VERSION, queryBatchSize: 2000 });
  await client.limits();
  const ours = await timed(`sfscale query (${n})`, async () => {
    let count = 0;
    for await (const _ of client.query(soql)) count++;
    return count;
  });
  client.close();
  const conn = await jsforceConnection(emu.url);
  await conn.limits();
  const theirs = await timed(`jsforce query autoFetch (${n})`, () =>
    new Promise((resolve, reject) => {
      let count = 0;
      conn
        .query(soql, { headers: { 'Sforce-Query-Options': 'batchSize=2000' } })
        .on('record', () => count++)
        .on('end', () => resolve(count))
        .on('error', reject)
        .run({ autoFetch: true, maxFetch: n + 1 });
    }),
  );
  return theirs / ours;
}

function* rows(n) {
  for (let i = 0; i < n; i++) yield { Name: `ingest-${i}`, External_Id__c: `ingest-${i}` };
}

async function ingestBench(emu, n) {
  await reset(emu, 0);
  const dir = await mkdtemp(join(tmpdir(), 'sfscale-bench-'));
  const client = new Client({ instanceUrl: emu.url, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, apiVersion: VERSION });
  await client.limits();
  const ours = await timed(`sfscale bulk.ingest (${n})`, async () => {
    const result = await client.withWorkDir(dir).ingest('Account', 'insert', rows(n), { pollInterval: [50, 500] });
    return result.rowsSucceeded;
  });
  client.close();
  await rm(dir, { recursive: true, force: true });
  await reset(emu, 0);
  const conn = await jsforceConnection(emu.url);
  await conn.limits();
  const theirs = await timed(`jsforce bulk2 load (${n})`, async () => {
    const results = await conn.bulk2.loadAndWaitForResults({
      object: 'Account',
      operation: 'insert',
      input: [...rows(n)],
      pollInterval: 500,
      pollTimeout: 3_600_000,
    });
    return results.successfulResults.length;
  });
  return theirs / ours;
}

async function main() {
  if (!args.emulator) throw new Error('pass --emulator PATH (or set SFSCALE_EMULATOR_BIN)');
  const emu = await startEmulator(args.emulator);
  try {
    const query = await queryBench(emu, Number(args.query));
    const ingest = await ingestBench(emu, Number(args.ingest));
    console.log(`\nratio (jsforce time / sfscale time): query ${query.toFixed(2)}x, bulk ingest ${ingest.toFixed(2)}x`);
  } finally {
    emu.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
