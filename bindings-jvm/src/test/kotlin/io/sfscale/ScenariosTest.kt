package io.sfscale

import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.sync.Semaphore
import kotlinx.coroutines.sync.withPermit
import kotlinx.coroutines.withContext
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.DynamicTest
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestFactory
import java.nio.file.Files
import java.nio.file.Path
import java.time.Duration
import kotlin.io.path.extension
import kotlin.io.path.listDirectoryEntries
import kotlin.io.path.nameWithoutExtension
import kotlin.io.path.readText

/**
 * The JVM runner of the cross-language scenarios in `tests/scenarios/`*.json (format:
 * `tests/scenarios/README.md`; Rust runner `core/tests/scenarios.rs`, Python runner
 * `bindings-python/tests/test_scenarios.py`). Every file passes unchanged, with the same
 * assertions. Each scenario runs on a fresh emulator process (and, with `"baseline": true`,
 * first on another without faults). Concurrent calls are coroutines on one [CoroutineClient],
 * bounded by the step's `concurrency`.
 */
class ScenariosTest {
    private val dir: Path = Emulator.workspace().resolve("tests/scenarios")

    private fun scenarios(): List<Path> = dir.listDirectoryEntries().filter { it.extension == "json" }.sorted()

    @Test
    fun theScenarioFilesAreThere() {
        assertTrue(scenarios().size >= 4, "scenarios in $dir: ${scenarios()}")
    }

    @Test
    fun assertionsParseAndCompare() {
        val run = Run()
        run.stats = mapOf("token_grants" to mapOf("total" to 3L), "api_requests" to 110L)
        run.marks["m"] = mapOf("token_grants" to mapOf("total" to 2L))
        run.record("storm", null)
        val base = Run().apply { stats = mapOf("api_requests" to 100L) }
        for (good in listOf("token_grants.total since m == 1", "calls.storm.ok == 1", "api_requests <= 1.2 * baseline.api_requests")) {
            assertNull(check(good, run, base), good)
        }
        for (bad in listOf("token_grants.total == 1", "api_requests <= 1.05 * baseline.api_requests", "calls.ok ~ 1", "x since no == 1")) {
            assertNotNull(check(bad, run, base), bad)
        }
    }

    @TestFactory
    fun everyScenarioHolds(): List<DynamicTest> = scenarios().map { path ->
        DynamicTest.dynamicTest(path.nameWithoutExtension) {
            @Suppress("UNCHECKED_CAST")
            val scenario = SalesforceJson.decode(path.readText()) as Map<String, Any?>
            val baseline = if (scenario["baseline"] == true) runScenario(scenario, withFaults = false) else null
            val run = runScenario(scenario, withFaults = true)
            val failures = (scenario["assert"] as List<*>).mapNotNull { check(it as String, run, baseline) }
            assertEquals(emptyList<String>(), failures, "${scenario["name"]}\nstats: ${run.stats}\ncalls: ${run.calls()}")
        }
    }

    /** Final stats, stats at each mark, and client-side results of one run. */
    class Run {
        var stats: Map<String, Any?> = emptyMap()
        val marks = HashMap<String, Map<String, Any?>>()
        private val steps = LinkedHashMap<String, Results>()

        class Results {
            var ok = 0L
            var failed = 0L
            val failedByCode = HashMap<String, Long>()

            fun add(other: Results) {
                ok += other.ok
                failed += other.failed
                other.failedByCode.forEach { (code, n) -> failedByCode.merge(code, n, Long::plus) }
            }

            fun toMap(): Map<String, Any?> = mapOf("ok" to ok, "failed" to failed, "failed_by_code" to failedByCode.toMap())
        }

        @Synchronized
        fun record(step: String, error: SfscaleException?) {
            val results = steps.getOrPut(step) { Results() }
            if (error == null) {
                results.ok++
            } else {
                results.failed++
                results.failedByCode.merge(error.code, 1L, Long::plus)
            }
        }

        @Synchronized
        fun calls(): Map<String, Any?> {
            val total = Results()
            steps.values.forEach(total::add)
            return total.toMap() + steps.mapValues { it.value.toMap() }
        }
    }

