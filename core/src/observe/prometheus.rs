//! Rendering a [`MetricsSnapshot`] in the Prometheus text exposition format (0.0.4).
//!
//! Every family gets `# HELP` and `# TYPE` lines before its samples, names carry the `sfscale_`
//! prefix, label values are escaped, histograms get cumulative `_bucket` series with `+Inf`,
//! `_sum` and `_count` in seconds. Written by hand: the format is a few lines of text, and a
//! Prometheus client crate would bring its own global registry (see `metrics`).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::metrics::{HistogramSnapshot, MetricsSnapshot};

/// Renders every figure of `s`; `gauge_help` gives the help text of registered gauges.
pub(super) fn render(
    s: &MetricsSnapshot,
    gauge_help: &BTreeMap<&'static str, &'static str>,
) -> String {
    let mut out = Prom::default();
    out.header(
        "requests_total",
        "counter",
        "Requests by route and HTTP status.",
    );
    for (route, by_status) in &s.requests {
        for (status, n) in by_status {
            out.sample(
                "requests_total",
                &[("route", route), ("status", status)],
                *n as f64,
            );
        }
    }
    out.header(
        "request_duration_seconds",
        "histogram",
        "Attempt latency by route.",
    );
    for (route, h) in &s.latency {
        out.histogram("request_duration_seconds", &[("route", route)], h);
    }
    out.header("retries_total", "counter", "Retries by reason.");
    for (reason, n) in &s.retries {
        out.sample("retries_total", &[("reason", reason)], *n as f64);
    }
    out.scalar(
        "retry_budget_denials_total",
        "counter",
        "Retries refused by the retry budget.",
        s.budget_denials,
    );
    out.scalar(
        "token_refreshes_total",
        "counter",
        "Access tokens obtained.",
        s.token_refreshes,
    );
    out.scalar(
        "throttled_total",
        "counter",
        "Concurrency decreases after throttling.",
        s.throttled,
    );
    out.header(
        "cache_requests_total",
        "counter",
        "Cache lookups by kind and result.",
    );
    for (kind, c) in &s.cache {
        out.sample(
            "cache_requests_total",
            &[("kind", kind), ("result", "hit")],
            c.hits as f64,
        );
        out.sample(
            "cache_requests_total",
            &[("kind", kind), ("result", "miss")],
            c.misses as f64,
        );
    }
    out.header(
        "cache_loads_total",
        "counter",
        "Cache loads run (single-flight).",
    );
    for (kind, c) in &s.cache {
        out.sample("cache_loads_total", &[("kind", kind)], c.loads as f64);
    }
    out.header(
        "scheduler_queue_wait_seconds",
        "histogram",
        "Time waiting for a scheduler permit.",
    );
    out.histogram("scheduler_queue_wait_seconds", &[], &s.queue_wait);
    out.header("limit_used", "gauge", "Units used of a daily allocation.");
    for (allocation, usage) in &s.limits {
        out.sample(
            "limit_used",
            &[("allocation", allocation)],
            usage.used as f64,
        );
    }
    out.header("limit_max", "gauge", "Size of a daily allocation.");
    for (allocation, usage) in &s.limits {
        out.sample("limit_max", &[("allocation", allocation)], usage.max as f64);
    }
    for (name, value) in &s.gauges {
        let help = gauge_help.get(name.as_str()).copied().unwrap_or("");
        out.scalar(name, "gauge", help, *value);
    }
    out.text
}

/// Text exposition writer.
#[derive(Default)]
struct Prom {
    text: String,
}

impl Prom {
    fn header(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(
            self.text,
            "# HELP sfscale_{name} {help}\n# TYPE sfscale_{name} {kind}"
        );
    }

    fn scalar(&mut self, name: &str, kind: &str, help: &str, value: u64) {
        self.header(name, kind, help);
        self.sample(name, &[], value as f64);
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        let _ = write!(self.text, "sfscale_{name}");
        if !labels.is_empty() {
            let rendered: Vec<String> = labels
                .iter()
                .map(|(k, v)| format!("{k}=\"{}\"", escape_label(v)))
                .collect();
            let _ = write!(self.text, "{{{}}}", rendered.join(","));
        }
        let _ = writeln!(self.text, " {value}");
    }

    fn histogram(&mut self, name: &str, labels: &[(&str, &str)], h: &HistogramSnapshot) {
        let bucket = format!("{name}_bucket");
        for (le_ms, n) in &h.buckets {
            let le = (*le_ms as f64 / 1000.0).to_string();
            self.sample(
                &bucket,
                &[labels, &[("le", le.as_str())]].concat(),
                *n as f64,
            );
        }
        self.sample(
            &bucket,
            &[labels, &[("le", "+Inf")]].concat(),
            h.count as f64,
        );
        self.sample(&format!("{name}_sum"), labels, h.sum_ms / 1000.0);
        self.sample(&format!("{name}_count"), labels, h.count as f64);
    }
}

fn escape_label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape_label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
