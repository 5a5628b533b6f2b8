package io.sfscale;

import java.io.Serializable;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.function.Function;

/**
 * Any failure reported by sfscale: one unchecked exception family, one subclass per core error
 * kind, the same families as Python's {@code SfscaleError} and Node's {@code SfscaleError}.
 *
 * <pre>{@code
 * try {
 *     client.create("Account", Map.of("Name", "Acme"));
 * } catch (SfscaleException.Limit e) {
 *     // daily allocation or the configured reserve: come back later
 * } catch (SfscaleException e) {
 *     log.error("{} (code {}, HTTP {}, row {})", e.getMessage(), e.getCode(), e.getStatus(), e.getRow());
 * }
 * }</pre>
 *
 * <p>The subclass is picked by the core's stable kind name in one table ({@link #of}); a test
 * lists the core's kinds and proves each one maps. {@link #getCode()} is the stable code
 * ({@code REQUEST_LIMIT_EXCEEDED}, {@code LIMIT_RESERVE_REACHED}, or Salesforce's own
 * {@code errorCode}).
 */
public class SfscaleException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** The core's kind names and the class each maps to. */
    private static final Map<String, Function<Details, SfscaleException>> KINDS = Map.ofEntries(
            Map.entry("Auth", Auth::new),
            Map.entry("Limit", Limit::new),
            Map.entry("Lock", Lock::new),
            Map.entry("InvalidInput", InvalidInput::new),
            Map.entry("NotFound", NotFound::new),
            Map.entry("Server", Server::new),
            Map.entry("Network", Network::new),
            Map.entry("Timeout", Timeout::new),
            Map.entry("Backpressure", Backpressure::new),
            Map.entry("Config", Config::new),
            Map.entry("Salesforce", Salesforce::new));

    /** The fields of a core error. */
    public record Details(
            String kind,
            String code,
            String reason,
            Integer status,
            List<String> fields,
            Long row,
            boolean retryable,
            String operation,
            String object,
            String text) implements Serializable {
        /** Copies the list; null lists become empty. */
        public Details {
            fields = fields == null ? List.of() : List.copyOf(fields);
        }
    }

    /** Serializable with the exception: every field is a String, a boxed number or an immutable list. */
    private final Details details;

    /** An exception with the core error's details; use {@link #of} to get the right subclass. */
    protected SfscaleException(Details details) {
        super(details.text());
        this.details = details;
    }

    /** The exception for a core error: the subclass of its kind ({@code SfscaleException} for an unknown kind). */
    public static SfscaleException of(Details details) {
        Objects.requireNonNull(details, "details");
        return KINDS.getOrDefault(details.kind(), SfscaleException::new).apply(details);
    }

    /** Whether {@code kind} (a core kind name) has a subclass of its own. */
    public static boolean knowsKind(String kind) {
        return KINDS.containsKey(kind);
    }

    /** The core's kind name ({@code Limit}, {@code InvalidInput}, ...). */
    public String getKind() {
        return details.kind();
    }

    /** The stable code ({@code REQUEST_LIMIT_EXCEEDED}, {@code UNABLE_TO_LOCK_ROW}, Salesforce's errorCode, ...). */
    public String getCode() {
        return details.code();
    }

    /** Salesforce's (or the core's) message, without the code and context. */
    public String getReason() {
        return details.reason();
    }

    /** The HTTP status, when Salesforce answered. */
    public OptionalInt getStatus() {
        return details.status() == null ? OptionalInt.empty() : OptionalInt.of(details.status());
    }

    /** The fields Salesforce named. */
    public List<String> getFields() {
        return details.fields();
    }

    /** The input row (0-based) for bulk and collection work. */
    public OptionalLong getRow() {
        return details.row() == null ? OptionalLong.empty() : OptionalLong.of(details.row());
    }

    /** Whether the core considers the failure retryable (it already retried within its budget). */
    public boolean isRetryable() {
        return details.retryable();
    }

    /** The failing operation ({@code query}, {@code create}, {@code bulk.ingest}, ...). */
    public Optional<String> getOperation() {
        return Optional.ofNullable(details.operation());
    }

    /** The sObject concerned. */
    public Optional<String> getObject() {
        return Optional.ofNullable(details.object());
    }

    /** Every field of the error. */
    public Details getDetails() {
        return details;
    }

    /** Authentication or authorization failed (OAuth errors, unusable session, permissions). */
    public static class Auth extends SfscaleException {
        private static final long serialVersionUID = 1L;

        Auth(Details d) {
            super(d);
        }
    }

    /** An allocation or concurrency limit: daily requests, the configured reserve, long-running calls. */
    public static class Limit extends SfscaleException {
        private static final long serialVersionUID = 1L;

        Limit(Details d) {
            super(d);
        }
    }

    /** Row lock contention ({@code UNABLE_TO_LOCK_ROW}). */
    public static class Lock extends SfscaleException {
        private static final long serialVersionUID = 1L;

        Lock(Details d) {
            super(d);
        }
    }

    /** Bad input: refused before sending, or a Salesforce field, validation or query error. */
    public static class InvalidInput extends SfscaleException {
        private static final long serialVersionUID = 1L;

        InvalidInput(Details d) {
            super(d);
        }
    }

    /** The record or resource does not exist. */
    public static class NotFound extends SfscaleException {
        private static final long serialVersionUID = 1L;

        NotFound(Details d) {
            super(d);
        }
    }

    /** Salesforce failed on its side (5xx). */
    public static class Server extends SfscaleException {
        private static final long serialVersionUID = 1L;

        Server(Details d) {
            super(d);
        }
    }

    /** Transport failure: connection refused or reset, body read failure. */
    public static class Network extends SfscaleException {
        private static final long serialVersionUID = 1L;

        Network(Details d) {
            super(d);
        }
    }

    /** A connect or request timeout, or Salesforce's {@code QUERY_TIMEOUT}. */
    public static class Timeout extends SfscaleException {
        private static final long serialVersionUID = 1L;

        Timeout(Details d) {
            super(d);
        }
    }

    /** The client's own wait queue is full and it is configured to fail fast. */
    public static class Backpressure extends SfscaleException {
        private static final long serialVersionUID = 1L;

        Backpressure(Details d) {
            super(d);
        }
    }

    /** Invalid configuration; the message names the setting. */
    public static class Config extends SfscaleException {
        private static final long serialVersionUID = 1L;

        Config(Details d) {
            super(d);
        }
    }

    /** Any other error Salesforce reported. */
    public static class Salesforce extends SfscaleException {
        private static final long serialVersionUID = 1L;

        Salesforce(Details d) {
            super(d);
        }
    }
}
