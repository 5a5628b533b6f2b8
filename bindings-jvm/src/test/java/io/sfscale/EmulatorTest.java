package io.sfscale;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;

/** A test class with one emulator, reset before each test, and a client for it. */
abstract class EmulatorTest {
    static Emulator emu;

    @BeforeAll
    static void startEmulator() {
        emu = new Emulator();
    }

    @AfterAll
    static void stopEmulator() {
        emu.close();
    }

    @BeforeEach
    void resetEmulator() {
        emu.reset();
    }

    /** Polls {@code condition} until it holds; fails naming {@code what} after 20 s. */
    static void waitFor(BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }

    /** A counter of the emulator's stats. */
    static long stat(String path) {
        return Emulator.counter(emu.stats(), path);
    }
}
