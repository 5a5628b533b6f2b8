package io.sfscale;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A started {@code sfscale-emulator} process (built by Maven before the tests; path in the
 * {@code sfscale.emulator} system property) and its control API ({@code /__emulator/...}).
 */
public final class Emulator implements AutoCloseable {
    public static final String CLIENT_ID = "sfscale-emulator-client";
    public static final String CLIENT_SECRET = "sfscale-emulator-secret";
    public static final String USERNAME = "integration@sfscale.test";
    public static final String PASSWORD = "sfscale-password";

    private final Process process;
    private final String url;

    /** Starts an emulator on a free port and waits for its ready line. */
    public Emulator() {
        try {
            process = new ProcessBuilder(binary(), "--port", "0")
                    .redirectError(ProcessBuilder.Redirect.DISCARD)
                    .start();
            BufferedReader out = new BufferedReader(
                    new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
            String ready = out.readLine();
            if (ready == null || !ready.contains("http://")) {
                process.destroyForcibly();
                throw new IllegalStateException("the emulator did not print its ready line: " + ready);
            }
            url = ready.substring(ready.indexOf("http://")).trim().replaceAll("/$", "");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The emulator binary. */
    public static String binary() {
        String path = System.getProperty("sfscale.emulator");
        if (path == null) {
            throw new IllegalStateException("run the tests through Maven (sfscale.emulator is not set)");
        }
        return path;
    }

    /** The workspace root (tests/scenarios, emulator fixtures). */
    public static Path workspace() {
        return Path.of(System.getProperty("sfscale.workspace", "..")).toAbsolutePath().normalize();
    }

    /** The emulator's test JWT key. */
    public static Path jwtKey() {
        return workspace().resolve("emulator/fixtures/jwt/private.pem");
    }

    public String url() {
        return url;
    }

    /** A builder for this emulator: client credentials, quick test backoff. */
    public SfscaleBuilder builder() {
        return SfscaleClient.builder()
                .instanceUrl(url)
                .clientId(CLIENT_ID)
                .clientSecret(CLIENT_SECRET)
                .retryBackoff(Duration.ofMillis(2), Duration.ofMillis(50));
    }

    /** A Java client for this emulator. */
    public SfscaleClient client() {
        return builder().build();
    }

    /** Calls a control endpoint; its JSON answer (null when empty). */
    public Object control(String method, String path, Object body) {
        String json = body == null ? "" : SalesforceJson.encode(body);
        HttpRequest request = HttpRequest.newBuilder(URI.create(url + "/__emulator/" + path))
                .timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json")
                .method(method, body == null
                        ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(json))
                .build();
        try {
            // A client per call: reset closes the emulator's connections, and a pooled one would be stale.
            HttpClient http = HttpClient.newBuilder()
                    .proxy(HttpClient.Builder.NO_PROXY)
                    .version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(Duration.ofSeconds(10))
                    .build();
            HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() >= 300) {
                throw new IllegalStateException(method + " " + path + ": " + response.statusCode() + " " + response.body());
            }
            return response.body().isBlank() ? null : SalesforceJson.decode(response.body());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @SuppressWarnings("unchecked")
    public Map<String, Object> stats() {
        return (Map<String, Object>) control("GET", "stats", null);
    }

    /** Clears data, counters and faults; a generous daily allocation. */
    public Emulator reset() {
        control("POST", "reset", Map.of());
        limits(Map.of("daily_api_requests", 100_000));
        return this;
    }

    public void load(String object, List<Map<String, Object>> records) {
        control("POST", "load", Map.of("object", object, "records", records));
    }

    public void faults(Map<String, ?> body) {
        control("PUT", "faults", body);
    }

    public void limits(Map<String, ?> body) {
        control("PUT", "limits", body);
    }

    public void expireSessions() {
        control("POST", "expire-sessions", Map.of());
    }

    /** A counter from the stats document by dotted path (0 when absent). */
    public static long counter(Map<String, Object> stats, String path) {
        Object node = stats;
        for (String key : path.split("\\.")) {
            node = node instanceof Map<?, ?> m ? m.get(key) : null;
        }
        return node instanceof Number n ? n.longValue() : 0;
    }

    /** {@code n} Accounts named {@code prefix-i} with {@code External_Id__c} = {@code prefix-i}. */
    public static List<Map<String, Object>> accounts(String prefix, int n) {
        List<Map<String, Object>> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            Map<String, Object> record = new LinkedHashMap<>();
            record.put("Name", prefix + "-" + i);
            record.put("External_Id__c", prefix + "-" + i);
            out.add(record);
        }
        return out;
    }

    /** Stops the process (killing it if it does not stop in time). */
    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }
}
