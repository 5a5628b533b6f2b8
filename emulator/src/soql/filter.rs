//! `WHERE` conditions: type-checked against the fields they compare, compiled once into a
//! [`Filter`] whose literals are already in the form stored values take, then evaluated
//! per row without allocating (short ASCII text is lowercased on the stack; long or
//! non-ASCII text in `LIKE` and `IN` is lowercased into a new string).
//!
//! Semantics follow SOQL rather than SQL: text comparisons ignore case, an empty string
//! literal means null, `!=` and `NOT IN` match null values, and date literals are day
//! ranges (`CreatedDate = TODAY` is "some time today"). Dates and datetimes are compared
//! as their canonical text, which sorts chronologically (see `values`).

use super::ast::{Condition, Literal, LiteralKind, Op, Path};
use super::dates;
use super::errors;
use super::lexer;
use super::plan::{Prepared, Resolver, Slot};
use crate::ids;
use crate::schema::FieldType;
use crate::values::{self, FieldError};
use chrono::{Duration, NaiveDate};
use serde_json::Value;
use std::cmp::Ordering;
use std::collections::HashSet;

/// Something that yields the value at a slot (`None`: the parent record is absent).
pub trait Source {
    fn value(&self, slot: Slot) -> Option<&Value>;
}

/// A compiled `WHERE` condition.
#[derive(Debug, Clone)]
pub enum Filter {
    And(Vec<Filter>),
    Or(Vec<Filter>),
    Not(Box<Filter>),
    /// `field = null` (`is_null`) or `field != null`.
    Null {
        slot: Slot,
        is_null: bool,
    },
    Compare {
        slot: Slot,
        op: Op,
        operand: Operand,
    },
    In {
        slot: Slot,
        negated: bool,
        members: Members,
        with_null: bool,
    },
    Like {
        slot: Slot,
        pattern: Vec<LikeToken>,
    },
    /// A semi-join (`field IN (SELECT …)`); execution replaces it by the `In` of the ids
    /// its query returns before any row is matched.
    InQuery {
        slot: Slot,
        negated: bool,
        query: Box<Prepared>,
    },
}

/// The non-null values of an `IN` list. Text and id lists are hashed, since integrations
/// send lists of hundreds of ids or external ids and every row is checked against them.
#[derive(Debug, Clone, PartialEq)]
pub enum Members {
    /// Lowercased text.
    Text(HashSet<String>),
    /// 18-character ids.
    Exact(HashSet<String>),
    Other(Vec<Operand>),
}

impl Members {
    fn from_operands(operands: Vec<Operand>) -> Members {
        let text = |o: &Operand| match o {
            Operand::Text(t) => Some(t.clone()),
            _ => None,
        };
        let exact = |o: &Operand| match o {
            Operand::Exact(t) => Some(t.clone()),
            _ => None,
        };
        if let Some(set) = operands.iter().map(text).collect::<Option<HashSet<_>>>() {
            return Members::Text(set);
        }
        if let Some(set) = operands.iter().map(exact).collect::<Option<HashSet<_>>>() {
            return Members::Exact(set);
        }
        Members::Other(operands)
    }

    /// Whether the (non-null) value is one of the members.
    fn contains(&self, value: &Value) -> bool {
        match (self, value) {
            (Members::Exact(set), Value::String(s)) => set.contains(s.as_str()),
            (Members::Text(set), Value::String(s)) if s.len() <= STACK_TEXT && s.is_ascii() => {
                let mut buffer = [0u8; STACK_TEXT];
                let lower = ascii_lowercase(s, &mut buffer);
                std::str::from_utf8(lower).is_ok_and(|lower| set.contains(lower))
            }
            (Members::Text(set), Value::String(s)) => set.contains(&s.to_lowercase()),
            (Members::Other(operands), value) => {
                operands.iter().any(|o| compare(Some(value), Op::Eq, o))
            }
            _ => false,
        }
    }
}

