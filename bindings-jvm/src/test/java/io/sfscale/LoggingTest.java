package io.sfscale;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.System.Logger.Level;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** The core's log events reach JVM code when asked, without secrets. */
class LoggingTest extends EmulatorTest {
    @Test
    void coreLogsAreForwardedWhenAsked() {
        List<Map<String, Object>> records = new CopyOnWriteArrayList<>();
        SfscaleLogging.forwardTo(Level.DEBUG, records::add);
        try (SfscaleClient client = emu.client()) {
            client.limits();
            waitFor(() -> records.stream().anyMatch(r -> ((String) r.get("target")).startsWith("sfscale.tokens")),
                    "a token log record");
        } finally {
            SfscaleLogging.stop();
        }
        Map<String, Object> token = records.stream()
                .filter(r -> ((String) r.get("target")).startsWith("sfscale.tokens"))
                .findFirst()
                .orElseThrow();
        assertTrue(((String) token.get("message")).contains("access token obtained"), token.toString());
        assertFalse(records.toString().contains(Emulator.CLIENT_SECRET));
        SfscaleLogging.forwardToSystemLogger(Level.WARNING); // the System.Logger route installs without error
        SfscaleLogging.stop();
    }
}
