package io.sfscale;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/** Blocking variants: wait for a future and rethrow its {@link SfscaleException} as is. */
final class Blocking {
    private Blocking() {}

    /** The future's value; its failure unwrapped from {@link CompletionException}. */
    static <T> T await(CompletableFuture<T> future) {
        try {
            return future.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException cause) {
                throw cause;
            }
            if (e.getCause() instanceof Error cause) {
                throw cause;
            }
            throw e;
        }
    }
}