/// A literal converted to the form of the field it is compared with.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// Text compared case-insensitively (stored lowercased).
    Text(String),
    /// Ids, compared exactly in their 18-character form.
    Exact(String),
    Number(f64),
    Bool(bool),
    /// Canonical date or datetime text `[start, end)`.
    Range(String, String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum LikeToken {
    Char(char),
    /// `_`
    One,
    /// `%`
    Any,
}

/// Compiles `condition`, resolving its paths through `resolver`.
pub fn compile(
    resolver: &mut Resolver,
    condition: &Condition,
    today: NaiveDate,
) -> Result<Filter, FieldError> {
    Ok(match condition {
        Condition::And(items) => Filter::And(compile_all(resolver, items, today)?),
        Condition::Or(items) => Filter::Or(compile_all(resolver, items, today)?),
        Condition::Not(inner) => Filter::Not(Box::new(compile(resolver, inner, today)?)),
        Condition::Compare { path, op, value } => {
            let slot = resolver.slot(path)?;
            match operand(resolver.soql, path, slot, value, today)? {
                None if matches!(op, Op::Eq | Op::Ne) => Filter::Null {
                    slot,
                    is_null: *op == Op::Eq,
                },
                None => return Err(errors::unexpected(resolver.soql, value.at, "null")),
                Some(operand) => Filter::Compare {
                    slot,
                    op: *op,
                    operand,
                },
            }
        }
        Condition::In {
            path,
            negated,
            values,
        } => {
            let slot = resolver.slot(path)?;
            let mut operands = Vec::with_capacity(values.len());
            let mut with_null = false;
            for value in values {
                match operand(resolver.soql, path, slot, value, today)? {
                    Some(o) => operands.push(o),
                    None => with_null = true,
                }
            }
            Filter::In {
                slot,
                negated: *negated,
                members: Members::from_operands(operands),
                with_null,
            }
        }
        Condition::InQuery {
            path,
            negated,
            query,
        } => {
            let slot = resolver.slot(path)?;
            if !matches!(slot.field_type, FieldType::Id | FieldType::Reference) {
                let message = format!(
                    "Semi join sub-selects are only allowed on Id or reference fields: {}",
                    path.text()
                );
                return Err(errors::at(
                    resolver.soql,
                    path.at,
                    errors::MALFORMED_QUERY,
                    &message,
                ));
            }
            Filter::InQuery {
                slot,
                negated: *negated,
                query: Box::new(resolver.semi_join(query)?),
            }
        }
        Condition::Like { path, pattern } => {
            let slot = resolver.slot(path)?;
            Filter::Like {
                slot,
                pattern: like_pattern(resolver.soql, path, slot, pattern)?,
            }
        }
    })
}

fn compile_all(
    resolver: &mut Resolver,
    items: &[Condition],
    today: NaiveDate,
) -> Result<Vec<Filter>, FieldError> {
    items.iter().map(|c| compile(resolver, c, today)).collect()
}

/// Salesforce reports quoted numbers as malformed and other mismatches as invalid fields.
fn type_error(path: &Path, expected: &str) -> FieldError {
    let (code, should) = match expected {
        "string" => (errors::INVALID_FIELD, "should be enclosed in quotes"),
        "integer" | "double" => (errors::MALFORMED_QUERY, "should not be enclosed in quotes"),
        _ => (errors::INVALID_FIELD, "should not be enclosed in quotes"),
    };
    FieldError::new(
        code,
        format!(
            "value of filter criterion for field '{}' must be of type {expected} and {should}",
            path.text()
        ),
        &[],
    )
}

fn expected_type(field_type: FieldType) -> &'static str {
    match field_type {
        FieldType::Int => "integer",
        t if t.is_numeric() => "double",
        FieldType::Boolean => "boolean",
        FieldType::Date => "date",
        FieldType::Datetime => "dateTime",
        _ => "string",
    }
}

/// The literal as an operand for the slot's field; `None` for null (and `''`).
fn operand(
    soql: &str,
    path: &Path,
    slot: Slot,
    literal: &Literal,
    today: NaiveDate,
) -> Result<Option<Operand>, FieldError> {
    use FieldType::*;
    use LiteralKind as L;
    let expected = expected_type(slot.field_type);
    let mismatch = || type_error(path, expected);
    let operand = match (&literal.kind, slot.field_type) {
        (L::Null, _) => return Ok(None),
        (L::Str(raw), Id | Reference) => {
            let text = lexer::decode(raw);
            if text.is_empty() {
                return Ok(None);
            }
            let id = ids::normalize(&text).ok_or_else(|| {
                errors::at(
                    soql,
                    literal.at,
                    "INVALID_QUERY_FILTER_OPERATOR",
                    &format!("invalid ID field: {text}"),
                )
            })?;
            Operand::Exact(id)
        }
        (L::Str(raw), t) if t.is_text() => {
            let text = lexer::decode(raw);
            if text.is_empty() {
                return Ok(None);
            }
            Operand::Text(text.to_lowercase())
        }
        (L::Number(text), t) if t.is_numeric() => {
            Operand::Number(text.parse().map_err(|_| mismatch())?)
        }
        (L::Bool(b), Boolean) => Operand::Bool(*b),
        (L::Date(text), Date) => {
            let day = NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map_err(|_| invalid_literal(soql, literal, "date"))?;
            date_range(day, day + Duration::days(1), Date)
        }
        (L::DateTime(text), Datetime) => {
            let at = values::parse_datetime(text)
                .ok_or_else(|| invalid_literal(soql, literal, "datetime"))?;
            Operand::Range(
                values::format_datetime(&at),
                values::format_datetime(&(at + Duration::milliseconds(1))),
            )
        }
        (L::Relative(relative), Date | Datetime) => {
            let (start, end) = dates::range(*relative, today);
            date_range(start, end, slot.field_type)
        }
        _ => return Err(mismatch()),
    };
    Ok(Some(operand))
}

