package io.sfscale

import io.sfscale.ffi.Knobs
import io.sfscale.ffi.NativeClient
import java.nio.file.Path
import java.time.Duration

/**
 * Configuration of a client: the same settings as every sfscale binding.
 *
 * Settings with an environment variable (`instanceUrl` ↔ `SFSCALE_INSTANCE_URL`,
 * `clientId` ↔ `SFSCALE_CLIENT_ID`, ...) go to the core's own reader, so the grant is chosen by
 * the core's documented rule (private key → JWT bearer; refresh token; password; client
 * secret → client credentials) whether values come from here or the environment. With
 * [fromEnv], the variables fill whatever was not set here. The other knobs are one core
 * builder call each. Invalid configuration fails at [build] with `SfscaleException.Config`
 * naming the setting.
 */
class SfscaleBuilder {
    private val settings = LinkedHashMap<String, String>()
    private var knobs = Knobs(null, null, null, null, null, null, null, null, null, false)
    private var env = false

    private fun setting(name: String, value: Any) = apply { settings["SFSCALE_$name"] = value.toString() }

    private fun knob(change: Knobs.() -> Knobs) = apply { knobs = knobs.change() }

    /** Reads the `SFSCALE_*` environment variables for settings not given here. */
    fun withEnvironment() = apply { env = true }

    /** The instance (My Domain) URL; https unless loopback. */
    fun instanceUrl(url: String) = setting("INSTANCE_URL", url)

    /** The OAuth host (default: the instance URL). */
    fun loginUrl(url: String) = setting("LOGIN_URL", url)

    /** The connected app's consumer key. */
    fun clientId(id: String) = setting("CLIENT_ID", id)

    /** The consumer secret (client credentials, password and refresh-token grants). */
    fun clientSecret(secret: String) = setting("CLIENT_SECRET", secret)

    /** The user (JWT bearer and password grants). */
    fun username(username: String) = setting("USERNAME", username)

    /** Password plus security token (password grant). */
    fun password(password: String) = setting("PASSWORD", password)

    /** PEM RSA key for the JWT bearer grant. */
    fun privateKeyFile(path: Path) = setting("PRIVATE_KEY_FILE", path)

    /** A refresh token (refresh-token grant). */
    fun refreshToken(token: String) = setting("REFRESH_TOKEN", token)

    /** REST API version, e.g. `62.0`. */
    fun apiVersion(version: String) = setting("API_VERSION", version)

    /** Fraction of the daily allocation kept for other integrations (0 ≤ r < 1; default 0.2). */
    fun reserve(fraction: Double) = setting("RESERVE", fraction)

    /** The org's session timeout (default 2 hours). */
    fun sessionLifetime(lifetime: Duration) = setting("SESSION_LIFETIME_SECS", lifetime.seconds)

    /** Extra trusted CA certificates (PEM). */
    fun caFile(path: Path) = setting("CA_FILE", path)

    /** Requests per second ceiling (default: none). */
    fun maxRps(rps: Int) = setting("MAX_RPS", rps)

    /** Concurrent long-running requests allowed (default 10). */
    fun longRunningCap(cap: Int) = setting("LONG_RUNNING_CAP", cap)

    /** Width of the paced band below the reserve (0 = no pacing). */
    fun paceBand(band: Double) = knob { copy(paceBand = band) }

    /** Attempts per call. */
    fun retryMaxAttempts(attempts: Int) = knob { copy(retryMaxAttempts = attempts) }

    /** Retry backoff base and cap. */
    fun retryBackoff(base: Duration, cap: Duration) =
        knob { copy(retryBackoffBaseMs = base.millis(), retryBackoffCapMs = cap.millis()) }

    /** The adaptive concurrency limit: initial, minimum, maximum. */
    fun concurrency(initial: Int, min: Int, max: Int) = knob { copy(concurrency = listOf(initial, min, max)) }

    /** Rows per query page. */
    fun queryBatchSize(rows: Int) = knob { copy(queryBatchSize = rows) }

    /** Per-request timeout. */
    fun requestTimeout(timeout: Duration) = knob { copy(requestTimeoutMs = timeout.millis()) }

    /** Connect timeout. */
    fun connectTimeout(timeout: Duration) = knob { copy(connectTimeoutMs = timeout.millis()) }

    /** How long low-priority work waits at the reserve before failing. */
    fun reserveWait(wait: Duration) = knob { copy(reserveWaitMs = wait.millis()) }

    /** Developer Edition limits (5 concurrent long-running requests). */
    fun developerEdition() = knob { copy(developerEdition = true) }

    /** The Java client. */
    fun build(): SfscaleClient = SfscaleClient(buildCoroutineClient())

    /** The Kotlin client. */
    fun buildCoroutineClient(): CoroutineClient =
        CoroutineClient(native { NativeClient.build(settings, knobs, env) })

    companion object {
        /** A builder that reads the `SFSCALE_*` environment variables. */
        @JvmStatic
        fun fromEnv(): SfscaleBuilder = SfscaleBuilder().withEnvironment()
    }
}
