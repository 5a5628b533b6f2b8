package io.sfscale

import io.sfscale.ffi.IngestOptions as NativeIngestOptions
import io.sfscale.ffi.QueueOptions as NativeQueueOptions
import java.nio.file.Path
import java.time.Duration
import java.util.function.Consumer

/**
 * Knobs of a Bulk API 2.0 ingest run; every one unset keeps the core's default.
 * `IngestOptions().externalId("Ext__c").maxParallelJobs(4).onProgress { println(it) }`.
 */
class IngestOptions {
    internal var native = NativeIngestOptions(null, null, false, null, null, null, null, null, null, null, null)
        private set
    internal var progress: Consumer<in Map<String, @JvmSuppressWildcards Any?>>? = null
        private set

    private fun set(change: NativeIngestOptions.() -> NativeIngestOptions) = apply { native = native.change() }

    /** External id field (required for upsert). */
    fun externalId(field: String) = set { copy(externalId = field) }

    /** Parent column to group rows by, so one parent's children share a job (lock-aware). */
    fun groupBy(column: String) = set { copy(groupBy = column) }

    /** No grouping at all. */
    fun noGrouping() = set { copy(noGrouping = true) }

    /** A run id of your choosing, for [CoroutineBulk.resume]. */
    fun runId(id: String) = set { copy(runId = id) }

    /** Jobs in flight at once. */
    fun maxParallelJobs(n: Long) = set { copy(maxParallelJobs = n) }

    /** Rows per job. */
    fun maxRowsPerJob(n: Long) = set { copy(maxRowsPerJob = n) }

    /** Upload bytes per job. */
    fun maxUploadBytes(n: Long) = set { copy(maxUploadBytes = n) }

    /** Lock-retry rounds after the first pass. */
    fun lockRetryRounds(n: Int) = set { copy(lockRetryRounds = n) }

    /** Job polling: first wait and longest wait. */
    fun pollInterval(initial: Duration, max: Duration) =
        set { copy(pollInitialMs = initial.millis(), pollMaxMs = max.millis()) }

    /** Stop waiting after this long; the result says `complete = false` and the run resumes later. */
    fun deadline(deadline: Duration) = set { copy(deadlineMs = deadline.millis()) }

    /** Progress reports (the core's `Progress` fields), from a thread of their own. */
    fun onProgress(listener: Consumer<in Map<String, @JvmSuppressWildcards Any?>>) = apply { progress = listener }
}

/** Knobs of a write-behind queue; every one unset keeps the core's default. */
class QueueOptions {
    internal var native = NativeQueueOptions(
        null, null, null, null, null, false, null, null, null, null, null, null, null, null,
    )
        private set

    private fun set(change: NativeQueueOptions.() -> NativeQueueOptions) = apply { native = native.change() }

    /** Journal durability: `true` syncs every write to disk (`full`), `false` lets the OS batch (`normal`). */
    fun syncFull(full: Boolean) = set { copy(sync = if (full) "full" else "normal") }

    /** Records per Collections call. */
    fun batchSize(n: Long) = set { copy(batchSize = n) }

    /** How long a partial batch waits for more writes. */
    fun linger(linger: Duration) = set { copy(lingerMs = linger.millis()) }

    /** Whether writes with the same key collapse into the latest. */
    fun collapseSameKey(collapse: Boolean) = set { copy(collapseSameKey = collapse) }

    /** Pending writes from which a Bulk job is used. */
    fun bulkThreshold(rows: Long) = set { copy(bulkThreshold = rows) }

    /** Never use Bulk. */
    fun noBulk() = set { copy(noBulk = true) }

    /** Rows per Bulk job. */
    fun bulkMaxRows(rows: Long) = set { copy(bulkMaxRows = rows) }

    /** Bulk work directory. */
    fun bulkDir(dir: Path) = set { copy(bulkDir = dir.toString()) }

    /** Accepted writes not yet settled, at most. */
    fun maxPending(n: Long) = set { copy(maxPending = n) }

    /** When full: wait for room (`false`, the default) or fail fast with `Backpressure` (`true`). */
    fun failWhenFull(fail: Boolean) = set { copy(whenFull = if (fail) "fail" else "wait") }

    /** Worker tasks. */
    fun workers(n: Long) = set { copy(workers = n) }

    /** Retry backoff base and cap. */
    fun retryBackoff(base: Duration, cap: Duration) =
        set { copy(retryBackoffBaseMs = base.millis(), retryBackoffCapMs = cap.millis()) }

    /** Priority of the queue's calls. */
    fun priority(priority: Priority) = set { copy(priority = priority.wire) }
}