    private fun builder(emu: Emulator, setup: Map<String, Any?>): SfscaleBuilder {
        val b = emu.builder()
        when (val grant = setup["grant"] ?: "client_credentials") {
            "client_credentials" -> {}
            "password" -> b.username(Emulator.USERNAME).password(Emulator.PASSWORD)
            "jwt" -> b.username(Emulator.USERNAME).privateKeyFile(Emulator.jwtKey())
            else -> error("unknown grant $grant")
        }
        (setup["reserve"] as Number?)?.let { b.reserve(it.toDouble()) }
        (setup["pace_band"] as Number?)?.let { b.paceBand(it.toDouble()) }
        (setup["long_running_cap"] as Number?)?.let { b.longRunningCap(it.toInt()) }
        (setup["retry_max_attempts"] as Number?)?.let { b.retryMaxAttempts(it.toInt()) }
        (setup["query_batch_size"] as Number?)?.let { b.queryBatchSize(it.toInt()) }
        (setup["concurrency"] as List<*>?)?.map { (it as Number).toInt() }?.let { (initial, min, max) ->
            b.concurrency(initial, min, max)
        }
        (setup["retry_backoff_ms"] as List<*>?)?.map { (it as Number).toLong() }?.let { (base, cap) ->
            b.retryBackoff(Duration.ofMillis(base), Duration.ofMillis(cap))
        }
        return b
    }

    private fun fill(template: Map<*, *>, i: Int, j: Int): Map<String, Any?> =
        template.entries.associate { (k, v) ->
            k as String to if (v is String) v.replace("{i}", "$i").replace("{j}", "$j") else v
        }

    private suspend fun oneCall(client: CoroutineClient, step: Map<String, Any?>, i: Int, work: Path) {
        val sobject = step["object"] as String?
        when (val call = step["call"]) {
            "query" -> client.query(step["soql"] as String).collect {}
            "create" -> client.create(sobject!!, fill(step["record"] as Map<*, *>, i, 0))
            "upsert" -> {
                val record = fill(step["record"] as Map<*, *>, i, 0)
                val field = step["external_id_field"] as String
                client.upsert(sobject!!, field, record[field] as String, record)
            }
            "upsert_many" -> {
                val rows = (0 until count(step, "records", 200)).map { j -> fill(step["record"] as Map<*, *>, i, j) }
                val results = client.upsertMany(sobject!!, step["external_id_field"] as String, rows)
                results.firstNotNullOfOrNull { it.error }?.let { throw it }
            }
            "limits" -> client.limits()
            "describe" -> client.describe(sobject!!)
            "bulk_ingest" -> bulkIngest(client, step, i, work)
            "queue" -> queueWrites(client, step, i, work)
            else -> error("unknown call $call")
        }
    }

    private fun count(step: Map<String, Any?>, key: String, default: Int) = (step[key] as Number?)?.toInt() ?: default

    private suspend fun bulkIngest(client: CoroutineClient, step: Map<String, Any?>, i: Int, work: Path) {
        val rows = (0 until count(step, "records", 1000)).asSequence().map { j -> fill(step["record"] as Map<*, *>, i, j) }
        val options = IngestOptions()
        (step["external_id_field"] as String?)?.let { options.externalId(it) }
        val result = client.bulk().withWorkDir(work).ingest(
            step["object"] as String,
            step["operation"] as String? ?: "insert",
            rows.iterator(),
            options,
        )
        if ((result["rows_failed"] as Number).toLong() > 0) {
            val first = (result["failures"] as List<*>).first() as Map<*, *>
            throw failure(first["error"] as Map<*, *>, (first["row"] as Number?)?.toLong(), "bulk.ingest", step["object"] as String)
        }
    }

    /** Single-record enqueues (64 in flight) on a fresh journal, then flush and close. */
    private suspend fun queueWrites(client: CoroutineClient, step: Map<String, Any?>, i: Int, work: Path) {
        val queue = client.queue(work.resolve("queue-${step["name"]}-$i.sqlite"))
        val gate = Semaphore(64)
        coroutineScope {
            (0 until count(step, "records", 1000)).map { j ->
                async {
                    gate.withPermit {
                        queue.enqueue(
                            step["object"] as String,
                            step["operation"] as String? ?: "upsert",
                            fill(step["record"] as Map<*, *>, i, j),
                            step["external_id_field"] as String?,
                        )
                    }
                }
            }.awaitAll()
        }
        queue.flush()
        val dead = queue.deadLetters(0, 1)
        queue.close()
        dead.firstOrNull()?.let { throw failure(it["error"] as Map<*, *>, null, "queue", step["object"] as String) }
    }

