package consumer;

import io.sfscale.SfscaleClient;
import java.util.Map;

/** Creates a record and reads it back through the sfscale jar, configured from the environment. */
public final class Main {
    private Main() {}

    public static void main(String[] args) {
        try (SfscaleClient client = SfscaleClient.fromEnv()) {
            String id = client.create("Account", Map.of("Name", "from the consumer"));
            long found = client.query("SELECT Id FROM Account WHERE Name = 'from the consumer'").count();
            System.out.println("consumer ok: created " + id + ", found " + found);
        }
    }
}
