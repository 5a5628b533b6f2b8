package io.sfscale;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Bulk API 2.0 for Java: ingest from maps or a CSV file (lock-aware, resumable, bounded memory),
 * {@code write} (the core picks single calls, collections or bulk by volume) and query.
 *
 * <p>Results are maps with the core's field names ({@code run_id}, {@code complete},
 * {@code rows_read}, {@code rows_succeeded}, {@code rows_failed}, {@code api_calls},
 * {@code success_file}, {@code error_file}, ...). Operations: {@code insert}, {@code update},
 * {@code upsert}, {@code delete}, {@code hardDelete}.
 */
public final class SfscaleBulk {
    private final CoroutineBulk bulk;

    SfscaleBulk(CoroutineBulk bulk) {
        this.bulk = bulk;
    }

    /** The work directory (journal and outcome files). */
    public Path workDir() {
        return bulk.getWorkDir();
    }

    /** The same bulk handle with another work directory. */
    public SfscaleBulk withWorkDir(Path dir) {
        return new SfscaleBulk(bulk.withWorkDir(dir));
    }

    /** Ingests rows pulled lazily from {@code rows}; an exception from your iterable is rethrown as is. */
    public Map<String, Object> ingest(String object, String operation, Iterable<? extends Map<String, ?>> rows) {
        return ingest(object, operation, rows, new IngestOptions());
    }

    public Map<String, Object> ingest(
            String object, String operation, Iterable<? extends Map<String, ?>> rows, IngestOptions options) {
        return Blocking.await(ingestAsync(object, operation, rows.iterator(), options));
    }

    /** Ingests rows pulled lazily from {@code rows} (closed when done). */
    public Map<String, Object> ingest(
            String object, String operation, Stream<? extends Map<String, ?>> rows, IngestOptions options) {
        try (rows) {
            return Blocking.await(ingestAsync(object, operation, rows.iterator(), options));
        }
    }

    /** Ingests a CSV file (header row of field names). */
    public Map<String, Object> ingest(String object, String operation, Path csv, IngestOptions options) {
        return Blocking.await(ingestAsync(object, operation, csv, options));
    }

    public CompletableFuture<Map<String, Object>> ingestAsync(
            String object, String operation, Iterator<? extends Map<String, ?>> rows, IngestOptions options) {
        return bulk.ingestAsync(object, operation, rows, options);
    }

    public CompletableFuture<Map<String, Object>> ingestAsync(
            String object, String operation, Path csv, IngestOptions options) {
        return bulk.ingestAsync(object, operation, csv, options);
    }

    /** Continues a run from its journal. */
    public Map<String, Object> resume(String runId) {
        return Blocking.await(resumeAsync(runId, null, null));
    }

    public CompletableFuture<Map<String, Object>> resumeAsync(
            String runId, Duration deadline, Consumer<? super Map<String, Object>> progress) {
        return bulk.resumeAsync(runId, deadline, progress);
    }

    /** Writes records by the method the core picks for their volume. */
    public Map<String, Object> write(String object, String operation, List<? extends Map<String, ?>> records) {
        return write(object, operation, records, null);
    }

    public Map<String, Object> write(
            String object, String operation, List<? extends Map<String, ?>> records, String externalId) {
        return Blocking.await(writeAsync(object, operation, records, externalId));
    }

    public CompletableFuture<Map<String, Object>> writeAsync(
            String object, String operation, List<? extends Map<String, ?>> records, String externalId) {
        return bulk.writeAsync(object, operation, List.copyOf(records), externalId);
    }

    /** A Bulk query written as CSV to {@code to}; the summary. */
    public Map<String, Object> query(String soql, Path to) {
        return Blocking.await(queryAsync(soql, to));
    }

    public CompletableFuture<Map<String, Object>> queryAsync(String soql, Path to) {
        return bulk.queryAsync(soql, to, false);
    }

    /** A Bulk query's records as a lazily paged stream (close it to stop early). */
    public Stream<Map<String, Object>> query(String soql) {
        return SfscaleClient.records(bulk.queryPages(soql, false));
    }
}
