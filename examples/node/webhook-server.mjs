// A webhook backend on node:http that writes every event through sfscale's write-behind queue.
//
//   node webhook-server.mjs --emulator target/debug/sfscale-emulator   # a local emulator, self-test
//   node webhook-server.mjs --port 8080                                # an org, SFSCALE_* credentials
//
// POST /webhook with a JSON customer event ({ "id": "C-1", "name": "Acme", ... }) answers
// 202 with the write's ticket as soon as the write is journaled on disk: the request never
// waits for Salesforce. The queue's workers coalesce the writes into Collections calls (or
// Bulk jobs for large bursts) under the client's limits guard and scheduler, retry what is
// transient, and keep what Salesforce refuses as dead letters (GET /dead-letters). GET
// /health shows the queue's counters. With --emulator the script starts the emulator,
// posts a burst of events to itself, waits for them to land, prints a report and exits.

import http from 'node:http';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { Client, SfscaleError, BackpressureError } from 'sfscale';

const { values: args } = parseArgs({
  options: {
    emulator: { type: 'string', default: process.env.SFSCALE_EMULATOR_BIN },
    port: { type: 'string', default: '0' },
    events: { type: 'string', default: '1000' },
    journal: { type: 'string' },
  },
});

/** The customer event as the Account fields it updates (external id: the customer id). */
function account(event) {
  if (typeof event?.id !== 'string' || typeof event?.name !== 'string') {
    throw new TypeError('an event needs a string "id" and "name"');
  }
  return { External_Id__c: event.id, Name: event.name, Phone: event.phone ?? null };
}

async function readJson(request) {
  const chunks = [];
  for await (const chunk of request) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

function reply(response, status, body) {
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/** The HTTP handler: routes to the queue. */
function handler(queue) {
  return async (request, response) => {
    try {
      if (request.method === 'POST' && request.url === '/webhook') {
        const fields = account(await readJson(request));
        const ticket = await queue.enqueue('Account', 'upsert', fields, { externalId: 'External_Id__c' });
        return reply(response, 202, { ticket });
      }
      if (request.method === 'GET' && request.url === '/health') return reply(response, 200, queue.stats());
      if (request.method === 'GET' && request.url === '/dead-letters') return reply(response, 200, await queue.deadLetters());
      return reply(response, 404, { error: 'not found' });
    } catch (error) {
      if (error instanceof BackpressureError) return reply(response, 503, { error: error.message });
      if (error instanceof SyntaxError || error instanceof TypeError) return reply(response, 400, { error: error.message });
      const code = error instanceof SfscaleError ? error.code : 'INTERNAL';
      return reply(response, 500, { error: code });
    }
  };
}

async function startEmulator(binary) {
  const child = spawn(binary, ['--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = await new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', (l) => resolve([l]));
    child.once('exit', (code) => reject(new Error(`the emulator exited with ${code}`)));
  });
  child.stdout.resume();
  const url = line.split(' ').find((w) => w.startsWith('http'));
  return { url: url.replace(/\/$/, ''), stop: () => child.kill('SIGTERM') };
}

/** Posts `n` events to our own server, 50 at a time, as a webhook sender would. */
async function burst(base, n) {
  let next = 0;
  const sender = async () => {
    while (next < n) {
      const i = next++;
      const response = await fetch(`${base}/webhook`, {
        method: 'POST',
        body: JSON.stringify({ id: `C-${i}`, name: `Customer ${i}` }),
      });
      if (response.status !== 202) throw new Error(`event ${i}: ${response.status} ${await response.text()}`);
    }
  };
  await Promise.all(Array.from({ length: 50 }, sender));
  // One refused write: a bad event is a 400 and never reaches the queue.
  const bad = await fetch(`${base}/webhook`, { method: 'POST', body: '{"id": 7}' });
  if (bad.status !== 400) throw new Error(`a bad event answered ${bad.status}`);
}

async function main() {
  const emulator = args.emulator ? await startEmulator(args.emulator) : null;
  const client = emulator
    ? new Client({ instanceUrl: emulator.url, clientId: 'sfscale-emulator-client', clientSecret: 'sfscale-emulator-secret' })
    : Client.fromEnv();
  const journal = args.journal ?? join(await mkdtemp(join(tmpdir(), 'sfscale-webhooks-')), 'queue.sqlite');
  const queue = await client.queue(journal, { linger: 20 });
  let delivered = 0;
  queue.on('outcome', (o) => (delivered += o.outcome.kind === 'delivered' ? 1 : 0));
  const server = http.createServer(handler(queue));
  await new Promise((resolve) => server.listen(Number(args.port), '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${server.address().port}`;
  console.log(`webhook backend listening on ${base} (journal ${journal})`);
  if (!emulator) return; // serve until stopped

  try {
    const events = Number(args.events);
    await burst(base, events);
    await queue.flush();
    const stats = await (await fetch(`${emulator.url}/__emulator/stats`)).json();
    const health = await (await fetch(`${base}/health`)).json();
    console.log(
      `${events} webhook events → ${stats.records?.Account ?? 0} Accounts in ${stats.api_requests} API requests; ` +
        `queue depth ${health.depth}, dead letters ${health.deadLetters}; outcomes seen ${delivered}`,
    );
    if ((stats.records?.Account ?? 0) !== events || health.deadLetters !== 0) {
      throw new Error('not every event landed');
    }
  } finally {
    server.close();
    await queue.close();
    client.close();
    emulator.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
