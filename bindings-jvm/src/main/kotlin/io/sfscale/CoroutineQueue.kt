package io.sfscale

import io.sfscale.ffi.NativeQueue
import java.util.concurrent.CompletableFuture
import java.util.function.Consumer

/**
 * The core's durable write-behind queue. [enqueue] returns once the write is journaled (a
 * ticket); background workers coalesce writes into Collections calls or Bulk jobs under the
 * client's pipeline; [flush] waits for every accepted write to settle; [close] flushes and
 * stops. Writes Salesforce refuses become dead letters ([deadLetters], [replay], [discard]).
 * Operations: `insert`, `update`, `upsert` (with an external id field), `delete`.
 */
class CoroutineQueue internal constructor(
    private val native: NativeQueue,
    private val calls: Calls,
) {
    /** Accepts one write; its ticket. [key] collapses writes to one record when configured. */
    suspend fun enqueue(
        sobject: String,
        operation: String,
        record: Map<String, *>,
        externalId: String? = null,
        key: String? = null,
    ): Long = native { native.enqueue(sobject, operation, SalesforceJson.encodeRecord(record), externalId, key) }

    /** Waits until every write accepted before the call has settled (saved or dead-lettered). */
    suspend fun flush() = native { native.flush() }

    /** Flushes, then stops the workers. */
    suspend fun close() = native { native.shutdown() }

    /** Dead letters after ticket [after], at most [limit] (`ticket`, `object`, `record`, `error`, `attempts`, ...). */
    suspend fun deadLetters(after: Long = 0, limit: Long = 100): List<Map<String, Any?>> =
        SalesforceJson.decodeObjects(native { native.deadLetters(after, limit) })

    /** Sends a dead letter again, with [fixed] replacing its record; the new ticket. */
    suspend fun replay(ticket: Long, fixed: Map<String, *>? = null): Long =
        native { native.replay(ticket, fixed?.let { SalesforceJson.encodeRecord(it) }) }

    /** Drops a dead letter; whether it existed. */
    suspend fun discard(ticket: Long): Boolean = native { native.discard(ticket) }

    /** Calls [listener] with each write's outcome, from a thread of its own. */
    fun onOutcome(listener: Consumer<in Map<String, @JvmSuppressWildcards Any?>>) = native { native.onOutcome(mapListener(listener)) }

    /** Counters: accepted, pending, saved, dead letters... */
    fun stats(): Map<String, Any?> = SalesforceJson.decodeObject(native { native.stats() })

    // CompletableFuture forms, for Java.

    fun enqueueAsync(sobject: String, operation: String, record: Map<String, *>, externalId: String?, key: String?) =
        calls.future { enqueue(sobject, operation, record, externalId, key) }

    fun flushAsync(): CompletableFuture<Void?> = calls.future { flush(); null }

    fun closeAsync(): CompletableFuture<Void?> = calls.future { close(); null }

    fun deadLettersAsync(after: Long, limit: Long) = calls.future { deadLetters(after, limit) }

    fun replayAsync(ticket: Long, fixed: Map<String, *>?) = calls.future { replay(ticket, fixed) }

    fun discardAsync(ticket: Long) = calls.future { discard(ticket) }
}
