package io.sfscale;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * A durable write-behind queue: {@link #enqueue} returns once the write is journaled (a
 * ticket); the core's workers coalesce writes into Collections calls or Bulk jobs; {@link
 * #flush()} waits for every accepted write; {@link #close()} flushes and stops. Operations:
 * {@code insert}, {@code update}, {@code upsert} (with an external id field), {@code delete}.
 */
public final class SfscaleQueue implements AutoCloseable {
    private final CoroutineQueue queue;

    SfscaleQueue(CoroutineQueue queue) {
        this.queue = queue;
    }

    /** Accepts one write; its ticket. */
    public long enqueue(String object, String operation, Map<String, ?> record) {
        return enqueue(object, operation, record, null, null);
    }

    /** Accepts one write ({@code externalId} for upserts, {@code key} to collapse writes); its ticket. */
    public long enqueue(String object, String operation, Map<String, ?> record, String externalId, String key) {
        return Blocking.await(enqueueAsync(object, operation, record, externalId, key));
    }

    public CompletableFuture<Long> enqueueAsync(
            String object, String operation, Map<String, ?> record, String externalId, String key) {
        return queue.enqueueAsync(object, operation, record, externalId, key);
    }

    /** Waits until every write accepted so far has settled. */
    public void flush() {
        Blocking.await(flushAsync());
    }

    public CompletableFuture<Void> flushAsync() {
        return queue.flushAsync();
    }

    /** Flushes, then stops the workers. */
    @Override
    public void close() {
        Blocking.await(closeAsync());
    }

    public CompletableFuture<Void> closeAsync() {
        return queue.closeAsync();
    }

    /** Dead letters after ticket {@code after}, at most {@code limit}. */
    public List<Map<String, Object>> deadLetters(long after, long limit) {
        return Blocking.await(queue.deadLettersAsync(after, limit));
    }

    /** Sends a dead letter again, {@code fixed} (or null) replacing its record; the new ticket. */
    public long replay(long ticket, Map<String, ?> fixed) {
        return Blocking.await(queue.replayAsync(ticket, fixed));
    }

    /** Drops a dead letter; whether it existed. */
    public boolean discard(long ticket) {
        return Blocking.await(queue.discardAsync(ticket));
    }

    /** Calls {@code listener} with each write's outcome, from a thread of its own. */
    public void onOutcome(Consumer<? super Map<String, Object>> listener) {
        queue.onOutcome(listener);
    }

    /** Counters: accepted, pending, saved, dead letters... */
    public Map<String, Object> stats() {
        return queue.stats();
    }
}
