package io.sfscale

import java.lang.System.Logger.Level
import java.util.function.Consumer

/**
 * The core's log events (token refreshes, limit thresholds, retries, bulk job states...) in
 * JVM logging. Nothing is forwarded until asked:
 *
 * ```java
 * SfscaleLogging.forwardToSystemLogger(System.Logger.Level.INFO); // loggers named "sfscale.tokens", ...
 * ```
 *
 * `System.Logger` reaches `java.util.logging` by default, and SLF4J/Log4j with their platform
 * logging bridges. Records are delivered from a thread of their own; messages never contain
 * tokens or secrets.
 */
object SfscaleLogging {
    /** Forwards events at [level] and above to `System.getLogger(target)`. */
    @JvmStatic
    fun forwardToSystemLogger(level: Level) = forwardTo(level) { record ->
        System.getLogger(record["target"] as String).log(jvmLevel(record["level"] as String), record["message"] as String)
    }

    /**
     * Forwards events at [level] and above to [consumer] as maps with `target`
     * (`sfscale.tokens`), `level` (`INFO`) and `message`. Replaces an earlier destination.
     */
    @JvmStatic
    fun forwardTo(level: Level, consumer: Consumer<in Map<String, @JvmSuppressWildcards Any?>>) =
        native { io.sfscale.ffi.forwardLogs(mapListener(consumer), coreLevel(level)) }

    /** Stops forwarding. */
    @JvmStatic
    fun stop() = io.sfscale.ffi.stopForwardingLogs()

    private fun coreLevel(level: Level): String = when (level) {
        Level.ALL, Level.TRACE -> "TRACE"
        Level.DEBUG -> "DEBUG"
        Level.INFO -> "INFO"
        Level.WARNING -> "WARN"
        Level.ERROR, Level.OFF -> "ERROR"
    }

    private fun jvmLevel(level: String): Level = when (level) {
        "TRACE" -> Level.TRACE
        "DEBUG" -> Level.DEBUG
        "WARN" -> Level.WARNING
        "ERROR" -> Level.ERROR
        else -> Level.INFO
    }
}