fn invalid_literal(soql: &str, literal: &Literal, kind: &str) -> FieldError {
    errors::at(
        soql,
        literal.at,
        errors::MALFORMED_QUERY,
        &format!("invalid {kind} literal"),
    )
}

/// A day range as canonical text for a date or datetime field; years outside 1..=9999
/// become open bounds (`""` sorts before and `"~"` after every date).
fn date_range(start: NaiveDate, end: NaiveDate, field_type: FieldType) -> Operand {
    let text = |day: NaiveDate, open: &str| {
        let year = chrono::Datelike::year(&day);
        if !(1..=9999).contains(&year) {
            return open.to_string();
        }
        match field_type {
            FieldType::Date => day.format("%Y-%m-%d").to_string(),
            _ => day.format("%Y-%m-%dT00:00:00.000+0000").to_string(),
        }
    };
    let open_start = if chrono::Datelike::year(&start) < 1 {
        ""
    } else {
        "~"
    };
    let open_end = if chrono::Datelike::year(&end) < 1 {
        ""
    } else {
        "~"
    };
    Operand::Range(text(start, open_start), text(end, open_end))
}

fn like_pattern(
    soql: &str,
    path: &Path,
    slot: Slot,
    literal: &Literal,
) -> Result<Vec<LikeToken>, FieldError> {
    if !slot.field_type.is_text() {
        let message = format!("invalid operator on field: {}", path.text());
        return Err(errors::at(soql, path.at, errors::INVALID_FIELD, &message));
    }
    let LiteralKind::Str(raw) = &literal.kind else {
        return Err(type_error(path, "string"));
    };
    let mut tokens = Vec::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        match c {
            '%' => tokens.push(LikeToken::Any),
            '_' => tokens.push(LikeToken::One),
            '\\' => {
                let escaped: String = chars
                    .next()
                    .map(|e| lexer::decode(&format!("\\{e}")))
                    .unwrap_or_default();
                let literal = escaped
                    .strip_prefix('\\')
                    .filter(|rest| !rest.is_empty())
                    .unwrap_or(&escaped);
                tokens.extend(
                    literal
                        .chars()
                        .flat_map(char::to_lowercase)
                        .map(LikeToken::Char),
                );
            }
            other => tokens.extend(other.to_lowercase().map(LikeToken::Char)),
        }
    }
    Ok(tokens)
}

/// Null in SOQL's sense: JSON null or an empty string.
pub fn is_null(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.is_empty(),
        Some(_) => false,
    }
}

/// Short ASCII values are lowercased on the stack (filters run once per row).
const STACK_TEXT: usize = 256;

/// Compares text with already-lowercased text, ignoring the case of `a`.
pub fn cmp_ignore_case(a: &str, lower_b: &str) -> Ordering {
    if a.len() <= STACK_TEXT && a.is_ascii() {
        let mut buffer = [0u8; STACK_TEXT];
        return ascii_lowercase(a, &mut buffer).cmp(lower_b.as_bytes());
    }
    a.chars().flat_map(char::to_lowercase).cmp(lower_b.chars())
}

fn ascii_lowercase<'b>(text: &str, buffer: &'b mut [u8; STACK_TEXT]) -> &'b [u8] {
    let lower = &mut buffer[..text.len()];
    lower.copy_from_slice(text.as_bytes());
    lower.make_ascii_lowercase();
    lower
}

/// Whether `text` matches the `LIKE` pattern, ignoring case.
fn like_text(pattern: &[LikeToken], text: &str) -> bool {
    if text.len() <= STACK_TEXT && text.is_ascii() {
        let mut buffer = [0u8; STACK_TEXT];
        return like(pattern, ascii_lowercase(text, &mut buffer), |c, b| {
            c == char::from(b)
        });
    }
    let chars: Vec<char> = text.chars().flat_map(char::to_lowercase).collect();
    like(pattern, &chars, |c, t| c == t)
}

