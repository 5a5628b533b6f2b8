package io.sfscale;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Java values to Salesforce formats and back, and clear errors for the rest. */
class ValuesTest extends EmulatorTest {
    @Test
    void typedValuesAreWrittenInSalesforceFormats() {
        try (SfscaleClient client = emu.client()) {
            String opp = client.create("Opportunity", Map.of(
                    "Name", "Deal",
                    "StageName", "Prospecting",
                    "CloseDate", LocalDate.of(2024, 6, 30),
                    "Amount", new BigDecimal("1234.50"),
                    "Probability", 12.5));
            Map<String, Object> read = client.get("Opportunity", opp, List.of("CloseDate", "Amount", "Probability"));
            assertEquals("2024-06-30", read.get("CloseDate"));
            assertEquals(1234.5, ((Number) read.get("Amount")).doubleValue());
            assertEquals(12.5, ((Number) read.get("Probability")).doubleValue());
        }
    }

    @Test
    void instantsAreSentInUtcWithMilliseconds() {
        OffsetDateTime when = OffsetDateTime.of(2024, 5, 1, 14, 30, 5, 250_000_000, ZoneOffset.ofHours(2));
        assertEquals("\"2024-05-01T12:30:05.250Z\"", SalesforceJson.encode(when));
        assertEquals("\"2024-05-01T12:30:05.250Z\"", SalesforceJson.encode(when.toInstant()));
        assertEquals("\"2024-05-01\"", SalesforceJson.encode(LocalDate.of(2024, 5, 1)));
        try (SfscaleClient client = emu.client()) {
            String id = client.create("Account", Map.of("Name", "dated", "Description", Instant.parse("2024-01-02T03:04:05Z")));
            assertEquals("2024-01-02T03:04:05.000Z", client.get("Account", id, List.of("Description")).get("Description"));
        }
    }

    @Test
    void nullClearsAFieldAndRecordsComeBackAsPlainJava() {
        try (SfscaleClient client = emu.client()) {
            Map<String, Object> record = new HashMap<>();
            record.put("Name", "plain");
            record.put("NumberOfEmployees", 7);
            record.put("AnnualRevenue", 1.5);
            String id = client.create("Account", record);
            Map<String, Object> read = client.query("SELECT Name, NumberOfEmployees, AnnualRevenue FROM Account")
                    .findFirst()
                    .orElseThrow();
            assertEquals(7L, read.get("NumberOfEmployees"));
            assertEquals(1.5, read.get("AnnualRevenue"));
            assertEquals("Account", ((Map<?, ?>) read.get("attributes")).get("type"));
            Map<String, Object> clear = new HashMap<>();
            clear.put("AnnualRevenue", null);
            client.update("Account", id, clear);
            assertNull(client.get("Account", id, List.of("AnnualRevenue")).get("AnnualRevenue"));
        }
    }

    @Test
    void unsupportedValuesAreRefusedNamingFieldAndRow() {
        try (SfscaleClient client = emu.client()) {
            IllegalArgumentException naive = assertThrows(IllegalArgumentException.class,
                    () -> client.create("Opportunity", Map.of("Name", "x", "CloseDate", LocalDateTime.of(2024, 1, 1, 0, 0))));
            assertTrue(naive.getMessage().contains("field 'CloseDate'"), naive.getMessage());
            IllegalArgumentException odd = assertThrows(IllegalArgumentException.class,
                    () -> client.createMany("Account", List.of(Map.of("Name", "ok"), Map.of("Name", new Object())), false));
            assertTrue(odd.getMessage().contains("field 'Name' of row 1: unsupported type"), odd.getMessage());
            IllegalArgumentException inexact = assertThrows(IllegalArgumentException.class,
                    () -> client.create("Opportunity", Map.of("Name", "x", "Amount", new BigDecimal("1.2345678901234567"))));
            assertTrue(inexact.getMessage().contains("cannot be sent exactly"), inexact.getMessage());
            assertThrows(IllegalArgumentException.class,
                    () -> client.create("Account", Map.of("Name", "inf", "AnnualRevenue", Double.POSITIVE_INFINITY)));
        }
        assertEquals(0, stat("records.Account"));
    }

    @Test
    void jsonRoundTripsEscapesAndNesting() {
        Map<String, Object> nested = Map.of("Account", Map.of("External_Id__c", "A\"1\\\n\u0001é"));
        Object back = SalesforceJson.decode(SalesforceJson.encode(nested));
        assertEquals(nested, back);
        assertEquals(List.of(1L, 2.5, true), SalesforceJson.decode("[1, 2.5, true]"));
        assertThrows(IllegalArgumentException.class, () -> SalesforceJson.decode("{\"a\": }"));
    }
}
