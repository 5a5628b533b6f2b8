package io.sfscale

/*
 * Small result and argument types of the public API. Bigger results (bulk runs, write
 * reports, metrics, events, describe bodies) are maps decoded from the core's JSON, with the
 * core's field names, as in the Python and Node bindings.
 */

/** How the scheduler orders a client's calls when they must wait. */
enum class Priority(internal val wire: String) {
    /** Ahead of everything; may dip into the limits reserve. */
    CRITICAL("critical"),

    /** The default. */
    NORMAL("normal"),

    /** Behind everything; refused first when the reserve is reached. */
    BACKGROUND("background"),
}

/** What an upsert did: the record id (absent only for API v45.0 and earlier) and whether it was inserted. */
data class UpsertResult(val id: String?, val created: Boolean)

/** One record's outcome in a collections call. */
data class RecordResult(
    /** Position in the caller's input. */
    val index: Long,
    /** The record id, when known. */
    val id: String?,
    /** Whether the record was saved. */
    val success: Boolean,
    /** For upserts: whether it was inserted. */
    val created: Boolean?,
    /** Salesforce's errors: `statusCode`, `message`, `fields`. */
    val errors: List<Map<String, Any?>>,
    /** The first error as an exception (row set), or null when saved. */
    val error: SfscaleException?,
)

/** One subrequest of a composite call; [body] is a record-like map or null. */
data class Subrequest @JvmOverloads constructor(
    val method: String,
    val url: String,
    val referenceId: String,
    val body: Map<String, *>? = null,
)

/** One composite subrequest's answer. */
data class SubResponse(
    val referenceId: String,
    val status: Int,
    /** The body: a map, a list (error lists) or null. */
    val body: Any?,
    val headers: Map<String, Any?>,
)

/** One allocation of the org's `/limits`. */
data class Limit(val max: Long, val remaining: Long)

internal fun io.sfscale.ffi.RecordOutcome.toResult() = RecordResult(
    index,
    id,
    success,
    created,
    SalesforceJson.decodeObjects(errorsJson),
    error?.toException(),
)

internal fun io.sfscale.ffi.SubResult.toResponse() = SubResponse(
    referenceId,
    status,
    SalesforceJson.decode(bodyJson),
    SalesforceJson.decodeObject(headersJson),
)
