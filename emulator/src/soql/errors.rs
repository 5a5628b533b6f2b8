//! SOQL error messages in Salesforce's shape.
//!
//! Salesforce prefixes positional SOQL errors with a window of the query line, a caret
//! under the offending character and `ERROR at Row:<r>:Column:<c>`, then the explanation:
//!
//! ```text
//! \nSELECT Id,Invalid__x FROM Contact LIMIT 1\n          ^\nERROR at Row:1:Column:11\nNo such column ...
//! ```
//!
//! Long lines are cut to whole words (split at spaces and commas) from about 30 characters
//! before the error to about 30 after, as observed in real error bodies; clients parse the
//! row and column out of this text, so they must be right. Rows and columns are 1-based and
//! count characters, not bytes.

use crate::values::FieldError;

/// How far around the error position the quoted fragment reaches, in characters.
const WINDOW: usize = 30;

/// Codes used by the SOQL errors.
pub const MALFORMED_QUERY: &str = "MALFORMED_QUERY";
pub const INVALID_FIELD: &str = "INVALID_FIELD";
pub const INVALID_TYPE: &str = "INVALID_TYPE";

/// A SOQL error at byte offset `at` of `soql`, with the caret prefix.
pub fn at(soql: &str, at: usize, code: &str, explanation: &str) -> FieldError {
    FieldError::new(code, format!("{}{explanation}", prefix(soql, at)), &[])
}

/// `MALFORMED_QUERY: unexpected token: '<token>'` at `at`.
pub fn unexpected(soql: &str, at: usize, token: &str) -> FieldError {
    self::at(
        soql,
        at,
        MALFORMED_QUERY,
        &format!("unexpected token: '{token}'"),
    )
}

/// `\n<fragment>\n<caret>\nERROR at Row:r:Column:c\n` for byte offset `at`.
fn prefix(soql: &str, at: usize) -> String {
    let at = floor_char_boundary(soql, at.min(soql.len()));
    let line_start = soql[..at].rfind('\n').map_or(0, |i| i + 1);
    let line_end = soql[at..].find('\n').map_or(soql.len(), |i| at + i);
    let row = soql[..line_start].matches('\n').count() + 1;
    let line: Vec<char> = soql[line_start..line_end]
        .trim_end_matches('\r')
        .chars()
        .collect();
    let column = soql[line_start..at].chars().count();
    let (from, to) = window(&line, column);
    let fragment: String = line[from..to].iter().collect();
    let caret = " ".repeat(column - from);
    format!(
        "\n{fragment}\n{caret}^\nERROR at Row:{row}:Column:{}\n",
        column + 1
    )
}

fn floor_char_boundary(text: &str, mut at: usize) -> usize {
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn is_separator(c: char) -> bool {
    c.is_whitespace() || c == ','
}

/// The character range of `line` shown around `column`: from the start of the word at
/// `column - WINDOW` to the end of the word reaching `column + WINDOW`.
fn window(line: &[char], column: usize) -> (usize, usize) {
    let mut from = column.saturating_sub(WINDOW).min(line.len());
    while from > 0 && !is_separator(line[from - 1]) {
        from -= 1;
    }
    let mut to = (column + WINDOW).min(line.len());
    while to < line.len() && is_separator(line[to]) {
        to += 1;
    }
    while to < line.len() && !is_separator(line[to]) {
        to += 1;
    }
    (from, to.max(from))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_queries_are_quoted_whole_with_the_caret_under_the_error() {
        let soql = "SELECT Id,Invalid__x FROM Contact LIMIT 1";
        let e = at(soql, 10, INVALID_FIELD, "No such column");
        assert_eq!(e.message, "\nSELECT Id,Invalid__x FROM Contact LIMIT 1\n          ^\nERROR at Row:1:Column:11\nNo such column");
        assert_eq!(e.code, "INVALID_FIELD");
    }

    #[test]
    fn end_of_input_is_one_past_the_last_column() {
        let soql = "SELECT Id FROM Account WHERE";
        let e = unexpected(soql, soql.len(), "<EOF>");
        assert_eq!(e.message, "\nSELECT Id FROM Account WHERE\n                            ^\nERROR at Row:1:Column:29\nunexpected token: '<EOF>'");
    }

    #[test]
    fn long_lines_are_cut_to_whole_words_around_the_error() {
        let soql = format!(
            "SELECT Id, {} FROM Account",
            "Alpha,Beta,Gamma,Delta,Epsilon,Zeta,Eta,Theta,Iota,Kappa,Lambda,Mu"
        );
        let at_theta = soql.find("Theta").unwrap();
        let e = unexpected(&soql, at_theta, "Theta");
        let lines: Vec<&str> = e.message.split('\n').collect();
        assert_eq!(
            lines[1],
            "Beta,Gamma,Delta,Epsilon,Zeta,Eta,Theta,Iota,Kappa,Lambda,Mu FROM"
        );
        assert_eq!(
            lines[2].len(),
            "Beta,Gamma,Delta,Epsilon,Zeta,Eta,".len() + 1
        );
        assert_eq!(lines[3], format!("ERROR at Row:1:Column:{}", at_theta + 1));
    }

    #[test]
    fn rows_and_columns_count_lines_and_characters() {
        let soql = "SELECT Id\nFROM Bar__c\nWHERE Nope__c = 1";
        let e = at(soql, soql.find("Nope").unwrap(), INVALID_FIELD, "x");
        assert_eq!(
            e.message,
            "\nWHERE Nope__c = 1\n      ^\nERROR at Row:3:Column:7\nx"
        );
        let e = unexpected("SELECT Név, é FROM Account", "SELECT Név, ".len(), "é");
        assert!(
            e.message.contains("ERROR at Row:1:Column:13"),
            "{}",
            e.message
        );
    }
}
