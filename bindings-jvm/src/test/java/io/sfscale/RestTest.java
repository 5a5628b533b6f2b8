package io.sfscale;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The Java client's REST operations (blocking forms) against the emulator. */
class RestTest extends EmulatorTest {
    @Test
    void createGetUpdateDeleteRoundTrip() {
        try (SfscaleClient client = emu.client()) {
            String id = client.create("Account", Map.of("Name", "Acme", "NumberOfEmployees", 12));
            assertEquals(18, id.length());
            Map<String, Object> record = client.get("Account", id, List.of("Name", "NumberOfEmployees"));
            assertEquals("Acme", record.get("Name"));
            assertEquals(12L, record.get("NumberOfEmployees"));
            client.update("Account", id, Map.of("Name", "Acme 2"));
            assertEquals("Acme 2", client.get("Account", id, List.of()).get("Name"));
            client.delete("Account", id);
            SfscaleException.NotFound gone =
                    assertThrows(SfscaleException.NotFound.class, () -> client.get("Account", id, List.of()));
            assertEquals(404, gone.getStatus().getAsInt());
        }
    }

    @Test
    void upsertCreatesThenUpdates() {
        try (SfscaleClient client = emu.client()) {
            UpsertResult first = client.upsert("Account", "External_Id__c", "ext-1", Map.of("Name", "One"));
            UpsertResult second = client.upsert("Account", "External_Id__c", "ext-1", Map.of("Name", "Again"));
            assertTrue(first.getCreated());
            assertFalse(second.getCreated());
            assertEquals(first.getId(), second.getId());
        }
    }

    @Test
    void queryStreamsEveryPageLazily() {
        emu.load("Account", Emulator.accounts("page", 450));
        try (SfscaleClient client = emu.builder().queryBatchSize(200).build();
                Stream<Map<String, Object>> rows = client.query("SELECT Id, Name FROM Account")) {
            List<String> names = rows.map(r -> (String) r.get("Name")).sorted().collect(Collectors.toList());
            List<String> expected = IntStream.range(0, 450).mapToObj(i -> "page-" + i).sorted().toList();
            assertEquals(expected, names);
        }
        assertTrue(stat("requests_by_route.query") >= 3);
    }

    @Test
    void closingTheStreamStopsFetching() {
        emu.load("Account", Emulator.accounts("early", 1000));
        try (SfscaleClient client = emu.builder().queryBatchSize(200).build()) {
            long before = stat("requests_by_route.query");
            try (Stream<Map<String, Object>> rows = client.query("SELECT Id FROM Account")) {
                Iterator<Map<String, Object>> it = rows.iterator();
                assertTrue(it.next().containsKey("Id"));
            }
            // The page being read, and at most the next one (asked for while the first was handed over).
            assertTrue(stat("requests_by_route.query") - before <= 2);
        }
    }

    @Test
    void aFailedQueryThrowsItsFamilyAndQueryAllSeesDeleted() {
        try (SfscaleClient client = emu.client()) {
            SfscaleException.InvalidInput bad = assertThrows(SfscaleException.InvalidInput.class,
                    () -> client.query("SELECT Nope__c FROM Account").count());
            assertEquals(400, bad.getStatus().getAsInt());
            String id = client.create("Account", Map.of("Name", "deleted soon"));
            client.delete("Account", id);
            assertEquals(0, client.query("SELECT Id FROM Account").count());
            try (Stream<Map<String, Object>> all = client.queryAll("SELECT Id, IsDeleted FROM Account")) {
                assertEquals(List.of(true), all.map(r -> r.get("IsDeleted")).toList());
            }
        }
    }

    @Test
    void queryCachedLoadsOnce() {
        emu.load("Account", Emulator.accounts("ref", 3));
        try (SfscaleClient client = emu.client()) {
            String soql = "SELECT Id, Name FROM Account";
            assertEquals(3, client.queryCached(soql, Duration.ofMinutes(1)).size());
            assertEquals(3, client.queryCached(soql, Duration.ofMinutes(1)).size());
        }
        assertEquals(1, stat("requests_by_route.query"));
    }

    @Test
    void collectionsReportEveryRowWithItsError() {
        try (SfscaleClient client = emu.client()) {
            List<Map<String, Object>> rows = new ArrayList<>(Emulator.accounts("c", 250));
            rows.set(7, Map.of("External_Id__c", "c-7")); // Name is required
            List<RecordResult> results = client.createMany("Account", rows, false);
            assertEquals(250, results.size());
            List<RecordResult> failed = results.stream().filter(r -> !r.getSuccess()).toList();
            assertEquals(1, failed.size());
            assertEquals(7, failed.get(0).getIndex());
            SfscaleException error = failed.get(0).getError();
            assertNotNull(error);
            assertEquals(7, error.getRow().getAsLong());
            assertEquals(failed.get(0).getErrors().get(0).get("statusCode"), error.getCode());
            List<String> ids = results.stream().filter(RecordResult::getSuccess).map(RecordResult::getId).toList();
            List<Map<String, Object>> renames = new ArrayList<>();
            ids.subList(0, 5).forEach(id -> renames.add(Map.of("Id", id, "Name", "renamed")));
            assertTrue(client.updateMany("Account", renames, false).stream().allMatch(RecordResult::getSuccess));
            List<RecordResult> upserted = client.upsertMany(
                    "Account", "External_Id__c", List.of(Map.of("External_Id__c", "c-1", "Name", "again")), false);
            assertEquals(Boolean.FALSE, upserted.get(0).getCreated());
            List<RecordResult> deleted = client.deleteMany(ids, false);
            assertEquals(249, deleted.size());
            assertTrue(deleted.stream().allMatch(RecordResult::getSuccess));
        }
    }

