package io.sfscale;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged jar works as a plain Maven dependency: it is installed like `mvn install` would,
 * then a separate project ({@code src/it/consumer}) builds against it and runs with
 * {@code mvn exec:java}: no {@code -Djna.library.path}, no extra flags, native library loaded
 * from the jar. Runs after {@code package} (failsafe).
 */
class ConsumerIT {
    @TempDir
    Path tmp;

    @Test
    void aSeparateProjectDependsOnTheJarAndRunsWithNoFlags() throws Exception {
        Path jar = Path.of(property("sfscale.jar"));
        assertTrue(Files.exists(jar), "the jar was packaged: " + jar);
        run(List.of("org.apache.maven.plugins:maven-install-plugin:3.1.4:install-file",
                "-Dfile=" + jar, "-DpomFile=" + property("sfscale.pom")), Map.of());
        Path consumer = copy(Path.of(property("sfscale.consumer")), tmp.resolve("consumer"));
        try (Emulator emu = new Emulator()) {
            String out = run(List.of("-f", consumer.resolve("pom.xml").toString(), "compile", "exec:java"),
                    Map.of("SFSCALE_INSTANCE_URL", emu.url(),
                            "SFSCALE_CLIENT_ID", Emulator.CLIENT_ID,
                            "SFSCALE_CLIENT_SECRET", Emulator.CLIENT_SECRET));
            assertTrue(out.contains("consumer ok: created "), out);
            assertTrue(out.contains("found 1"), out);
            assertEquals(1, Emulator.counter(emu.stats(), "records.Account"));
        }
    }

    /** A copy of the consumer project, so its build writes nowhere in the source tree. */
    private static Path copy(Path from, Path to) throws IOException {
        try (Stream<Path> files = Files.walk(from)) {
            for (Path file : files.toList()) {
                Path target = to.resolve(from.relativize(file).toString());
                if (Files.isDirectory(file)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(file, target);
                }
            }
        }
        return to;
    }

    private static String property(String name) {
        String value = System.getProperty(name);
        if (value == null) {
            throw new IllegalStateException(name + " is not set: run through `mvn verify`");
        }
        return value;
    }

    /** Runs Maven (batch, quiet, the build's local repository); its output, or a failure with it. */
    private String run(List<String> args, Map<String, String> env) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(property("sfscale.mvn"), "-B", "-q",
                "-Dmaven.repo.local=" + property("sfscale.localRepository")));
        command.addAll(args);
        Path log = tmp.resolve("mvn-" + System.nanoTime() + ".log");
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().putAll(env);
        Process process = builder.start();
        if (!process.waitFor(10, TimeUnit.MINUTES)) {
            process.destroyForcibly();
            throw new AssertionError("mvn did not finish: " + command);
        }
        String out = Files.readString(log, StandardCharsets.UTF_8);
        assertEquals(0, process.exitValue(), String.join(" ", command) + "\n" + out);
        return out;
    }
}
