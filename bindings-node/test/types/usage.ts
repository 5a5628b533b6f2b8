// A typed tour of the public API, checked by `npm run typecheck` (`tsc --noEmit`, strict).
// Not run: it only has to type-check, so a declaration that drifts from real use fails here.

import {
  Client,
  soql,
  setLogListener,
  SfscaleError,
  LimitError,
  type BulkResult,
  type Progress,
  type QueueOutcome,
  type RecordInput,
} from 'sfscale';

export async function tour(): Promise<void> {
  const client = Client.fromEnv({ reserve: 0.2, retryBackoff: [100, 2000] });
  const other = new Client({ instanceUrl: 'http://127.0.0.1:1', clientId: 'id', clientSecret: 's' });
  other.close();

  const controller = new AbortController();
  for await (const account of client.query('SELECT Id, Name FROM Account', { signal: controller.signal })) {
    const name: string = account.Name;
    void name;
  }
  const id: string = await client.create('Account', { Name: 'Acme', Founded: new Date(), Employees: 12n });
  const saved = await client.upsert('Account', 'External_Id__c', 'A-1', { Name: 'Acme' });
  const created: boolean = saved.created;
  const results = await client.upsertMany('Account', 'External_Id__c', [{ Name: 'x', External_Id__c: 'x' }]);
  const firstError: SfscaleError | null = results[0].error;
  await client.update('Account', id, { Name: null });
  await client.delete('Account', id);
  const limits = await client.limits();
  const remaining: number = limits.DailyApiRequests.remaining;
  const text: string = soql('Account', ['Id']).whereEq('Name', 'O\'Brien').orderBy('Name', true).limit(10).build();

  async function* rows(): AsyncGenerator<RecordInput> {
    yield { Name: 'streamed' };
  }
  const result: BulkResult = await client.bulk.ingest('Account', 'upsert', rows(), {
    externalId: 'External_Id__c',
    onProgress: (p: Progress) => console.log(p.rowsProcessed),
  });
  await client.withWorkDir('/tmp/bulk').resume(result.runId, { deadline: 60_000 });
  await client.bulk.query('SELECT Id FROM Account', { to: '/tmp/accounts.csv' });
  for await (const record of client.bulk.query('SELECT Id FROM Account')) void record.Id;
  const report = await client.write('Account', 'insert', [{ Name: 'auto' }]);
  const method: 'single' | 'collections' | 'bulk' = report.method;

  const queue = await client.queue('/tmp/queue.sqlite', { linger: 50, whenFull: 'wait' });
  queue.on('outcome', (o: QueueOutcome) => console.log(o.ticket, o.outcome.kind));
  const ticket: number = await queue.enqueue('Account', 'upsert', { External_Id__c: 'e-1' }, { externalId: 'External_Id__c' });
  await queue.flush();
  for (const letter of await queue.deadLetters({ limit: 10 })) await queue.replay(letter.ticket, { Name: 'fixed' });
  await queue.close();

  client.on('throttled', (event) => console.log(event.kind));
  client.on('event', (event) => console.log(event.kind));
  setLogListener((record) => console.log(record.level, record.target, record.message), { level: 'debug' });
  setLogListener(null);
  const metrics = client.metrics();
  const prom: string = client.prometheus();
  const grants: number = client.tokenGrants;

  try {
    await client.withPriority('background').longRunning().limits();
  } catch (error) {
    if (error instanceof LimitError) console.log(error.code, error.status, error.retryable);
  }
  void [created, firstError, remaining, text, method, ticket, metrics, prom, grants];
  client.close();
}
