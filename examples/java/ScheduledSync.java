import io.sfscale.Limit;
import io.sfscale.Priority;
import io.sfscale.RecordResult;
import io.sfscale.SfscaleClient;
import io.sfscale.SfscaleException;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * A service-style scheduled sync: every tick, the customers changed in a source system are
 * upserted into Salesforce by external id, while the org's remaining daily allocation is read
 * in parallel; the two futures are composed into one line of log per round. The client runs at
 * background priority, so it leaves the org's reserve to interactive integrations.
 *
 * <p>Run against a real org ({@code SFSCALE_*} variables) or the local emulator, which the
 * program then starts and stops itself:
 *
 * <pre>
 * java -cp "bindings-jvm/target/sfscale-0.1.0.jar:$(cat bindings-jvm/target/classpath.txt)" \
 *     examples/java/ScheduledSync.java --emulator target/debug/sfscale-emulator --rounds 3
 * </pre>
 *
 * Exit code 0: every round synced every customer; 1: something failed.
 */
public final class ScheduledSync {
    private static final int CUSTOMERS_PER_ROUND = 250;

    public static void main(String[] args) throws Exception {
        String emulator = option(args, "--emulator", System.getenv("SFSCALE_EMULATOR_BIN"));
        int rounds = Integer.parseInt(option(args, "--rounds", "3"));
        Duration every = Duration.ofMillis(Long.parseLong(option(args, "--every-ms", "200")));
        Process process = emulator == null ? null : start(emulator);
        try (SfscaleClient client = connect(process)) {
            System.exit(run(client.withPriority(Priority.BACKGROUND), rounds, every) ? 0 : 1);
        } finally {
            if (process != null) {
                process.destroy();
                process.waitFor(30, TimeUnit.SECONDS);
            }
        }
    }

    /** Runs {@code rounds} syncs, one per tick; whether every customer landed. */
    static boolean run(SfscaleClient client, int rounds, Duration every) throws InterruptedException {
        client.onEvent(event -> System.out.println("  event: " + event.get("kind")));
        ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
        CountDownLatch done = new CountDownLatch(rounds);
        AtomicInteger round = new AtomicInteger();
        AtomicLong failures = new AtomicLong();
        // One round at a time: the next tick starts only after this round's futures completed.
        Runnable tick = new Runnable() {
            @Override
            public void run() {
                int n = round.getAndIncrement();
                syncRound(client, n)
                        .whenComplete((failed, error) -> {
                            failures.addAndGet(error != null ? CUSTOMERS_PER_ROUND : failed);
                            if (error != null) {
                                System.out.println("round " + n + " failed: " + error.getCause());
                            }
                            done.countDown();
                            if (n + 1 < rounds) {
                                scheduler.schedule(this, every.toMillis(), TimeUnit.MILLISECONDS);
                            }
                        });
            }
        };
        scheduler.execute(tick);
        done.await();
        scheduler.shutdown();
        try (Stream<Map<String, Object>> synced =
                client.query("SELECT Id FROM Account WHERE External_Id__c LIKE 'CUST-%'")) {
            System.out.printf("synced accounts: %d, failed rows: %d, API calls: %s, token grants: %d%n",
                    synced.count(), failures.get(), requests(client), client.tokenGrants());
        }
        return failures.get() == 0;
    }

    /** One round: upsert the changed customers and read the limits, composed; the failed row count. */
    static CompletableFuture<Long> syncRound(SfscaleClient client, int round) {
        List<Map<String, Object>> changed = changedCustomers(round);
        CompletableFuture<List<RecordResult>> upserted =
                client.upsertManyAsync("Account", "External_Id__c", changed, false);
        CompletableFuture<Map<String, Limit>> limits = client.limitsAsync();
        return upserted.thenCombine(limits, (results, org) -> {
            long failed = results.stream().filter(r -> !r.getSuccess()).count();
            results.stream().map(RecordResult::getError).filter(e -> e != null).limit(3)
                    .forEach(e -> System.out.println("  row " + e.getRow().orElse(-1) + ": " + e.getCode()));
            Limit daily = org.get("DailyApiRequests");
            System.out.printf("round %d: %d upserted, %d failed, daily API remaining %d of %d%n",
                    round, results.size() - failed, failed, daily.getRemaining(), daily.getMax());
            return failed;
        });
    }

    /** What a source system would report as changed since the last tick (typed values included). */
    static List<Map<String, Object>> changedCustomers(int round) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (int i = 0; i < CUSTOMERS_PER_ROUND; i++) {
            int customer = (round * 150 + i) % 500; // rounds overlap: updates as well as inserts
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("External_Id__c", "CUST-" + customer);
            row.put("Name", "Customer " + customer);
            row.put("AnnualRevenue", new BigDecimal("1000.50").multiply(BigDecimal.valueOf(customer + 1)));
            row.put("NumberOfEmployees", customer % 90 + 1);
            row.put("Description", "synced " + Instant.parse("2026-01-01T00:00:00Z").plusSeconds(round * 60L)
                    + " (customer since " + LocalDate.of(2020, 1, 1).plusDays(customer) + ")");
            out.add(row);
        }
        return out;
    }

    private static Object requests(SfscaleClient client) {
        Object requests = client.metrics().get("requests");
        if (!(requests instanceof Map<?, ?> byOperation)) {
            return "?";
        }
        return byOperation.values().stream()
                .flatMap(byStatus -> ((Map<?, ?>) byStatus).values().stream())
                .mapToLong(n -> ((Number) n).longValue())
                .sum();
    }

    private static SfscaleClient connect(Process emulator) throws Exception {
        if (emulator == null) {
            return SfscaleClient.fromEnv();
        }
        BufferedReader out = new BufferedReader(new InputStreamReader(emulator.getInputStream(), StandardCharsets.UTF_8));
        String ready = out.readLine();
        if (ready == null || !ready.contains("http")) {
            throw new IllegalStateException("the emulator did not start: " + ready);
        }
        String url = ready.substring(ready.indexOf("http")).trim();
        try {
            return SfscaleClient.builder()
                    .instanceUrl(url)
                    .clientId("sfscale-emulator-client")
                    .clientSecret("sfscale-emulator-secret")
                    .build();
        } catch (SfscaleException e) {
            throw new IllegalStateException("bad configuration: " + e.getMessage(), e);
        }
    }

    private static Process start(String binary) throws Exception {
        return new ProcessBuilder(binary, "--port", "0").redirectError(ProcessBuilder.Redirect.INHERIT).start();
    }

    private static String option(String[] args, String name, String fallback) {
        for (int i = 0; i + 1 < args.length; i++) {
            if (args[i].equals(name)) {
                return args[i + 1];
            }
        }
        return fallback;
    }
}