    /** A per-row failure report as the exception the step records. */
    private fun failure(error: Map<*, *>, row: Long?, operation: String, sobject: String): SfscaleException =
        SfscaleException.of(
            SfscaleException.Details(
                "Salesforce",
                error["code"] as String,
                error["message"] as String,
                null,
                (error["fields"] as List<*>?)?.map { it as String },
                row,
                false,
                operation,
                sobject,
                error["message"] as String,
            ),
        )

    private suspend fun runCalls(client: CoroutineClient, step: Map<String, Any?>, run: Run, work: Path) {
        var handle = client.withPriority(Priority.valueOf((step["priority"] as String? ?: "normal").uppercase()))
        if (step["long_running"] == true) handle = handle.longRunning()
        val gate = Semaphore(count(step, "concurrency", 1))
        val name = step["name"] as String
        coroutineScope {
            (0 until count(step, "count", 1)).map { i ->
                async {
                    gate.withPermit {
                        try {
                            oneCall(handle, step, i, work)
                            run.record(name, null)
                        } catch (e: SfscaleException) {
                            run.record(name, e)
                        }
                    }
                }
            }.awaitAll()
        }
    }

    @Suppress("UNCHECKED_CAST")
    private fun control(emu: Emulator, step: Map<String, Any?>, run: Run) {
        when (val kind = step["control"]) {
            "expire_sessions" -> emu.expireSessions()
            "faults" -> emu.faults(step["body"] as Map<String, *>)
            "limits" -> emu.limits(step["body"] as Map<String, *>)
            "mark" -> run.marks[step["name"] as String] = emu.stats()
            else -> error("unknown control step $kind")
        }
    }

    @Suppress("UNCHECKED_CAST")
    private fun runScenario(scenario: Map<String, Any?>, withFaults: Boolean): Run = Emulator().use { emu ->
        val setup = scenario["emulator"] as Map<String, Any?>? ?: emptyMap()
        (setup["limits"] as Map<String, *>?)?.let(emu::limits)
        for (load in setup["load"] as List<Map<String, Any?>>? ?: emptyList()) {
            emu.load(load["object"] as String, Emulator.accounts(load["prefix"] as String, (load["count"] as Number).toInt()))
        }
        if (withFaults) (setup["faults"] as Map<String, *>?)?.let(emu::faults)
        val run = Run()
        val work = Files.createTempDirectory("sfscale-scenario")
        try {
            builder(emu, scenario["client"] as Map<String, Any?>? ?: emptyMap()).buildCoroutineClient().use { client ->
                runBlocking {
                    for (step in scenario["steps"] as List<Map<String, Any?>>) {
                        if ("control" in step) {
                            withContext(Dispatchers.IO) { control(emu, step, run) }
                        } else {
                            runCalls(client, step, run, work)
                        }
                    }
                }
            }
            run.stats = emu.stats()
        } finally {
            work.toFile().deleteRecursively()
        }
        run
    }

    private fun lookup(run: Run, path: String, stats: Map<String, Any?>? = null): Double {
        var node: Any? = if (path.startsWith("calls.")) run.calls() else stats ?: run.stats
        val keys = if (path.startsWith("calls.")) path.removePrefix("calls.") else path
        for (key in keys.split('.')) node = (node as? Map<*, *>)?.get(key)
        return (node as? Number)?.toDouble() ?: 0.0
    }

    private fun check(assertion: String, run: Run, baseline: Run?): String? {
        val tokens = assertion.split(' ')
        val (lhs, rest) = if (tokens.size >= 3 && tokens[1] == "since") {
            val mark = run.marks[tokens[2]] ?: return "no mark named ${tokens[2]}"
            lookup(run, tokens[0]) - lookup(run, tokens[0], mark) to tokens.drop(3)
        } else {
            lookup(run, tokens[0]) to tokens.drop(1)
        }
        fun base(p: String): Double =
            lookup(baseline ?: error("baseline.* needs \"baseline\": true"), p.removePrefix("baseline."))
        val (op, rhs) = when {
            rest.size == 2 -> rest[0] to if (rest[1].startsWith("baseline.")) base(rest[1]) else rest[1].toDouble()
            rest.size == 4 && rest[2] == "*" -> rest[0] to rest[1].toDouble() * base(rest[3])
            else -> return "cannot parse '$assertion'"
        }
        val holds = when (op) {
            "==" -> lhs == rhs
            "!=" -> lhs != rhs
            "<=" -> lhs <= rhs
            ">=" -> lhs >= rhs
            "<" -> lhs < rhs
            ">" -> lhs > rhs
            else -> return "unknown operator $op"
        }
        return if (holds) null else "'$assertion' failed: left side is $lhs, right side $rhs"
    }
}