impl Filter {
    /// Whether the filter reads only the queried object's own fields (no parents).
    pub fn is_local(&self) -> bool {
        match self {
            Filter::And(items) | Filter::Or(items) => items.iter().all(Filter::is_local),
            Filter::Not(inner) => inner.is_local(),
            Filter::Null { slot, .. }
            | Filter::Compare { slot, .. }
            | Filter::In { slot, .. }
            | Filter::Like { slot, .. }
            | Filter::InQuery { slot, .. } => slot.node == 0,
        }
    }

    /// Whether the filter holds a semi-join (to run before matching rows).
    pub fn has_semi_joins(&self) -> bool {
        match self {
            Filter::And(items) | Filter::Or(items) => items.iter().any(Filter::has_semi_joins),
            Filter::Not(inner) => inner.has_semi_joins(),
            Filter::InQuery { .. } => true,
            _ => false,
        }
    }

    /// The only ids the filter can match, when it pins the queried object's `Id` at its
    /// top level (`Id = '…'`, `Id IN (…)`, or one of those inside an `AND`).
    pub fn pinned_ids(&self) -> Option<Vec<&str>> {
        let is_id = |slot: &Slot| slot.node == 0 && slot.column == 0;
        match self {
            Filter::Compare {
                slot,
                op: Op::Eq,
                operand: Operand::Exact(id),
            } if is_id(slot) => Some(vec![id.as_str()]),
            Filter::In {
                slot,
                negated: false,
                members: Members::Exact(ids),
                ..
            } if is_id(slot) => Some(ids.iter().map(String::as_str).collect()),
            Filter::And(items) => items.iter().find_map(Filter::pinned_ids),
            _ => None,
        }
    }

    pub fn matches(&self, row: &impl Source) -> bool {
        match self {
            Filter::And(items) => items.iter().all(|f| f.matches(row)),
            Filter::Or(items) => items.iter().any(|f| f.matches(row)),
            Filter::Not(inner) => !inner.matches(row),
            Filter::Null {
                slot,
                is_null: want_null,
            } => is_null(row.value(*slot)) == *want_null,
            Filter::Compare { slot, op, operand } => compare(row.value(*slot), *op, operand),
            Filter::In {
                slot,
                negated,
                members,
                with_null,
            } => {
                let found = match row.value(*slot) {
                    value if is_null(value) => *with_null,
                    value => value.is_some_and(|v| members.contains(v)),
                };
                found != *negated
            }
            Filter::InQuery { .. } => {
                debug_assert!(false, "semi-joins are run before rows are matched");
                false
            }
            Filter::Like { slot, pattern } => match row.value(*slot) {
                Some(Value::String(text)) if !text.is_empty() => like_text(pattern, text),
                _ => false,
            },
        }
    }
}

fn compare(value: Option<&Value>, op: Op, operand: &Operand) -> bool {
    if is_null(value) {
        return op == Op::Ne;
    }
    let value = value.expect("not null");
    let ordering = match (operand, value) {
        (Operand::Text(b), Value::String(a)) => cmp_ignore_case(a, b),
        (Operand::Exact(b), Value::String(a)) => a.as_str().cmp(b),
        (Operand::Number(b), Value::Number(a)) => a
            .as_f64()
            .and_then(|a| a.partial_cmp(b))
            .unwrap_or(Ordering::Less),
        (Operand::Bool(b), Value::Bool(a)) => a.cmp(b),
        (Operand::Range(start, end), Value::String(a)) => return in_range(a, op, start, end),
        _ => return op == Op::Ne,
    };
    match op {
        Op::Eq => ordering == Ordering::Equal,
        Op::Ne => ordering != Ordering::Equal,
        Op::Lt => ordering == Ordering::Less,
        Op::Le => ordering != Ordering::Greater,
        Op::Gt => ordering == Ordering::Greater,
        Op::Ge => ordering != Ordering::Less,
    }
}

/// Comparison with a range `[start, end)`: `=` is "inside", `<` "before", `>` "after".
fn in_range(value: &str, op: Op, start: &str, end: &str) -> bool {
    let inside = start <= value && value < end;
    match op {
        Op::Eq => inside,
        Op::Ne => !inside,
        Op::Lt => value < start,
        Op::Le => value < end,
        Op::Gt => value >= end,
        Op::Ge => value >= start,
    }
}

