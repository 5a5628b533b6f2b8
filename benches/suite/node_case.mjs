// One side of the Node query pair (B3), in its own process so its peak RSS is its own.
//
//   node node_case.mjs --url URL --ca CA.pem --side sfscale|peer --rows N
//
// Started by benches/run.py against an emulator it already runs and loaded with N Accounts.
// Reads every record of one REST query (sfscale's async iterator; jsforce with autoFetch),
// both with the same API version and page size, and prints one JSON line: seconds (the
// query only), peak_rss_mb, api_calls (the emulator's counter) and the check that passed.
// jsforce trusts the emulator's CA through NODE_EXTRA_CA_CERTS, which run.py sets.

import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';

const require = createRequire(new URL('../../bindings-node/package.json', import.meta.url));
const jsforce = require('jsforce');
const { Client } = require('./index.js');

const CLIENT_ID = 'sfscale-emulator-client';
const CLIENT_SECRET = 'sfscale-emulator-secret';
const VERSION = '62.0';
const PAGE = 2000;
const SOQL = 'SELECT Id, Name, External_Id__c FROM Account';

const { values: args } = parseArgs({
  options: {
    url: { type: 'string' },
    ca: { type: 'string' },
    side: { type: 'string' },
    rows: { type: 'string' },
    scratch: { type: 'string' }, // given to every side by run.py; this side writes no files
  },
});

async function apiCalls() {
  const stats = await (await fetch(`${args.url}/__emulator/stats`)).json();
  return stats.api_requests;
}

async function ours() {
  const client = new Client({
    instanceUrl: args.url, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET,
    apiVersion: VERSION, queryBatchSize: PAGE, caFile: args.ca,
  });
  await client.limits();
  return [async () => {
    let count = 0;
    for await (const _ of client.query(SOQL)) count++;
    return count;
  }, () => client.close()];
}

async function theirs() {
  const body = new URLSearchParams({ grant_type: 'client_credentials', client_id: CLIENT_ID, client_secret: CLIENT_SECRET });
  const grant = await (await fetch(`${args.url}/services/oauth2/token`, { method: 'POST', body })).json();
  const conn = new jsforce.Connection({ instanceUrl: args.url, accessToken: grant.access_token, version: VERSION });
  await conn.limits();
  return [() => new Promise((resolve, reject) => {
    let count = 0;
    conn.query(SOQL, { headers: { 'Sforce-Query-Options': `batchSize=${PAGE}` } })
      .on('record', () => count++)
      .on('end', () => resolve(count))
      .on('error', reject)
      .run({ autoFetch: true, maxFetch: Number(args.rows) + 1 });
  }), () => {}];
}

async function main() {
  const [work, done] = args.side === 'sfscale' ? await ours() : await theirs();
  const before = await apiCalls();
  const start = performance.now();
  const count = await work();
  const seconds = (performance.now() - start) / 1000;
  done();
  if (count !== Number(args.rows)) {
    throw new Error(`correctness check failed: records read: got ${count}, want ${args.rows}`);
  }
  const calls = (await apiCalls()) - before;
  const peak = process.resourceUsage().maxRSS / 1024;
  console.log(JSON.stringify({ seconds, peak_rss_mb: peak, api_calls: calls, checked: `records read = ${count}` }));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
