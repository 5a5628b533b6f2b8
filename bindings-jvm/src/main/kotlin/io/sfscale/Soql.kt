package io.sfscale

import io.sfscale.ffi.NativeSoql
import io.sfscale.ffi.SoqlLiteral
import java.math.BigDecimal
import java.math.BigInteger
import java.time.Instant
import java.time.LocalDate
import java.time.OffsetDateTime
import java.time.ZonedDateTime

/**
 * The core's SOQL builder: bound values are rendered as escaped literals, never as query text,
 * so user input cannot change a query. Immutable: each method returns a new builder.
 *
 * ```java
 * String soql = Soql.select("Account", "Id", "Name")
 *     .whereEq("Name", userInput)
 *     .where("CreatedDate", ">", Instant.parse("2024-05-01T00:00:00Z"))
 *     .orderBy("Name", true)
 *     .limit(5)
 *     .build();
 * ```
 *
 * Values: null, Boolean, integers, Float/Double/BigDecimal, String, `LocalDate`, and
 * `Instant`/`OffsetDateTime`/`ZonedDateTime` (rendered in UTC). `build()` fails with
 * `SfscaleException.InvalidInput` naming a bad identifier.
 */
class Soql private constructor(private val native: NativeSoql) {
    /** `AND field = value`. */
    fun whereEq(field: String, value: Any?): Soql = where(field, "=", value)

    /** `AND field <operator> value`; operators `=`, `!=`, `<`, `<=`, `>`, `>=`, `LIKE`. */
    fun where(field: String, operator: String, value: Any?): Soql =
        Soql(native { native.whereCmp(field, operator, literal(field, value)) })

    /** `AND field IN (values)`. */
    fun whereIn(field: String, values: Collection<*>): Soql =
        Soql(native { native.whereIn(field, values.map { literal(field, it) }, false) })

    /** `AND field NOT IN (values)`. */
    fun whereNotIn(field: String, values: Collection<*>): Soql =
        Soql(native { native.whereIn(field, values.map { literal(field, it) }, true) })

    /** `AND field = null`. */
    fun whereNull(field: String): Soql = Soql(native.whereNull(field))

    /** `ORDER BY field ASC|DESC` (repeatable). */
    @JvmOverloads
    fun orderBy(field: String, descending: Boolean = false): Soql = Soql(native.orderBy(field, descending))

    /** `LIMIT n`. */
    fun limit(n: Long): Soql = Soql(native { native.limit(n) })

    /** `OFFSET n`. */
    fun offset(n: Long): Soql = Soql(native { native.offset(n) })

    /** The query text. */
    fun build(): String = native { native.build() }

    override fun toString(): String = try {
        build()
    } catch (e: SfscaleException) {
        "Soql(<invalid: ${e.message}>)"
    }

    companion object {
        /** `SELECT fields FROM object`; with no fields, `SELECT COUNT() FROM object`. */
        @JvmStatic
        fun select(sobject: String, vararg fields: String): Soql = Soql(NativeSoql.select(sobject, fields.toList()))

        private fun literal(field: String, value: Any?): SoqlLiteral = when (value) {
            null -> SoqlLiteral.Null
            is Boolean -> SoqlLiteral.Bool(value)
            is Byte, is Short, is Int, is Long -> SoqlLiteral.Int((value as Number).toLong())
            is BigInteger -> SoqlLiteral.Int(value.longValueExact())
            is Float, is Double, is BigDecimal -> SoqlLiteral.Float((value as Number).toDouble())
            is String -> SoqlLiteral.Text(value)
            is LocalDate -> SoqlLiteral.Date(value.toString())
            is Instant -> SoqlLiteral.DateTime(value.toString())
            is OffsetDateTime -> SoqlLiteral.DateTime(value.toInstant().toString())
            is ZonedDateTime -> SoqlLiteral.DateTime(value.toInstant().toString())
            else -> throw IllegalArgumentException(
                "field '$field': a SOQL value must be null, Boolean, a number, String, LocalDate or an instant, " +
                    "got ${value.javaClass.name}",
            )
        }
    }
}
