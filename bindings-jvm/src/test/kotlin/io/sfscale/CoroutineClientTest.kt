package io.sfscale

import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.flow.map
import kotlinx.coroutines.flow.take
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertThrows
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance

/** The Kotlin API: suspend functions, Flow for query results, structured cancellation. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CoroutineClientTest {
    private val emu = Emulator()

    @AfterAll
    fun stop() = emu.close()

    @BeforeEach
    fun reset() {
        emu.reset()
    }

    private fun client() = emu.builder().queryBatchSize(200).buildCoroutineClient()

    @Test
    fun suspendCallsAndFlows() = runBlocking {
        client().use { client ->
            val ids = (0 until 20).map { i -> async { client.create("Account", mapOf("Name" to "k-$i")) } }.awaitAll()
            assertEquals(20, ids.toSet().size)
            val names = client.query("SELECT Name FROM Account").map { it["Name"] as String }.toList()
            assertEquals((0 until 20).map { "k-$it" }.sorted(), names.sorted())
            assertEquals(1L, client.tokenGrants())
        }
    }

    @Test
    fun takingFromAFlowStopsTheQuery() = runBlocking {
        emu.load("Account", Emulator.accounts("f", 1000))
        client().use { client ->
            val before = Emulator.counter(emu.stats(), "requests_by_route.query")
            assertEquals(3, client.query("SELECT Id FROM Account").take(3).toList().size)
            assertTrue(Emulator.counter(emu.stats(), "requests_by_route.query") - before <= 2)
        }
    }

    @Test
    fun cancellingTheCoroutineCancelsTheRustCall() = runBlocking {
        Emulator().use { own ->
            own.builder().buildCoroutineClient().use { client ->
                client.limits()
                own.faults(mapOf("seed" to 1, "rules" to listOf(mapOf("route" to "limits", "share" to 1.0, "effect" to "delay:30000"))))
                val job = launch { client.limits() }
                while (Emulator.counter(own.stats(), "in_flight") < 1) kotlinx.coroutines.delay(10)
                job.cancel()
                job.join()
                withTimeout(20_000) {
                    while (Emulator.counter(own.stats(), "in_flight") > 0) kotlinx.coroutines.delay(10)
                }
            }
        }
    }

    @Test
    fun errorsAreTheirFamilyInCoroutinesToo() {
        client().use { client ->
            val e = assertThrows(SfscaleException.InvalidInput::class.java) {
                runBlocking { client.query("SELECT Nope__c FROM Account").toList() }
            }
            assertEquals(400, e.status.asInt)
        }
    }
}
