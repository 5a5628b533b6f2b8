package io.sfscale;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The error contract: every core kind maps to its own class, and real failures arrive as their family. */
class ErrorsTest extends EmulatorTest {
    @Test
    void everyCoreKindMapsToItsOwnClass() {
        List<String> kinds = io.sfscale.ffi.Sfscale_jvmKt.errorKinds();
        assertEquals(11, kinds.size(), "the core's kinds: " + kinds);
        Set<Class<?>> classes = new HashSet<>();
        for (String kind : kinds) {
            assertTrue(SfscaleException.knowsKind(kind), "no class for core kind " + kind);
            SfscaleException e = NativeKt.toException(io.sfscale.ffi.Sfscale_jvmKt.makeError(kind, "SOME_CODE", "msg"));
            assertEquals(kind, e.getKind());
            assertEquals(kind, e.getClass().getSimpleName(), "the class is named after the kind");
            assertSame(SfscaleException.class, e.getClass().getSuperclass());
            assertEquals("SOME_CODE", e.getCode());
            classes.add(e.getClass());
        }
        assertEquals(kinds.size(), classes.size(), "one class per kind");
    }

    @Test
    void exceptionsSerializeWithTheirFields() throws Exception {
        SfscaleException e = NativeKt.toException(io.sfscale.ffi.Sfscale_jvmKt.makeError("Lock", "UNABLE_TO_LOCK_ROW", "busy"));
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        try (java.io.ObjectOutputStream out = new java.io.ObjectOutputStream(bytes)) {
            out.writeObject(e);
        }
        try (java.io.ObjectInputStream in = new java.io.ObjectInputStream(
                new java.io.ByteArrayInputStream(bytes.toByteArray()))) {
            SfscaleException back = (SfscaleException) in.readObject();
            assertSame(SfscaleException.Lock.class, back.getClass());
            assertEquals("UNABLE_TO_LOCK_ROW", back.getCode());
            assertEquals(e.getDetails(), back.getDetails());
        }
    }

    @Test
    void badConfigurationNamesTheSetting() {
        SfscaleException.Config batch = assertThrows(SfscaleException.Config.class,
                () -> emu.builder().queryBatchSize(10).build());
        assertTrue(batch.getMessage().contains("query_batch_size"), batch.getMessage());
        SfscaleException.Config url = assertThrows(SfscaleException.Config.class,
                () -> emu.builder().instanceUrl("http://example.com").build());
        assertTrue(url.getMessage().contains("instance_url"), url.getMessage());
        SfscaleException.Config negative = assertThrows(SfscaleException.Config.class,
                () -> emu.builder().concurrency(-1, 1, 4).build());
        assertTrue(negative.getMessage().contains("concurrency"), negative.getMessage());
    }

    @Test
    void wrongSecretIsAnAuthErrorWithoutTheSecret() {
        try (SfscaleClient client = emu.builder().clientSecret("wrong-secret-value").build()) {
            SfscaleException.Auth e = assertThrows(SfscaleException.Auth.class, client::limits);
            assertFalse(e.getMessage().contains("wrong-secret-value"));
        }
    }

    @Test
    void missingRequiredFieldCarriesFieldsAndContext() {
        try (SfscaleClient client = emu.client()) {
            SfscaleException.InvalidInput e = assertThrows(SfscaleException.InvalidInput.class,
                    () -> client.create("Account", Map.of("Description", "no name")));
            assertEquals("REQUIRED_FIELD_MISSING", e.getCode());
            assertTrue(e.getFields().contains("Name"));
            assertEquals("create", e.getOperation().orElseThrow());
            assertEquals("Account", e.getObject().orElseThrow());
        }
    }

    @Test
    void dailyLimitReserveIsALimitError() {
        emu.limits(Map.of("daily_api_requests", 10));
        try (SfscaleClient client = emu.builder().reserve(0.5).paceBand(0.0).build()) {
            SfscaleClient background = client.withPriority(Priority.BACKGROUND);
            SfscaleException.Limit e = assertThrows(SfscaleException.Limit.class, () -> {
                for (int i = 0; i < 10; i++) {
                    background.create("Account", Map.of("Name", "bg-" + i));
                }
            });
            assertEquals("LIMIT_RESERVE_REACHED", e.getCode());
        }
        assertEquals(0, stat("errors_by_code.REQUEST_LIMIT_EXCEEDED"));
    }

    @Test
    void refusedConnectionIsANetworkError() {
        try (SfscaleClient client = SfscaleClient.builder()
                .instanceUrl("http://127.0.0.1:9")
                .clientId("id")
                .clientSecret("secret")
                .retryMaxAttempts(1)
                .build()) {
            assertThrows(SfscaleException.Network.class, client::limits);
        }
    }

    @Test
    void serverErrorsAfterRetriesAreServerErrors() {
        try (SfscaleClient client = emu.builder().retryMaxAttempts(2).build()) {
            client.limits();
            emu.faults(Map.of("seed", 1, "rules", List.of(Map.of("route", "limits", "share", 1.0, "effect", "500"))));
            SfscaleException.Server e = assertThrows(SfscaleException.Server.class, client::limits);
            assertEquals(500, e.getStatus().getAsInt());
        }
    }

    static Stream<Arguments> salesforceFailures() {
        return Stream.of(
                Arguments.of("lock", "sobjects", SfscaleException.Lock.class, "UNABLE_TO_LOCK_ROW"),
                Arguments.of("concurrent-limit", "sobjects", SfscaleException.Limit.class, "REQUEST_LIMIT_EXCEEDED"),
                Arguments.of("query-timeout", "query", SfscaleException.Timeout.class, "QUERY_TIMEOUT"));
    }

    @ParameterizedTest
    @MethodSource("salesforceFailures")
    void salesforceFailuresArriveAsTheirFamily(
            String effect, String route, Class<? extends SfscaleException> family, String code) {
        try (SfscaleClient client = emu.builder().retryMaxAttempts(1).build()) {
            client.limits();
            emu.faults(Map.of("seed", 1, "rules", List.of(Map.of("route", route, "share", 1.0, "effect", effect))));
            SfscaleException e = assertThrows(family, () -> {
                if (route.equals("query")) {
                    client.query("SELECT Id FROM Account").count();
                } else {
                    client.create("Account", Map.of("Name", "x"));
                }
            });
            assertEquals(code, e.getCode());
        }
    }
}