    @Test
    void compositeRunsSubrequestsWithReferences() {
        try (SfscaleClient client = emu.client()) {
            List<SubResponse> responses = client.composite(List.of(
                    new Subrequest("POST", "sobjects/Account", "acct", Map.of("Name", "Parent")),
                    new Subrequest("GET", "sobjects/Account/@{acct.id}", "read")), false);
            assertEquals(List.of(201, 200), responses.stream().map(SubResponse::getStatus).toList());
            assertEquals("Parent", ((Map<?, ?>) responses.get(1).getBody()).get("Name"));
        }
    }

    @Test
    void describeIsCachedAndLimitsAreRead() {
        try (SfscaleClient client = emu.client()) {
            Map<String, Object> described = client.describe("Account");
            List<?> fields = (List<?>) described.get("fields");
            assertTrue(fields.stream().anyMatch(f -> "Name".equals(((Map<?, ?>) f).get("name"))));
            client.describe("Account");
            assertTrue(stat("requests_by_route.describe") <= 1);
            List<?> sobjects = (List<?>) client.describeGlobal().get("sobjects");
            assertTrue(sobjects.stream().anyMatch(o -> "Account".equals(((Map<?, ?>) o).get("name"))));
            Limit daily = client.limits().get("DailyApiRequests");
            assertEquals(100_000, daily.getMax());
            assertTrue(daily.getRemaining() > 0 && daily.getRemaining() <= 100_000);
        }
    }

    @Test
    void metricsPrometheusEventsAndTokenGrants() {
        List<Map<String, Object>> events = new CopyOnWriteArrayList<>();
        emu.limits(Map.of("daily_api_requests", 20));
        try (SfscaleClient client = emu.builder().paceBand(0.0).build()) {
            client.onEvent(events::add);
            for (int i = 0; i < 12; i++) {
                client.create("Account", Map.of("Name", "m-" + i));
            }
            Map<?, ?> requests = (Map<?, ?>) client.metrics().get("requests");
            long total = requests.values().stream()
                    .flatMap(byStatus -> ((Map<?, ?>) byStatus).values().stream())
                    .mapToLong(n -> ((Number) n).longValue())
                    .sum();
            assertTrue(total >= 12, "requests counted: " + total);
            assertTrue(client.prometheus().contains("sfscale_"));
            waitFor(() -> events.stream().anyMatch(e -> "limit_threshold".equals(e.get("kind"))),
                    "a limit threshold event");
            assertEquals(1, client.tokenGrants());
        }
    }

    @Test
    void aThrowingListenerDoesNotStopDelivery() {
        List<Object> seen = new CopyOnWriteArrayList<>();
        emu.limits(Map.of("daily_api_requests", 20));
        try (SfscaleClient client = emu.builder().paceBand(0.0).build()) {
            client.onEvent(e -> {
                seen.add(e.get("kind"));
                throw new IllegalStateException("listener bug");
            });
            for (int i = 0; i < 12; i++) {
                client.create("Account", Map.of("Name", "t-" + i));
            }
            waitFor(() -> seen.size() >= 2, "events after a throwing listener");
        }
    }

    @Test
    void closedClientRefusesCalls() {
        SfscaleClient client = emu.client();
        client.limits();
        client.close();
        SfscaleException e = assertThrows(SfscaleException.InvalidInput.class, client::limits);
        assertTrue(e.getMessage().contains("closed"));
        client.close(); // closing twice is harmless
    }

    @Test
    void prioritiesAndLongRunningHandlesShareTheClient() {
        try (SfscaleClient client = emu.client()) {
            client.withPriority(Priority.CRITICAL).create("Account", Map.of("Name", "urgent"));
            assertEquals(1, client.longRunning().query("SELECT Id FROM Account").count());
            client.withPriority(Priority.BACKGROUND).limits();
            assertEquals(1, client.tokenGrants());
        }
    }

    @Test
    void writeIsTheAutoWrite() {
        try (SfscaleClient client = emu.client()) {
            List<Map<String, Object>> rows = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                Map<String, Object> row = new HashMap<>();
                row.put("Name", "cw-" + i);
                rows.add(row);
            }
            Map<String, Object> report = client.write("Account", "insert", rows);
            assertEquals("collections", report.get("method"));
            assertEquals(3L, report.get("succeeded"));
        }
        assertEquals(3, stat("records.Account"));
    }

    @Test
    void fromEnvironmentSettingsGivenInTheBuilderWin() {
        // The builder's values come first; the environment fills the rest (none set here).
        SfscaleBuilder builder = SfscaleBuilder.fromEnv()
                .instanceUrl(emu.url())
                .clientId(Emulator.CLIENT_ID)
                .clientSecret(Emulator.CLIENT_SECRET);
        try (SfscaleClient client = builder.build()) {
            assertInstanceOf(Limit.class, client.limits().get("DailyApiRequests"));
        }
    }
}
