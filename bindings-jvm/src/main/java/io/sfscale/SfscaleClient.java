package io.sfscale;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * A Salesforce client for Java services.
 *
 * <pre>{@code
 * try (SfscaleClient client = SfscaleClient.fromEnv()) {
 *     try (Stream<Map<String, Object>> accounts = client.query("SELECT Id, Name FROM Account")) {
 *         accounts.forEach(a -> System.out.println(a.get("Name")));
 *     }
 *     String id = client.create("Account", Map.of("Name", "Acme"));
 *     client.upsertAsync("Account", "External_Id__c", "CUST-1", Map.of("Name", "Acme"))
 *           .thenAccept(r -> System.out.println("created: " + r.getCreated()));
 * }
 * }</pre>
 *
 * <p>Every operation has a blocking form and an {@code ...Async} form returning a
 * {@link CompletableFuture}; cancelling that future cancels the Rust work. Every call passes the
 * core's pipeline (limits guard, scheduler, token, retry, observe). Failures are unchecked
 * {@link SfscaleException} subclasses. Values: see {@link SalesforceJson}. {@link #close()}
 * cancels calls in flight; later calls fail with {@code SfscaleException.InvalidInput}.
 */
public final class SfscaleClient implements AutoCloseable {
    private final CoroutineClient client;

    SfscaleClient(CoroutineClient client) {
        this.client = client;
    }

    /** A builder with the settings of every sfscale binding. */
    public static SfscaleBuilder builder() {
        return new SfscaleBuilder();
    }

    /** A client configured from the {@code SFSCALE_*} environment variables. */
    public static SfscaleClient fromEnv() {
        return SfscaleBuilder.fromEnv().build();
    }

    /** The Kotlin client behind this one (suspend functions, {@code Flow}). */
    public CoroutineClient coroutines() {
        return client;
    }

    /** The same client (one pipeline, token and limit budget) with another priority. */
    public SfscaleClient withPriority(Priority priority) {
        return new SfscaleClient(client.withPriority(priority));
    }

    /** The same client, its calls in the scheduler's long-running lane. */
    public SfscaleClient longRunning() {
        return new SfscaleClient(client.longRunning());
    }

    /** A SOQL query's records as a lazily paged stream; close it (try-with-resources) to stop early. */
    public Stream<Map<String, Object>> query(String soql) {
        return records(client.queryPages(soql, false));
    }

    /** {@code queryAll}: the query including deleted and archived records. */
    public Stream<Map<String, Object>> queryAll(String soql) {
        return records(client.queryPages(soql, true));
    }

    /** A SOQL query's pages, for non-blocking reading ({@link RecordPages#nextPageAsync()}). */
    public RecordPages queryPages(String soql) {
        return client.queryPages(soql, false);
    }

    /** A reference query's records, served from the cache for {@code ttl}. */
    public List<Map<String, Object>> queryCached(String soql, Duration ttl) {
        return Blocking.await(queryCachedAsync(soql, ttl));
    }

    public CompletableFuture<List<Map<String, Object>>> queryCachedAsync(String soql, Duration ttl) {
        return client.queryCachedAsync(soql, ttl);
    }

    /** Creates a record; its id. */
    public String create(String object, Map<String, ?> record) {
        return Blocking.await(createAsync(object, record));
    }

    public CompletableFuture<String> createAsync(String object, Map<String, ?> record) {
        return client.createAsync(object, record);
    }

    /** A record with {@code fields} (every field when empty). */
    public Map<String, Object> get(String object, String id, List<String> fields) {
        return Blocking.await(getAsync(object, id, fields));
    }

    public CompletableFuture<Map<String, Object>> getAsync(String object, String id, List<String> fields) {
        return client.getAsync(object, id, fields);
    }

    /** Updates a record's fields ({@code null} clears a field). */
    public void update(String object, String id, Map<String, ?> record) {
        Blocking.await(updateAsync(object, id, record));
    }

    public CompletableFuture<Void> updateAsync(String object, String id, Map<String, ?> record) {
        return client.updateAsync(object, id, record);
    }

    /** Deletes a record. */
    public void delete(String object, String id) {
        Blocking.await(deleteAsync(object, id));
    }

    public CompletableFuture<Void> deleteAsync(String object, String id) {
        return client.deleteAsync(object, id);
    }

    /** Upserts a record by external id. */
    public UpsertResult upsert(String object, String externalIdField, String value, Map<String, ?> record) {
        return Blocking.await(upsertAsync(object, externalIdField, value, record));
    }

    public CompletableFuture<UpsertResult> upsertAsync(
            String object, String externalIdField, String value, Map<String, ?> record) {
        return client.upsertAsync(object, externalIdField, value, record);
    }

    /** sObject Collections create (chunks of 200); one result per record, in input order. */
    public List<RecordResult> createMany(String object, List<? extends Map<String, ?>> records, boolean allOrNone) {
        return Blocking.await(createManyAsync(object, records, allOrNone));
    }

    public CompletableFuture<List<RecordResult>> createManyAsync(
            String object, List<? extends Map<String, ?>> records, boolean allOrNone) {
        return client.createManyAsync(object, List.copyOf(records), allOrNone);
    }

    /** sObject Collections update (each record has its {@code Id}). */
    public List<RecordResult> updateMany(String object, List<? extends Map<String, ?>> records, boolean allOrNone) {
        return Blocking.await(updateManyAsync(object, records, allOrNone));
    }

    public CompletableFuture<List<RecordResult>> updateManyAsync(
            String object, List<? extends Map<String, ?>> records, boolean allOrNone) {
        return client.updateManyAsync(object, List.copyOf(records), allOrNone);
    }

    /** sObject Collections upsert by external id. */
    public List<RecordResult> upsertMany(
            String object, String externalIdField, List<? extends Map<String, ?>> records, boolean allOrNone) {
        return Blocking.await(upsertManyAsync(object, externalIdField, records, allOrNone));
    }

    public CompletableFuture<List<RecordResult>> upsertManyAsync(
            String object, String externalIdField, List<? extends Map<String, ?>> records, boolean allOrNone) {
        return client.upsertManyAsync(object, externalIdField, List.copyOf(records), allOrNone);
    }

    /** sObject Collections delete. */
    public List<RecordResult> deleteMany(List<String> ids, boolean allOrNone) {
        return Blocking.await(deleteManyAsync(ids, allOrNone));
    }

    public CompletableFuture<List<RecordResult>> deleteManyAsync(List<String> ids, boolean allOrNone) {
        return client.deleteManyAsync(ids, allOrNone);
    }

    /** A composite request; one response per subrequest. */
    public List<SubResponse> composite(List<Subrequest> subrequests, boolean allOrNone) {
        return Blocking.await(compositeAsync(subrequests, allOrNone));
    }

    public CompletableFuture<List<SubResponse>> compositeAsync(List<Subrequest> subrequests, boolean allOrNone) {
        return client.compositeAsync(subrequests, allOrNone);
    }

    /** An object's describe (cached by the core). */
    public Map<String, Object> describe(String object) {
        return Blocking.await(describeAsync(object));
    }

    public CompletableFuture<Map<String, Object>> describeAsync(String object) {
        return client.describeAsync(object);
    }

    /** The global describe (cached by the core). */
    public Map<String, Object> describeGlobal() {
        return Blocking.await(describeGlobalAsync());
    }

    public CompletableFuture<Map<String, Object>> describeGlobalAsync() {
        return client.describeGlobalAsync();
    }

    /** The org's {@code /limits}, by name ({@code DailyApiRequests}, ...). */
    public Map<String, Limit> limits() {
        return Blocking.await(limitsAsync());
    }

    public CompletableFuture<Map<String, Limit>> limitsAsync() {
        return client.limitsAsync();
    }

    /** Bulk API 2.0: ingest, resume, write (auto), query. */
    public SfscaleBulk bulk() {
        return new SfscaleBulk(client.bulk());
    }

    /** Writes records by the method the core picks for their volume (see {@link SfscaleBulk#write}). */
    public Map<String, Object> write(String object, String operation, List<? extends Map<String, ?>> records) {
        return bulk().write(object, operation, records);
    }

    /** Opens a durable write-behind queue journaled at {@code path}, with the core's defaults. */
    public SfscaleQueue queue(Path path) {
        return queue(path, new QueueOptions());
    }

    /** Opens a durable write-behind queue journaled at {@code path}. */
    public SfscaleQueue queue(Path path, QueueOptions options) {
        return Blocking.await(queueAsync(path, options));
    }

    public CompletableFuture<SfscaleQueue> queueAsync(Path path, QueueOptions options) {
        return client.queueAsync(path, options).thenApply(SfscaleQueue::new);
    }

    /** The metrics snapshot, with the core's field names. */
    public Map<String, Object> metrics() {
        return client.metrics();
    }

    /** The metrics in Prometheus text format. */
    public String prometheus() {
        return client.prometheus();
    }

    /** Calls {@code listener} with each event (limit thresholds, throttling, token refreshes...) from a thread of its own. */
    public void onEvent(Consumer<? super Map<String, Object>> listener) {
        client.onEvent(listener);
    }

    /** OAuth grants this client made. */
    public long tokenGrants() {
        return client.tokenGrants();
    }

    /** Cancels calls in flight and releases the client. */
    @Override
    public void close() {
        client.close();
    }

    /** Pages as a lazy stream of records; closing the stream ends the query. */
    static Stream<Map<String, Object>> records(RecordPages pages) {
        Iterator<Map<String, Object>> iterator = new PageIterator(pages);
        return StreamSupport.stream(Spliterators.spliteratorUnknownSize(iterator, Spliterator.ORDERED), false)
                .onClose(pages::close);
    }

    /** Records of pages fetched as the caller reads. */
    private static final class PageIterator implements Iterator<Map<String, Object>> {
        private final RecordPages pages;
        private Iterator<Map<String, Object>> page = List.<Map<String, Object>>of().iterator();
        private boolean ended;

        PageIterator(RecordPages pages) {
            this.pages = pages;
        }

        @Override
        public boolean hasNext() {
            while (!page.hasNext() && !ended) {
                List<Map<String, Object>> next = pages.nextPageBlocking();
                if (next == null) {
                    ended = true;
                } else {
                    page = next.iterator();
                }
            }
            return page.hasNext();
        }

        @Override
        public Map<String, Object> next() {
            if (!hasNext()) {
                throw new NoSuchElementException("the query has no more records");
            }
            return page.next();
        }
    }
}
