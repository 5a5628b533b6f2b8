//! Relative date literals (`TODAY`, `LAST_N_DAYS:7`, `THIS_QUARTER` …) as day ranges.
//!
//! Each literal is a half-open range of days `[start, end)`; comparing a field with it
//! compares against the range (`= TODAY` means "within today", `> TODAY` "after today").
//! The org's time zone is UTC and its fiscal year is the calendar year; weeks start on
//! Sunday, as in a default (en_US) org. Ranges follow Salesforce's definitions: the
//! `LAST_N_DAYS` range includes today, `NEXT_N_DAYS` starts tomorrow, and the `_N_WEEKS`,
//! `_N_MONTHS` and `_N_YEARS` forms exclude the current period.

use super::ast::RelativeDate;
use chrono::{Datelike, Days, Months, NaiveDate};

/// The days `[start, end)` that `literal` covers when today is `today`.
pub fn range(literal: RelativeDate, today: NaiveDate) -> (NaiveDate, NaiveDate) {
    use RelativeDate::*;
    let week = week_start(today);
    let month = today.with_day(1).expect("day 1 exists");
    let quarter = month
        .with_month0(month.month0() / 3 * 3)
        .expect("quarter start exists");
    let year = month.with_month(1).expect("january exists");
    match literal {
        Yesterday => (days(today, -1), today),
        Today => (today, days(today, 1)),
        Tomorrow => (days(today, 1), days(today, 2)),
        LastWeek => (days(week, -7), week),
        ThisWeek => (week, days(week, 7)),
        NextWeek => (days(week, 7), days(week, 14)),
        LastMonth => (months(month, -1), month),
        ThisMonth => (month, months(month, 1)),
        NextMonth => (months(month, 1), months(month, 2)),
        LastQuarter => (months(quarter, -3), quarter),
        ThisQuarter => (quarter, months(quarter, 3)),
        NextQuarter => (months(quarter, 3), months(quarter, 6)),
        LastYear => (months(year, -12), year),
        ThisYear => (year, months(year, 12)),
        NextYear => (months(year, 12), months(year, 24)),
        LastNDays(n) => (days(today, -i64::from(n)), days(today, 1)),
        NextNDays(n) => (days(today, 1), days(today, 1 + i64::from(n))),
        NDaysAgo(n) => (days(today, -i64::from(n)), days(today, 1 - i64::from(n))),
        LastNWeeks(n) => (days(week, -7 * i64::from(n)), week),
        NextNWeeks(n) => (days(week, 7), days(week, 7 + 7 * i64::from(n))),
        LastNMonths(n) => (months(month, -i64::from(n)), month),
        NextNMonths(n) => (months(month, 1), months(month, 1 + i64::from(n))),
        LastNYears(n) => (months(year, -12 * i64::from(n)), year),
        NextNYears(n) => (months(year, 12), months(year, 12 + 12 * i64::from(n))),
    }
}

fn week_start(day: NaiveDate) -> NaiveDate {
    days(day, -i64::from(day.weekday().num_days_from_sunday()))
}

/// `day` moved by `n` days, saturating at the calendar's ends.
fn days(day: NaiveDate, n: i64) -> NaiveDate {
    let moved = if n >= 0 {
        day.checked_add_days(Days::new(n as u64))
    } else {
        day.checked_sub_days(Days::new(n.unsigned_abs()))
    };
    moved.unwrap_or(if n >= 0 {
        NaiveDate::MAX
    } else {
        NaiveDate::MIN
    })
}

/// `day` moved by `n` months, saturating at the calendar's ends.
fn months(day: NaiveDate, n: i64) -> NaiveDate {
    let count = u32::try_from(n.unsigned_abs()).ok().map(Months::new);
    let moved = count.and_then(|m| {
        if n >= 0 {
            day.checked_add_months(m)
        } else {
            day.checked_sub_months(m)
        }
    });
    moved.unwrap_or(if n >= 0 {
        NaiveDate::MAX
    } else {
        NaiveDate::MIN
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use RelativeDate::*;

    fn d(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    fn r(literal: RelativeDate) -> (String, String) {
        // 2024-05-15 is a Wednesday in Q2.
        let (start, end) = range(literal, d("2024-05-15"));
        (start.to_string(), end.to_string())
    }

    fn pair(a: &str, b: &str) -> (String, String) {
        (a.to_string(), b.to_string())
    }

    #[test]
    fn days_weeks_months_quarters_and_years_around_today() {
        assert_eq!(r(Today), pair("2024-05-15", "2024-05-16"));
        assert_eq!(r(Yesterday), pair("2024-05-14", "2024-05-15"));
        assert_eq!(r(ThisWeek), pair("2024-05-12", "2024-05-19"));
        assert_eq!(r(LastWeek), pair("2024-05-05", "2024-05-12"));
        assert_eq!(r(ThisMonth), pair("2024-05-01", "2024-06-01"));
        assert_eq!(r(LastMonth), pair("2024-04-01", "2024-05-01"));
        assert_eq!(r(ThisQuarter), pair("2024-04-01", "2024-07-01"));
        assert_eq!(r(LastQuarter), pair("2024-01-01", "2024-04-01"));
        assert_eq!(r(NextYear), pair("2025-01-01", "2026-01-01"));
    }

    #[test]
    fn n_forms_follow_salesforce_inclusion_rules() {
        assert_eq!(r(LastNDays(7)), pair("2024-05-08", "2024-05-16"));
        assert_eq!(r(NextNDays(2)), pair("2024-05-16", "2024-05-18"));
        assert_eq!(r(NDaysAgo(3)), pair("2024-05-12", "2024-05-13"));
        assert_eq!(r(LastNMonths(2)), pair("2024-03-01", "2024-05-01"));
        assert_eq!(r(NextNWeeks(1)), pair("2024-05-19", "2024-05-26"));
        assert_eq!(r(LastNYears(1)), pair("2023-01-01", "2024-01-01"));
    }

    #[test]
    fn huge_counts_saturate_instead_of_panicking() {
        let (start, _) = range(LastNDays(u32::MAX), d("2024-05-15"));
        assert_eq!(start, NaiveDate::MIN);
        let (_, end) = range(NextNYears(u32::MAX), d("2024-05-15"));
        assert_eq!(end, NaiveDate::MAX);
    }
}
