package io.sfscale

import io.sfscale.ffi.ErrorInfo
import io.sfscale.ffi.FfiException
import io.sfscale.ffi.JsonListener
import io.sfscale.ffi.RowBatch
import io.sfscale.ffi.RowSource
import java.lang.System.Logger.Level
import java.time.Duration
import java.util.concurrent.CompletableFuture
import java.util.function.Consumer
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.future.future

/*
 * The seam between the generated layer (io.sfscale.ffi) and the public Kotlin/Java API:
 * errors, listeners and row sources translated in one place.
 */

/** The public exception for a core error. */
internal fun ErrorInfo.toException(): SfscaleException = SfscaleException.of(
    SfscaleException.Details(kind, code, reason, status, fields, row, retryable, operation, sobject, text),
)

/** Runs a native call, turning the core's error into its [SfscaleException] subclass. */
internal inline fun <T> native(call: () -> T): T =
    try {
        call()
    } catch (e: FfiException.Core) {
        throw e.info.toException()
    }

/** The error the core reports for a closed client or queue. */
internal fun closedError(what: String): SfscaleException =
    io.sfscale.ffi.makeError("InvalidInput", "INVALID_INPUT", "the $what is closed").toException()

/**
 * Where the `...Async` forms run: a scope the client owns. A client that is closed answers with
 * a future failed with the core's "closed" error, rather than one cancelled by the closed scope.
 */
internal class Calls(private val scope: CoroutineScope, private val closed: () -> Boolean) {
    fun <T> future(block: suspend CoroutineScope.() -> T): CompletableFuture<T> =
        if (closed()) CompletableFuture.failedFuture(closedError("client")) else scope.future(block = block)
}

/** Milliseconds of a duration, for the native layer. */
internal fun Duration.millis(): Long = toMillis()

private val log: System.Logger = System.getLogger("io.sfscale")

/** Delivers JSON documents from the core to a user's consumer; a throwing consumer is logged, not fatal. */
internal class ConsumerListener<T>(
    private val consumer: Consumer<in T>,
    private val decode: (String) -> T,
) : JsonListener {
    override fun onJson(json: String) {
        try {
            consumer.accept(decode(json))
        } catch (t: Throwable) {
            log.log(Level.WARNING, "an sfscale listener threw; delivery goes on", t)
        }
    }
}

/** A listener of JSON objects. */
internal fun mapListener(consumer: Consumer<in Map<String, Any?>>): JsonListener =
    ConsumerListener(consumer, SalesforceJson::decodeObject)

/**
 * The caller's rows, pulled by the core a batch at a time (see the native `bulk` module). An
 * exception from the caller's iterator (or a value that cannot be encoded) is kept in
 * [failure] and reported to the core as a failed batch; the caller gets their own exception.
 */
internal class IteratorSource(private val rows: Iterator<Map<String, *>>) : RowSource {
    @Volatile
    var failure: Throwable? = null
        private set
    private var row = 0L

    override fun nextBatch(): RowBatch {
        val out = StringBuilder("[")
        var n = 0
        try {
            while (n < BATCH && rows.hasNext()) {
                if (n > 0) out.append(',')
                out.append(SalesforceJson.encodeRecord(rows.next(), row))
                row++
                n++
            }
        } catch (t: Throwable) {
            failure = t
            return RowBatch("[]", true, true)
        }
        return RowBatch(out.append(']').toString(), !rows.hasNext(), false)
    }

    private companion object {
        /** Rows per pull. */
        const val BATCH = 1000
    }
}
