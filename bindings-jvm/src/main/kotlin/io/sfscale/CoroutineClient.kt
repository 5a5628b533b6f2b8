package io.sfscale

import io.sfscale.ffi.NativeClient
import io.sfscale.ffi.SubrequestSpec
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlinx.coroutines.flow.Flow
import java.nio.file.Path
import java.time.Duration
import java.util.concurrent.CompletableFuture
import java.util.function.Consumer

/**
 * A Salesforce client for Kotlin: `suspend` functions, and a [Flow] for query results.
 *
 * ```kotlin
 * SfscaleBuilder.fromEnv().buildCoroutineClient().use { client ->
 *     client.query("SELECT Id, Name FROM Account").collect { println(it["Name"]) }
 *     val id = client.create("Account", mapOf("Name" to "Acme"))
 * }
 * ```
 *
 * Every call passes the core's pipeline (limits guard, scheduler, token, retry, observe) on
 * the core's one runtime; cancelling the calling coroutine cancels the Rust work. Each call
 * also has an `...Async` form returning a [CompletableFuture] (used by the Java facade
 * [SfscaleClient]); those run in a scope the client owns, which [close] cancels.
 * Failures are [SfscaleException] subclasses.
 */
class CoroutineClient internal constructor(nativeClient: NativeClient) : AutoCloseable {
    @Volatile
    private var client: NativeClient? = nativeClient

