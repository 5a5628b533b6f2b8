//! The end-of-command report: titled sections of aligned `label  value` lines, plus the
//! number formatting every command shares (thousands separators, percentages, durations).
//!
//! Reports are plain text on stdout so they survive a pipe, a CI log or a copy into a
//! ticket; values are computed by the commands, this module only lays them out.

use std::fmt::Write as _;
use std::time::Duration;

/// A report being assembled.
#[derive(Debug, Default)]
pub struct Report {
    sections: Vec<(String, Vec<(String, String)>)>,
}

impl Report {
    /// Starts a new section.
    pub fn section(&mut self, title: &str) -> &mut Report {
        self.sections.push((title.to_owned(), Vec::new()));
        self
    }

    /// Adds a line to the current section.
    pub fn line(&mut self, label: &str, value: impl Into<String>) -> &mut Report {
        if self.sections.is_empty() {
            self.section("");
        }
        if let Some((_, lines)) = self.sections.last_mut() {
            lines.push((label.to_owned(), value.into()));
        }
        self
    }

    /// The report as text.
    pub fn render(&self) -> String {
        let width = self
            .sections
            .iter()
            .flat_map(|(_, lines)| lines.iter().map(|(label, _)| label.chars().count()))
            .max()
            .unwrap_or(0);
        let mut out = String::new();
        for (title, lines) in &self.sections {
            if !title.is_empty() {
                let _ = writeln!(out, "\n{title}");
            }
            for (label, value) in lines {
                let _ = writeln!(out, "  {label:<width$}  {value}");
            }
        }
        out
    }
}

/// `1234567` → `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `1 job`, `2 jobs`, `1,000 jobs`.
pub fn plural(n: u64, noun: &str) -> String {
    format!("{} {noun}{}", thousands(n), if n == 1 { "" } else { "s" })
}

/// A total and its parts: `146 (throttled 140, lock 6)`, or `0`.
pub fn breakdown(parts: &std::collections::BTreeMap<String, u64>) -> String {
    let total: u64 = parts.values().sum();
    if total == 0 {
        return "0".into();
    }
    let parts: Vec<String> = parts
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(name, n)| format!("{name} {}", thousands(*n)))
        .collect();
    format!("{} ({})", thousands(total), parts.join(", "))
}

/// `part` as a percentage of `whole` with one decimal (`—` when `whole` is 0).
pub fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        return "—".into();
    }
    format!("{:.1} %", part as f64 * 100.0 / whole as f64)
}

/// A duration as seconds with one decimal.
pub fn seconds(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

/// A duration in milliseconds with one decimal.
pub fn millis(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_get_thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn breakdowns_list_the_parts_that_happened() {
        let parts = std::collections::BTreeMap::from([
            ("lock".to_owned(), 6),
            ("throttled".to_owned(), 1_400),
            ("timeout".to_owned(), 0),
        ]);
        assert_eq!(breakdown(&parts), "1,406 (lock 6, throttled 1,400)");
        assert_eq!(breakdown(&Default::default()), "0");
        assert_eq!(plural(1, "job"), "1 job");
        assert_eq!(plural(1_000, "job"), "1,000 jobs");
    }

    #[test]
    fn percentages_of_nothing_are_a_dash() {
        assert_eq!(percent(1, 0), "—");
        assert_eq!(percent(1, 8), "12.5 %");
    }

    #[test]
    fn labels_align_across_sections() {
        let mut report = Report::default();
        report
            .section("A")
            .line("x", "1")
            .section("B")
            .line("longer", "2");
        assert_eq!(report.render(), "\nA\n  x       1\n\nB\n  longer  2\n");
    }
}
