package io.sfscale;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bulk API 2.0 from Java: ingest from streams, iterables and CSV files; failures by row; resume; query. */
class BulkTest extends EmulatorTest {
    @TempDir
    Path tmp;

    private static IngestOptions fastPoll() {
        return new IngestOptions().pollInterval(Duration.ofMillis(20), Duration.ofMillis(100));
    }

    private SfscaleBulk bulk(SfscaleClient client) {
        return client.bulk().withWorkDir(tmp.resolve("bulk"));
    }

    @Test
    void ingestFromAStreamMapsFailuresToRows() {
        List<Map<String, Object>> progress = new CopyOnWriteArrayList<>();
        Stream<Map<String, Object>> rows = IntStream.range(0, 3000).mapToObj(i -> i == 1234
                ? Map.<String, Object>of("External_Id__c", "no-name")
                : Map.<String, Object>of("Name", "g-" + i, "External_Id__c", "g-" + i));
        try (SfscaleClient client = emu.client()) {
            Map<String, Object> result = bulk(client).ingest("Account", "upsert", rows,
                    fastPoll().externalId("External_Id__c").onProgress(progress::add));
            assertEquals(true, result.get("complete"));
            assertEquals(List.of(3000L, 2999L, 1L),
                    List.of(result.get("rows_read"), result.get("rows_succeeded"), result.get("rows_failed")));
            Map<?, ?> failure = (Map<?, ?>) ((List<?>) result.get("failures")).get(0);
            assertEquals(1234L, failure.get("row"));
            assertEquals("REQUIRED_FIELD_MISSING", ((Map<?, ?>) failure.get("error")).get("code"));
            assertTrue(Files.exists(Path.of((String) result.get("error_file"))));
        }
        assertEquals(2999, stat("records.Account"));
        assertFalse(progress.isEmpty());
        assertEquals(3000L, progress.get(progress.size() - 1).get("rows_read"));
    }

    @Test
    void ingestFromACsvFile() throws IOException {
        StringBuilder csv = new StringBuilder("Name,External_Id__c\n");
        for (int i = 0; i < 100; i++) {
            csv.append("csv-").append(i).append(",csv-").append(i).append('\n');
        }
        Path file = Files.writeString(tmp.resolve("a.csv"), csv);
        try (SfscaleClient client = emu.client()) {
            assertEquals(100L, bulk(client).ingest("Account", "insert", file, fastPoll()).get("rows_succeeded"));
        }
        assertEquals(100, stat("records.Account"));
    }

    @Test
    void anExceptionFromTheRowsIsRethrownAsIs() {
        IllegalStateException boom = new IllegalStateException("the source database went away");
        Iterable<Map<String, Object>> rows = () -> new Iterator<>() {
            private int n;

            @Override
            public boolean hasNext() {
                return true;
            }

            @Override
            public Map<String, Object> next() {
                if (n++ == 0) {
                    return Map.of("Name", "fine");
                }
                throw boom;
            }
        };
        try (SfscaleClient client = emu.client()) {
            assertSame(boom, assertThrows(IllegalStateException.class,
                    () -> bulk(client).ingest("Account", "insert", rows, fastPoll())));
            IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                    () -> bulk(client).ingest("Account", "insert",
                            List.of(Map.of("Name", "ok"), Map.of("Name", new Object())), fastPoll()));
            assertTrue(bad.getMessage().contains("field 'Name' of row 1"), bad.getMessage());
        }
    }

    @Test
    void aRunPastItsDeadlineResumes() {
        emu.faults(Map.of("seed", 1, "rules", List.of(Map.of("route", "bulk", "share", 1.0, "effect", "delay:100"))));
        List<Map<String, Object>> rows = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            rows.add(Map.of("Name", "r-" + i));
        }
        try (SfscaleClient client = emu.client()) {
            Map<String, Object> first = bulk(client).ingest("Account", "insert", rows,
                    fastPoll().deadline(Duration.ofMillis(50)).maxRowsPerJob(100));
            assertEquals(false, first.get("complete"));
            emu.faults(Map.of("rules", List.of()));
            Map<String, Object> finished = bulk(client).resume((String) first.get("run_id"));
            assertEquals(true, finished.get("complete"));
            assertEquals(500L, finished.get("rows_succeeded"));
        }
        assertEquals(500, stat("records.Account"));
    }

    @Test
    void bulkQueryToAFileAndAsRecords() throws IOException {
        emu.load("Account", Emulator.accounts("q", 120));
        Path out = tmp.resolve("out.csv");
        try (SfscaleClient client = emu.client()) {
            Map<String, Object> summary = bulk(client).query("SELECT Id, Name FROM Account", out);
            assertEquals(120L, summary.get("rows"));
            assertEquals(121, Files.readAllLines(out).size());
            try (Stream<Map<String, Object>> records = bulk(client).query("SELECT Name FROM Account")) {
                assertEquals(120, records.map(r -> r.get("Name")).distinct().count());
            }
        }
    }

    @Test
    void writePicksTheMethodByVolume() {
        try (SfscaleClient client = emu.client()) {
            Map<String, Object> few = bulk(client).write("Account", "insert", List.of(Map.of("Name", "one")));
            List<Map<String, Object>> rows = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                rows.add(Map.of("Name", "w-" + i));
            }
            Map<String, Object> many = bulk(client).write("Account", "insert", rows);
            assertEquals("single", few.get("method"));
            assertEquals("collections", many.get("method"));
            assertEquals(300L, many.get("succeeded"));
        }
    }

    @Test
    void asyncIngestComposes() {
        try (SfscaleClient client = emu.client()) {
            Iterator<Map<String, Object>> rows = IntStream.range(0, 200)
                    .mapToObj(i -> Map.<String, Object>of("Name", "a-" + i))
                    .iterator();
            long succeeded = bulk(client).ingestAsync("Account", "insert", rows, fastPoll())
                    .thenApply(r -> (Long) r.get("rows_succeeded"))
                    .join();
            assertEquals(200L, succeeded);
        }
    }
}
