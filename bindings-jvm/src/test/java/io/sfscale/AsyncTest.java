package io.sfscale;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;

/** CompletableFuture forms: composition, concurrency on one token, errors, cancellation. */
class AsyncTest extends EmulatorTest {
    @Test
    void futuresComposeAcrossOperations() {
        try (SfscaleClient client = emu.client()) {
            Map<String, Object> record = client.createAsync("Account", Map.of("Name", "async"))
                    .thenCompose(id -> client.updateAsync("Account", id, Map.of("Name", "async 2"))
                            .thenCompose(done -> client.getAsync("Account", id, List.of("Name"))))
                    .join();
            assertEquals("async 2", record.get("Name"));
        }
    }

    @Test
    void concurrentFuturesShareOneToken() {
        try (SfscaleClient client = emu.client()) {
            List<CompletableFuture<String>> creates = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                creates.add(client.createAsync("Account", Map.of("Name", "c-" + i)));
            }
            CompletableFuture.allOf(creates.toArray(CompletableFuture[]::new)).join();
            assertEquals(1, client.tokenGrants());
        }
        assertEquals(50, stat("records.Account"));
        assertEquals(1, stat("token_grants.total"));
    }

    @Test
    void aFailedFutureCarriesTheSfscaleException() {
        try (SfscaleClient client = emu.client()) {
            CompletionException e = assertThrows(CompletionException.class,
                    () -> client.createAsync("Account", Map.of("Description", "no name")).join());
            SfscaleException cause = assertInstanceOf(SfscaleException.InvalidInput.class, e.getCause());
            assertEquals("REQUIRED_FIELD_MISSING", cause.getCode());
        }
    }

    @Test
    void pagesAreReadWithoutBlocking() {
        emu.load("Account", Emulator.accounts("p", 450));
        try (SfscaleClient client = emu.builder().queryBatchSize(200).build();
                RecordPages pages = client.queryPages("SELECT Name FROM Account")) {
            long total = 0;
            List<Map<String, Object>> page;
            while ((page = pages.nextPageAsync().join()) != null) {
                total += page.size();
            }
            assertEquals(450, total);
            assertEquals(null, pages.nextPageAsync().join(), "an ended query stays ended");
        }
    }

    @Test
    void cancellingAFutureDropsTheRequest() {
        try (Emulator own = new Emulator(); SfscaleClient client = own.client()) {
            client.limits();
            own.faults(Map.of("seed", 1, "rules",
                    List.of(Map.of("route", "query", "share", 1.0, "effect", "delay:30000"))));
            CompletableFuture<List<Map<String, Object>>> pending =
                    client.queryCachedAsync("SELECT Id FROM Account", Duration.ofMinutes(1));
            waitFor(() -> Emulator.counter(own.stats(), "in_flight") >= 1, "the query to reach the emulator");
            assertTrue(pending.cancel(true));
            assertThrows(CancellationException.class, pending::join);
            // The Rust future was dropped: its connection closed, so the emulator's handler ended
            // long before the 30 s delay would have.
            waitFor(() -> Emulator.counter(own.stats(), "in_flight") == 0, "the cancelled request to end");
            long requests = Emulator.counter(own.stats(), "requests_by_route.query");
            client.limits(); // a later call on the same client still works
            assertEquals(requests, Emulator.counter(own.stats(), "requests_by_route.query"),
                    "the call was retried after cancel");
        }
    }

    @Test
    void closingTheClientCancelsFuturesInFlight() {
        try (Emulator own = new Emulator()) {
            SfscaleClient client = own.client();
            client.limits();
            own.faults(Map.of("seed", 1, "rules",
                    List.of(Map.of("route", "sobjects", "share", 1.0, "effect", "delay:30000"))));
            CompletableFuture<String> pending = client.createAsync("Account", Map.of("Name", "slow"));
            waitFor(() -> Emulator.counter(own.stats(), "in_flight") >= 1, "the create to reach the emulator");
            client.close();
            assertThrows(CancellationException.class, pending::join);
            waitFor(() -> Emulator.counter(own.stats(), "in_flight") == 0, "the cancelled request to end");
        }
    }
}
