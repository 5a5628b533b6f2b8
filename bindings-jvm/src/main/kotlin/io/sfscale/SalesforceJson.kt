package io.sfscale

import java.math.BigDecimal
import java.math.BigInteger
import java.time.Instant
import java.time.LocalDate
import java.time.OffsetDateTime
import java.time.ZoneOffset
import java.time.ZonedDateTime
import java.time.format.DateTimeFormatter

/**
 * JVM values to Salesforce JSON and back: how records cross into the native core.
 *
 * JVM → Salesforce (records you write):
 *
 * | JVM value | Salesforce JSON |
 * |---|---|
 * | `null` | `null` (clears the field on update/upsert) |
 * | `String`, `Boolean` | string, boolean |
 * | `Byte`/`Short`/`Integer`/`Long`/`BigInteger` | integer number |
 * | `Float`/`Double` | number; `NaN` and infinities are refused |
 * | `BigDecimal` | number, when exact in 15 significant digits (the core's `f64`); else refused |
 * | `Instant`, `OffsetDateTime`, `ZonedDateTime` | `2024-05-01T12:30:00.000Z` (UTC, milliseconds) |
 * | `LocalDateTime` | refused: it has no zone, so the instant would be a guess |
 * | `LocalDate` | `2024-05-01` |
 * | `Map` (String keys), `Iterable`, array | object, array (relationship references) |
 *
 * Anything else is an [IllegalArgumentException] naming the field (and the row, for many-record
 * calls).
 *
 * Salesforce → JVM: objects become `LinkedHashMap<String, Object>` (field order kept), arrays
 * `ArrayList`, integers `Long`, other numbers `Double`, strings `String` — date and datetime
 * fields included: a record carries no field types, and guessing from a string's shape would
 * turn a text field that looks like a date into a date.
 */
object SalesforceJson {
    /** Significant digits an `f64` carries exactly. */
    private const val EXACT_DIGITS = 15

