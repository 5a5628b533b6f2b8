package io.sfscale;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The core's SOQL builder from Java: bound values escaped, typed literals. */
class SoqlTest extends EmulatorTest {
    @Test
    void boundValuesAreEscapedAndHostileInputMatchesNothing() {
        try (SfscaleClient client = emu.client()) {
            client.create("Account", Map.of("Name", "O'Brien"));
            client.create("Account", Map.of("Name", "other"));
            String hostile = "x' OR Name != '";
            assertEquals(0, client.query(Soql.select("Account", "Id").whereEq("Name", hostile).build()).count());
            String query = Soql.select("Account", "Name").whereEq("Name", "O'Brien").orderBy("Name", true).limit(5).build();
            assertEquals(List.of("O'Brien"), client.query(query).map(r -> r.get("Name")).toList());
        }
    }

    @Test
    void datesAndInstantsRenderAsLiterals() {
        OffsetDateTime when = OffsetDateTime.of(2024, 5, 1, 14, 30, 0, 0, ZoneOffset.ofHours(2));
        assertTrue(Soql.select("Account", "Id").where("CreatedDate", ">", when).build()
                .endsWith("CreatedDate > 2024-05-01T12:30:00Z"));
        assertTrue(Soql.select("Opportunity", "Id").whereEq("CloseDate", LocalDate.of(2024, 6, 30)).build()
                .endsWith("CloseDate = 2024-06-30"));
        assertTrue(Soql.select("Account").whereIn("Name", List.of("a", "b")).build().startsWith("SELECT COUNT()"));
    }

    @Test
    void badIdentifiersAndValuesAreRefused() {
        assertThrows(SfscaleException.InvalidInput.class, () -> Soql.select("Account; DELETE", "Id").build());
        assertThrows(SfscaleException.InvalidInput.class, () -> Soql.select("Account", "Id").where("Name", "~", "x"));
        assertThrows(IllegalArgumentException.class, () -> Soql.select("Account", "Id").whereEq("Name", new Object()));
    }
}
