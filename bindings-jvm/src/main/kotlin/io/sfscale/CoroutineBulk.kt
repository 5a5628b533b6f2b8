package io.sfscale

import io.sfscale.ffi.NativeBulk
import kotlinx.coroutines.flow.Flow
import java.nio.file.Path
import java.time.Duration
import java.util.function.Consumer

/**
 * Bulk API 2.0 through the client's pipeline: ingest (lock-aware, resumable, bounded memory),
 * `write` (the core picks single calls, collections or bulk by volume) and query.
 *
 * Results are maps with the core's field names (`run_id`, `complete`, `rows_read`,
 * `rows_succeeded`, `rows_failed`, `jobs_used`, `api_calls`, `success_file`, ...).
 * [operation] names: `insert`, `update`, `upsert`, `delete`, `hardDelete`.
 */
class CoroutineBulk internal constructor(
    private val native: NativeBulk,
    private val calls: Calls,
) {
    /** The work directory (journal and outcome files). */
    val workDir: Path get() = Path.of(native.workDir())

    /** The same bulk handle with another work directory. */
    fun withWorkDir(dir: Path): CoroutineBulk = CoroutineBulk(native.withWorkDir(dir.toString()), calls)

    /**
     * Ingests [rows], pulled lazily (a `Sequence`, a Java `Stream`'s iterator, a list...). If
     * your iterator throws, the run stops and your exception is rethrown as is.
     */
    suspend fun ingest(
        sobject: String,
        operation: String,
        rows: Iterator<Map<String, *>>,
        options: IngestOptions = IngestOptions(),
    ): Map<String, Any?> {
        val source = IteratorSource(rows)
        val result = try {
            native { native.ingestRows(sobject, operation, source, options.native, options.listener()) }
        } catch (e: SfscaleException) {
            throw source.failure ?: e
        }
        return SalesforceJson.decodeObject(result)
    }

    /** Ingests [rows]. */
    suspend fun ingest(
        sobject: String,
        operation: String,
        rows: Iterable<Map<String, *>>,
        options: IngestOptions = IngestOptions(),
    ): Map<String, Any?> = ingest(sobject, operation, rows.iterator(), options)

    /** Ingests a CSV file (header row of field names). */
    suspend fun ingest(
        sobject: String,
        operation: String,
        csv: Path,
        options: IngestOptions = IngestOptions(),
    ): Map<String, Any?> = SalesforceJson.decodeObject(
        native { native.ingestCsv(sobject, operation, csv.toString(), options.native, options.listener()) },
    )

    /** Continues a run from its journal (after a crash, or a [IngestOptions.deadline]). */
    suspend fun resume(
        runId: String,
        deadline: Duration? = null,
        progress: Consumer<in Map<String, @JvmSuppressWildcards Any?>>? = null,
    ): Map<String, Any?> = SalesforceJson.decodeObject(
        native { native.resume(runId, deadline?.millis(), progress?.let(::mapListener)) },
    )

    /** Writes [records] by the method the core picks for their volume; the report says which and why. */
    suspend fun write(
        sobject: String,
        operation: String,
        records: List<Map<String, *>>,
        externalId: String? = null,
    ): Map<String, Any?> = SalesforceJson.decodeObject(
        native { native.write(sobject, operation, SalesforceJson.encodeRecords(records), externalId) },
    )

    /** A Bulk query written to a CSV file at [to]; the summary. */
    suspend fun query(soql: String, to: Path, includeDeleted: Boolean = false): Map<String, Any?> =
        SalesforceJson.decodeObject(native { native.queryToCsv(soql, to.toString(), includeDeleted) })

    /** A Bulk query's records, page by page. */
    @JvmOverloads
    fun queryPages(soql: String, includeDeleted: Boolean = false): RecordPages =
        RecordPages(native.query(soql, includeDeleted), calls)

    /** A Bulk query's records as a cold [Flow]. */
    fun query(soql: String, includeDeleted: Boolean = false): Flow<Map<String, Any?>> =
        queryPages(soql, includeDeleted).records()

    // CompletableFuture forms, for Java.

    fun ingestAsync(sobject: String, operation: String, rows: Iterator<Map<String, *>>, options: IngestOptions) =
        calls.future { ingest(sobject, operation, rows, options) }

    fun ingestAsync(sobject: String, operation: String, csv: Path, options: IngestOptions) =
        calls.future { ingest(sobject, operation, csv, options) }

    fun resumeAsync(runId: String, deadline: Duration?, progress: Consumer<in Map<String, @JvmSuppressWildcards Any?>>?) =
        calls.future { resume(runId, deadline, progress) }

    fun writeAsync(sobject: String, operation: String, records: List<Map<String, *>>, externalId: String?) =
        calls.future { write(sobject, operation, records, externalId) }

    fun queryAsync(soql: String, to: Path, includeDeleted: Boolean) =
        calls.future { query(soql, to, includeDeleted) }
}

private fun IngestOptions.listener() = progress?.let(::mapListener)