    /** The scope of the `...Async` calls; cancelled by [close]. */
    private val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default)

    private val calls = Calls(scope) { client == null }

    private val native: NativeClient get() = client ?: throw closedError("client")

    /** The same client (one pipeline, one token, one limit budget) with another priority. */
    fun withPriority(priority: Priority): CoroutineClient = CoroutineClient(native { native.withPriority(priority.wire) })

    /** The same client, its calls in the scheduler's long-running lane. */
    fun longRunning(): CoroutineClient = CoroutineClient(native.longRunning())

    /** A SOQL query's records, page by page (`queryAll` with [includeDeleted]). */
    @JvmOverloads
    fun queryPages(soql: String, includeDeleted: Boolean = false): RecordPages =
        RecordPages(native.query(soql, includeDeleted), calls)

    /** A SOQL query's records as a cold [Flow]. */
    @JvmOverloads
    fun query(soql: String, includeDeleted: Boolean = false): Flow<Map<String, Any?>> =
        queryPages(soql, includeDeleted).records()

    /** A reference query's records, served from the cache for [ttl]. */
    suspend fun queryCached(soql: String, ttl: Duration): List<Map<String, Any?>> =
        SalesforceJson.decodeObjects(native { native.queryCached(soql, ttl.millis()) })

    /** Creates a record; returns its id. */
    suspend fun create(sobject: String, record: Map<String, *>): String =
        native { native.create(sobject, SalesforceJson.encodeRecord(record)) }

    /** A record with [fields] (every field when empty). */
    suspend fun get(sobject: String, id: String, fields: List<String> = emptyList()): Map<String, Any?> =
        SalesforceJson.decodeObject(native { native.get(sobject, id, fields) })

    /** Updates a record's fields. */
    suspend fun update(sobject: String, id: String, record: Map<String, *>) =
        native { native.update(sobject, id, SalesforceJson.encodeRecord(record)) }

    /** Deletes a record. */
    suspend fun delete(sobject: String, id: String) = native { native.delete(sobject, id) }

    /** Upserts a record by an external id field and value. */
    suspend fun upsert(sobject: String, externalIdField: String, value: String, record: Map<String, *>): UpsertResult =
        native { native.upsert(sobject, externalIdField, value, SalesforceJson.encodeRecord(record)) }
            .let { UpsertResult(it.id, it.created) }

    /** sObject Collections create (chunks of 200); one result per record, in input order. */
    suspend fun createMany(sobject: String, records: List<Map<String, *>>, allOrNone: Boolean = false): List<RecordResult> =
        native { native.createMany(sobject, SalesforceJson.encodeRecords(records), allOrNone) }.map { it.toResult() }

    /** sObject Collections update (each record has its `Id`). */
    suspend fun updateMany(sobject: String, records: List<Map<String, *>>, allOrNone: Boolean = false): List<RecordResult> =
        native { native.updateMany(sobject, SalesforceJson.encodeRecords(records), allOrNone) }.map { it.toResult() }

    /** sObject Collections upsert by external id. */
    suspend fun upsertMany(
        sobject: String,
        externalIdField: String,
        records: List<Map<String, *>>,
        allOrNone: Boolean = false,
    ): List<RecordResult> =
        native { native.upsertMany(sobject, externalIdField, SalesforceJson.encodeRecords(records), allOrNone) }
            .map { it.toResult() }

    /** sObject Collections delete. */
    suspend fun deleteMany(ids: List<String>, allOrNone: Boolean = false): List<RecordResult> =
        native { native.deleteMany(ids, allOrNone) }.map { it.toResult() }

    /** A composite request; one response per subrequest. */
    suspend fun composite(subrequests: List<Subrequest>, allOrNone: Boolean = false): List<SubResponse> {
        val specs = subrequests.map { s ->
            SubrequestSpec(s.method, s.url, s.referenceId, s.body?.let { SalesforceJson.encodeRecord(it) })
        }
        return native { native.composite(specs, allOrNone) }.map { it.toResponse() }
    }

    /** An object's describe (cached by the core). */
    suspend fun describe(sobject: String): Map<String, Any?> =
        SalesforceJson.decodeObject(native { native.describe(sobject) })

    /** The global describe (cached by the core). */
    suspend fun describeGlobal(): Map<String, Any?> = SalesforceJson.decodeObject(native { native.describe(null) })

    /** The org's `/limits`, by name (`DailyApiRequests`, ...). */
    suspend fun limits(): Map<String, Limit> =
        native { native.limits() }.associate { it.name to Limit(it.max, it.remaining) }

    /** Bulk API 2.0. */
    fun bulk(): CoroutineBulk = CoroutineBulk(native.bulk(), calls)

    /** Opens a durable write-behind queue journaled at [path]. */
    suspend fun queue(path: Path, options: QueueOptions = QueueOptions()): CoroutineQueue =
        CoroutineQueue(native { native.queue(path.toString(), options.native) }, calls)

    /** The metrics snapshot (requests, retries, limits, latency...), with the core's field names. */
    fun metrics(): Map<String, Any?> = SalesforceJson.decodeObject(native { native.metrics() })

    /** The metrics in Prometheus text format. */
    fun prometheus(): String = native.prometheus()

    /** Calls [listener] with each event (limit thresholds, throttling, token refreshes...) from a thread of its own. */
    fun onEvent(listener: Consumer<in Map<String, @JvmSuppressWildcards Any?>>) = native { native.onEvent(mapListener(listener)) }

    /** OAuth grants this client made. */
    fun tokenGrants(): Long = native.tokenGrants()

    /** Cancels calls in flight from the `...Async` forms and releases the client; later calls fail. */
    override fun close() {
        val c = client ?: return
        client = null
        scope.cancel()
        c.destroy()
    }

    // CompletableFuture forms, for Java: cancelling a future cancels the Rust work.

    fun queryCachedAsync(soql: String, ttl: Duration) = calls.future { queryCached(soql, ttl) }

    fun createAsync(sobject: String, record: Map<String, *>) = calls.future { create(sobject, record) }

    fun getAsync(sobject: String, id: String, fields: List<String>) = calls.future { get(sobject, id, fields) }

    fun updateAsync(sobject: String, id: String, record: Map<String, *>): CompletableFuture<Void?> =
        calls.future { update(sobject, id, record); null }

    fun deleteAsync(sobject: String, id: String): CompletableFuture<Void?> = calls.future { delete(sobject, id); null }

    fun upsertAsync(sobject: String, externalIdField: String, value: String, record: Map<String, *>) =
        calls.future { upsert(sobject, externalIdField, value, record) }

    fun createManyAsync(sobject: String, records: List<Map<String, *>>, allOrNone: Boolean) =
        calls.future { createMany(sobject, records, allOrNone) }

    fun updateManyAsync(sobject: String, records: List<Map<String, *>>, allOrNone: Boolean) =
        calls.future { updateMany(sobject, records, allOrNone) }

    fun upsertManyAsync(sobject: String, externalIdField: String, records: List<Map<String, *>>, allOrNone: Boolean) =
        calls.future { upsertMany(sobject, externalIdField, records, allOrNone) }

    fun deleteManyAsync(ids: List<String>, allOrNone: Boolean) = calls.future { deleteMany(ids, allOrNone) }

    fun compositeAsync(subrequests: List<Subrequest>, allOrNone: Boolean) =
        calls.future { composite(subrequests, allOrNone) }

    fun describeAsync(sobject: String) = calls.future { describe(sobject) }

    fun describeGlobalAsync() = calls.future { describeGlobal() }

    fun limitsAsync() = calls.future { limits() }

    fun queueAsync(path: Path, options: QueueOptions) = calls.future { queue(path, options) }
}