/// `LIKE` matching of lowercased text: `%` any run, `_` one character.
fn like<T: Copy>(pattern: &[LikeToken], text: &[T], same: impl Fn(char, T) -> bool) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut backtrack: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(LikeToken::Any) => {
                backtrack = Some((p, t));
                p += 1;
            }
            Some(LikeToken::One) => (p, t) = (p + 1, t + 1),
            Some(LikeToken::Char(c)) if same(*c, text[t]) => (p, t) = (p + 1, t + 1),
            _ => match backtrack {
                Some((star, from)) => {
                    backtrack = Some((star, from + 1));
                    (p, t) = (star + 1, from + 1);
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|token| *token == LikeToken::Any)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(raw: &str) -> Vec<LikeToken> {
        let slot = Slot {
            node: 0,
            column: 0,
            field_type: FieldType::String,
        };
        let path = Path {
            segments: vec!["Name".into()],
            at: 0,
        };
        like_pattern(
            "",
            &path,
            slot,
            &Literal {
                kind: LiteralKind::Str(raw.into()),
                at: 0,
            },
        )
        .unwrap()
    }

    fn like_matches(raw: &str, text: &str) -> bool {
        like_text(&pattern(raw), text)
    }

    #[test]
    fn like_handles_wildcards_escapes_and_case() {
        assert!(like_matches("acme%", "ACME Corp"));
        assert!(like_matches("%corp", "Acme Corp"));
        assert!(like_matches("%me c%", "Acme Corp"));
        assert!(like_matches("a_me", "Acme"));
        assert!(!like_matches("a_me", "Acmee"));
        assert!(like_matches("%a%b%c%", "xaxxbxxcx"));
        assert!(!like_matches("%a%b%c", "xaxxbxxcx"));
        assert!(like_matches(r"50\%", "50%"));
        assert!(!like_matches(r"50\%", "500"));
        assert!(like_matches(r"a\_b", "a_b"));
        assert!(!like_matches(r"a\_b", "axb"));
        assert!(like_matches(r"O\'B%", "O'Brien"));
        assert!(like_matches("%", ""));
        assert!(
            like_matches("é%", "École"),
            "non-ASCII text takes the char path"
        );
        assert!(
            like_matches("%x", &format!("{}x", "a".repeat(300))),
            "long text takes the char path"
        );
        assert!(
            like_matches("é%", "École"),
            "non-ASCII text takes the char path"
        );
        assert!(
            like_matches("%x", &format!("{}x", "a".repeat(300))),
            "long text takes the char path"
        );
    }

    #[test]
    fn ranges_give_date_literal_comparison_semantics() {
        let (s, e) = ("2024-05-15", "2024-05-16");
        assert!(in_range("2024-05-15", Op::Eq, s, e));
        assert!(!in_range("2024-05-16", Op::Eq, s, e));
        assert!(in_range("2024-05-14", Op::Lt, s, e) && !in_range("2024-05-15", Op::Lt, s, e));
        assert!(in_range("2024-05-15", Op::Le, s, e) && !in_range("2024-05-16", Op::Le, s, e));
        assert!(in_range("2024-05-16", Op::Gt, s, e) && !in_range("2024-05-15", Op::Gt, s, e));
        assert!(in_range("2024-05-15", Op::Ge, s, e) && !in_range("2024-05-14", Op::Ge, s, e));
    }

    #[test]
    fn comparisons_follow_soql_null_and_case_rules() {
        let acme = Value::String("Acme".into());
        assert!(compare(Some(&acme), Op::Eq, &Operand::Text("acme".into())));
        assert!(compare(Some(&acme), Op::Lt, &Operand::Text("b".into())));
        assert!(compare(None, Op::Ne, &Operand::Text("acme".into())));
        assert!(!compare(
            Some(&Value::Null),
            Op::Lt,
            &Operand::Text("acme".into())
        ));
        assert!(is_null(Some(&Value::String(String::new()))));
        assert!(compare(
            Some(&serde_json::json!(5)),
            Op::Ge,
            &Operand::Number(4.5)
        ));
        assert_eq!(cmp_ignore_case("Émile", "émile"), Ordering::Equal);
    }

    #[test]
    fn open_bounds_sort_outside_every_date() {
        let Operand::Range(start, end) =
            date_range(NaiveDate::MIN, NaiveDate::MAX, FieldType::Date)
        else {
            panic!()
        };
        assert!(start.as_str() < "0001-01-01" && end.as_str() > "9999-12-31");
    }
}
