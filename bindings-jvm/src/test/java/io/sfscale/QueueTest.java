package io.sfscale;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The durable write-behind queue from Java. */
class QueueTest extends EmulatorTest {
    @TempDir
    Path tmp;

    @Test
    void writesAreCoalescedAndEveryOutcomeIsReported() {
        List<Map<String, Object>> outcomes = new CopyOnWriteArrayList<>();
        try (SfscaleClient client = emu.client()) {
            SfscaleQueue queue = client.queue(tmp.resolve("queue.sqlite"));
            try (queue) {
                queue.onOutcome(outcomes::add);
                List<Long> tickets = new ArrayList<>();
                for (int i = 0; i < 500; i++) {
                    tickets.add(queue.enqueue("Account", "upsert",
                            Map.of("Name", "q-" + i, "External_Id__c", "q-" + i), "External_Id__c", null));
                }
                assertEquals(500, new HashSet<>(tickets).size());
                assertEquals(tickets.stream().sorted().toList(), tickets);
                queue.flush();
                assertEquals(0L, queue.stats().get("depth"));
            }
            assertEquals(500, stat("records.Account"));
            assertTrue(stat("api_requests") < 100, "500 writes coalesced, not one call each");
            waitFor(() -> outcomes.size() == 500, "every outcome");
            assertTrue(outcomes.stream().allMatch(o -> "delivered".equals(((Map<?, ?>) o.get("outcome")).get("kind"))));
            assertThrows(SfscaleException.class, () -> queue.enqueue("Account", "insert", Map.of("Name", "late")));
        }
    }

    @Test
    void refusedWritesBecomeDeadLettersAndReplay() {
        try (SfscaleClient client = emu.client();
                SfscaleQueue queue = client.queue(tmp.resolve("queue.sqlite"),
                        new QueueOptions().linger(Duration.ofMillis(10)))) {
            queue.enqueue("Account", "insert", Map.of("Description", "no name"));
            queue.flush();
            List<Map<String, Object>> letters = queue.deadLetters(0, 100);
            assertEquals(1, letters.size());
            Map<String, Object> letter = letters.get(0);
            assertEquals("REQUIRED_FIELD_MISSING", ((Map<?, ?>) letter.get("error")).get("code"));
            assertEquals(1L, queue.stats().get("dead_letters"));
            queue.replay((Long) letter.get("ticket"), Map.of("Name", "fixed", "Description", "now named"));
            queue.flush();
            assertEquals(List.of(), queue.deadLetters(0, 100));
        }
        assertEquals(1, stat("records.Account"));
    }

    @Test
    void asyncEnqueuesThenFlush() {
        try (SfscaleClient client = emu.client();
                SfscaleQueue queue = client.queueAsync(tmp.resolve("queue.sqlite"),
                        new QueueOptions().linger(Duration.ofMillis(10))).join()) {
            List<CompletableFuture<Long>> accepted = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                accepted.add(queue.enqueueAsync("Account", "insert", Map.of("Name", "a-" + i), null, null));
            }
            CompletableFuture.allOf(accepted.toArray(CompletableFuture[]::new))
                    .thenCompose(all -> queue.flushAsync())
                    .join();
            assertEquals(50L, queue.stats().get("delivered"));
        }
        assertEquals(50, stat("records.Account"));
    }

    @Test
    void badQueueOptionsAreNamed() {
        try (SfscaleClient client = emu.client()) {
            SfscaleException.Config e = assertThrows(SfscaleException.Config.class,
                    () -> client.queue(tmp.resolve("q.sqlite"), new QueueOptions().batchSize(-1)));
            assertTrue(e.getMessage().contains("batch_size"), e.getMessage());
        }
    }
}
