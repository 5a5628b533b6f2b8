package io.sfscale

import io.sfscale.ffi.NativeRecords
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.flow
import kotlinx.coroutines.runBlocking
import java.util.concurrent.CompletableFuture
import java.util.concurrent.atomic.AtomicBoolean

/**
 * A query's records, a page at a time (REST query across `nextRecordsUrl`, or a Bulk query
 * across locators). A page is what the core has in memory; the next is fetched when asked
 * for, so memory stays bounded whatever the result size. After the last page, or the first
 * error, [nextPage] returns null for good. [close] ends the query early.
 */
class RecordPages internal constructor(
    private val native: NativeRecords,
    private val calls: Calls,
) : AutoCloseable {
    private val closed = AtomicBoolean(false)

    /** The next records, or null at the end (and after [close]). */
    suspend fun nextPage(): List<Map<String, Any?>>? =
        if (closed.get()) null else native { native.nextPage() }?.let(SalesforceJson::decodeObjects)

    /** [nextPage] as a future; cancelling it cancels the fetch (and ends the query). */
    fun nextPageAsync(): CompletableFuture<List<Map<String, Any?>>?> = calls.future { nextPage() }

    /** [nextPage], blocking the calling thread. */
    fun nextPageBlocking(): List<Map<String, Any?>>? = runBlocking { nextPage() }

    /** The records as a cold [Flow] (collect it once). */
    fun records(): Flow<Map<String, Any?>> = flow {
        try {
            while (true) {
                val page = nextPage() ?: break
                page.forEach { emit(it) }
            }
        } finally {
            close()
        }
    }

    /** Ends the query; pages not yet fetched never are. Closing again does nothing. */
    override fun close() {
        if (closed.compareAndSet(false, true)) {
            native.end()
            native.destroy()
        }
    }
}
