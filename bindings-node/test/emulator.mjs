// Test support: the emulator binary on a free port, its control API, and client options.

import { spawn, execFileSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLIENT_ID = 'sfscale-emulator-client';
export const CLIENT_SECRET = 'sfscale-emulator-secret';
export const USERNAME = 'integration@sfscale.test';
export const PASSWORD = 'sfscale-password';
export const JWT_KEY = join(ROOT, 'emulator', 'fixtures', 'jwt', 'private.pem');

/** Ingest options for tests: quick polling. */
export const FAST_POLL = { pollInterval: [20, 100] };

let binary;

/** The emulator binary: $SFSCALE_EMULATOR_BIN, or built with cargo once. */
export function emulatorBinary() {
  if (process.env.SFSCALE_EMULATOR_BIN) return process.env.SFSCALE_EMULATOR_BIN;
  if (!binary) {
    execFileSync('cargo', ['build', '-q', '-p', 'sfscale-emulator', '--bin', 'sfscale-emulator'], {
      cwd: ROOT,
      stdio: 'inherit',
    });
    binary = join(process.env.CARGO_TARGET_DIR ?? join(ROOT, 'target'), 'debug', 'sfscale-emulator');
  }
  return binary;
}

/** A running emulator process and its control endpoints (`/__emulator/...`). */
export class Emulator {
  static async start() {
    const child = spawn(emulatorBinary(), ['--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const lines = createInterface({ input: child.stdout });
    const [ready] = await Promise.race([
      new Promise((resolve) => lines.once('line', (line) => resolve([line]))),
      new Promise((_, reject) => child.once('exit', (code) => reject(new Error(`emulator exited with ${code}`)))),
    ]);
    const url = ready.split(' ').find((word) => word.startsWith('http://'));
    if (!url) throw new Error(`emulator did not print its ready line: ${ready}`);
    child.stdout.resume();
    return new Emulator(child, url.replace(/\/$/, ''));
  }

  constructor(child, url) {
    this.child = child;
    this.url = url;
  }

  async stop() {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    await exited;
  }

  async control(method, path, body) {
    const response = await fetch(`${this.url}/__emulator/${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
    const text = await response.text();
    return text ? JSON.parse(text) : null;
  }

  stats() {
    return this.control('GET', 'stats');
  }

  async reset() {
    await this.control('POST', 'reset', {});
    await this.limits({ daily_api_requests: 100_000 });
  }

  load(object, records) {
    return this.control('POST', 'load', { object, records });
  }

  faults(body) {
    return this.control('PUT', 'faults', body);
  }

  limits(body) {
    return this.control('PUT', 'limits', body);
  }

  expireSessions() {
    return this.control('POST', 'expire-sessions', {});
  }

  /** Client options for this emulator: client credentials, short test backoff. */
  options(overrides = {}) {
    return {
      instanceUrl: this.url,
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      retryBackoff: [2, 50],
      ...overrides,
    };
  }
}

/** `n` Accounts named `prefix-i` with `External_Id__c` = `prefix-i`. */
export function accounts(prefix, n) {
  return Array.from({ length: n }, (_, i) => ({ Name: `${prefix}-${i}`, External_Id__c: `${prefix}-${i}` }));
}

/** Resolves when `condition()` is truthy, checking on each event-loop turn (no fixed sleeps). */
export async function until(condition, what, turns = 100_000) {
  for (let i = 0; i < turns; i++) {
    const value = await condition();
    if (value) return value;
    await new Promise(setImmediate);
  }
  throw new Error(`never happened: ${what}`);
}