    private val INSTANT: DateTimeFormatter =
        DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC)

    /** One record as a JSON object; `row` (0-based) names the record in error messages. */
    @JvmStatic
    @JvmOverloads
    fun encodeRecord(record: Map<String, *>, row: Long? = null): String =
        StringBuilder().also { writeObject(it, record, At(null, row)) }.toString()

    /** Records as a JSON array of objects. */
    @JvmStatic
    fun encodeRecords(records: Iterable<Map<String, *>>): String {
        val out = StringBuilder("[")
        records.forEachIndexed { row, record ->
            if (row > 0) out.append(',')
            writeObject(out, record, At(null, row.toLong()))
        }
        return out.append(']').toString()
    }

    /** Any supported value as JSON. */
    @JvmStatic
    fun encode(value: Any?): String = StringBuilder().also { write(it, value, At(null, null)) }.toString()

    /** A JSON document as JVM values (see the class docs). */
    @JvmStatic
    fun decode(text: String): Any? = Parser(text).document()

    /** A JSON object as a map. */
    @JvmStatic
    @Suppress("UNCHECKED_CAST")
    fun decodeObject(text: String): Map<String, Any?> =
        decode(text) as? Map<String, Any?> ?: throw IllegalArgumentException("not a JSON object: ${text.take(80)}")

    /** A JSON array of objects as a list of maps. */
    @JvmStatic
    @Suppress("UNCHECKED_CAST")
    fun decodeObjects(text: String): List<Map<String, Any?>> =
        decode(text) as? List<Map<String, Any?>> ?: throw IllegalArgumentException("not a JSON array: ${text.take(80)}")

    /** Where a value sits, for error messages. */
    private data class At(val field: String?, val row: Long?) {
        override fun toString(): String {
            val f = field?.let { "field '$it'" } ?: "value"
            return if (row == null) f else "$f of row $row"
        }
    }

    private fun write(out: StringBuilder, value: Any?, at: At) {
        when (value) {
            null -> out.append("null")
            is String -> string(out, value)
            is Boolean -> out.append(value)
            is Byte, is Short, is Int, is Long, is BigInteger -> out.append(value.toString())
            is Float -> double(out, value.toDouble(), at)
            is Double -> double(out, value, at)
            is BigDecimal -> decimal(out, value, at)
            is Instant -> string(out, INSTANT.format(value))
            is OffsetDateTime -> string(out, INSTANT.format(value.toInstant()))
            is ZonedDateTime -> string(out, INSTANT.format(value.toInstant()))
            is LocalDate -> string(out, value.toString())
            is java.time.LocalDateTime -> throw IllegalArgumentException(
                "$at: LocalDateTime $value has no zone; use an Instant or OffsetDateTime so the instant is unambiguous",
            )
            is Map<*, *> -> writeObject(out, value, at)
            is Iterable<*> -> array(out, value, at)
            is Array<*> -> array(out, value.asIterable(), at)
            else -> throw IllegalArgumentException(
                "$at: unsupported type ${value.javaClass.name} (use String, numbers, Boolean, null, " +
                    "Instant, OffsetDateTime, LocalDate, BigDecimal, Map or List)",
            )
        }
    }

    private fun writeObject(out: StringBuilder, map: Map<*, *>, at: At) {
        out.append('{')
        var first = true
        for ((key, value) in map) {
            if (key !is String) {
                throw IllegalArgumentException("${at.copy(field = key.toString())}: field names must be String")
            }
            if (!first) out.append(',')
            first = false
            string(out, key)
            out.append(':')
            write(out, value, if (at.field == null) at.copy(field = key) else at)
        }
        out.append('}')
    }

    private fun array(out: StringBuilder, items: Iterable<*>, at: At) {
        out.append('[')
        items.forEachIndexed { i, item ->
            if (i > 0) out.append(',')
            write(out, item, at)
        }
        out.append(']')
    }

    private fun double(out: StringBuilder, v: Double, at: At) {
        if (v.isNaN() || v.isInfinite()) throw IllegalArgumentException("$at: $v is not a finite number")
        out.append(v.toString())
    }

    private fun decimal(out: StringBuilder, v: BigDecimal, at: At) {
        if (v.signum() != 0 && v.stripTrailingZeros().precision() > EXACT_DIGITS) {
            throw IllegalArgumentException("$at: BigDecimal $v cannot be sent exactly (more than $EXACT_DIGITS digits)")
        }
        out.append(v.toPlainString())
    }

    private fun string(out: StringBuilder, s: String) {
        out.append('"')
        for (c in s) {
            when {
                c == '"' -> out.append("\\\"")
                c == '\\' -> out.append("\\\\")
                c == '\n' -> out.append("\\n")
                c == '\r' -> out.append("\\r")
                c == '\t' -> out.append("\\t")
                c < ' ' -> out.append(String.format("\\u%04x", c.code))
                else -> out.append(c)
            }
        }
        out.append('"')
    }

    /** A strict recursive-descent JSON parser (RFC 8259). */
    private class Parser(private val s: String) {
        private var i = 0

        fun document(): Any? {
            val v = value()
            space()
            if (i != s.length) fail("trailing characters")
            return v
        }

        private fun value(): Any? {
            space()
            if (i >= s.length) fail("unexpected end")
            return when (s[i]) {
                '{' -> obj()
                '[' -> arr()
                '"' -> str()
                't' -> literal("true", true)
                'f' -> literal("false", false)
                'n' -> literal("null", null)
                else -> number()
            }
        }

        private fun obj(): Map<String, Any?> {
            val out = LinkedHashMap<String, Any?>()
            i++
            space()
            if (peek() == '}') { i++; return out }
            while (true) {
                space()
                if (peek() != '"') fail("expected a field name")
                val key = str()
                space()
                expect(':')
                out[key] = value()
                space()
                when (next()) {
                    ',' -> continue
                    '}' -> return out
                    else -> fail("expected ',' or '}'")
                }
            }
        }

        private fun arr(): List<Any?> {
            val out = ArrayList<Any?>()
            i++
            space()
            if (peek() == ']') { i++; return out }
            while (true) {
                out.add(value())
                space()
                when (next()) {
                    ',' -> continue
                    ']' -> return out
                    else -> fail("expected ',' or ']'")
                }
            }
        }

        private fun str(): String {
            i++
            val out = StringBuilder()
            while (true) {
                if (i >= s.length) fail("unterminated string")
                val c = s[i++]
                when (c) {
                    '"' -> return out.toString()
                    '\\' -> out.append(escape())
                    else -> out.append(c)
                }
            }
        }

        private fun escape(): Char = when (val c = next()) {
            '"', '\\', '/' -> c
            'b' -> '\b'
            'f' -> '\u000C'
            'n' -> '\n'
            'r' -> '\r'
            't' -> '\t'
            'u' -> {
                if (i + 4 > s.length) fail("bad \\u escape")
                s.substring(i, i + 4).toInt(16).toChar().also { i += 4 }
            }
            else -> fail("bad escape '\\$c'")
        }

        private fun number(): Any {
            val start = i
            while (i < s.length && s[i] in "+-0123456789.eE") i++
            val text = s.substring(start, i)
            if (text.isEmpty()) fail("unexpected character")
            val integral = text.none { it == '.' || it == 'e' || it == 'E' }
            return (if (integral) text.toLongOrNull() else null)
                ?: text.toDoubleOrNull()
                ?: fail("bad number '$text'")
        }

        private fun literal(word: String, v: Any?): Any? {
            if (!s.startsWith(word, i)) fail("unexpected literal")
            i += word.length
            return v
        }

        private fun space() {
            while (i < s.length && s[i].isWhitespace()) i++
        }

        private fun peek(): Char? = if (i < s.length) s[i] else null

        private fun next(): Char = if (i < s.length) s[i++] else fail("unexpected end")

        private fun expect(c: Char) {
            if (next() != c) fail("expected '$c'")
        }

        private fun fail(problem: String): Nothing =
            throw IllegalArgumentException("malformed JSON at offset $i: $problem")
    }
}
