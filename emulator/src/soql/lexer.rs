//! SOQL tokens: names, quoted strings, numbers, date and datetime literals and symbols,
//! each with its byte offset so errors can point at it.
//!
//! Keywords are not tokens of their own: SOQL keywords are case-insensitive and many are
//! also valid field names elsewhere, so the parser recognises them from `Name` tokens in
//! context. String literals keep their raw body (escapes still in place) because the same
//! text decodes differently in `LIKE` (where `\%` and `\_` are literal wildcards) and
//! elsewhere; the lexer only checks the escapes are legal.

use super::errors;
use crate::values::FieldError;

#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// An identifier or keyword: `Name`, `SELECT`, `LAST_N_DAYS`.
    Name,
    /// A quoted string; the token text includes the quotes, `raw` is the body.
    Str {
        raw: String,
    },
    Number,
    Date,
    DateTime,
    /// Punctuation and operators: `( ) , . : = != <> < <= > >= -`.
    Symbol,
    Eof,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub kind: Kind,
    /// Byte offset of the token in the query.
    pub at: usize,
    /// The token as written (`<EOF>` for the end).
    pub text: String,
}

impl Token {
    /// Whether this is the keyword `word` (case-insensitive).
    pub fn is_keyword(&self, word: &str) -> bool {
        self.kind == Kind::Name && self.text.eq_ignore_ascii_case(word)
    }

    pub fn is_symbol(&self, symbol: &str) -> bool {
        self.kind == Kind::Symbol && self.text == symbol
    }
}

/// Splits `soql` into tokens, ending with one `Eof` token.
pub fn tokenize(soql: &str) -> Result<Vec<Token>, FieldError> {
    let mut lexer = Lexer {
        soql,
        bytes: soql.as_bytes(),
        pos: 0,
        tokens: Vec::new(),
    };
    lexer.run()?;
    Ok(lexer.tokens)
}

struct Lexer<'a> {
    soql: &'a str,
    bytes: &'a [u8],
    pos: usize,
    tokens: Vec<Token>,
}

const TWO_CHAR_SYMBOLS: [&str; 4] = ["!=", "<>", "<=", ">="];
const ONE_CHAR_SYMBOLS: &[u8] = b"(),.:=<>-+";

impl Lexer<'_> {
    fn run(&mut self) -> Result<(), FieldError> {
        while let Some(&b) = self.bytes.get(self.pos) {
            let start = self.pos;
            if b.is_ascii_whitespace() {
                self.pos += 1;
                continue;
            }
            let kind = if b.is_ascii_alphabetic() || b == b'_' {
                self.name()
            } else if b.is_ascii_digit() {
                self.number_or_date()
            } else if b == b'\'' {
                self.string()?
            } else {
                self.symbol()?
            };
            self.push(kind, start);
        }
        self.tokens.push(Token {
            kind: Kind::Eof,
            at: self.soql.len(),
            text: "<EOF>".into(),
        });
        Ok(())
    }

    fn push(&mut self, kind: Kind, start: usize) {
        self.tokens.push(Token {
            kind,
            at: start,
            text: self.soql[start..self.pos].to_string(),
        });
    }

    fn eat_while(&mut self, pred: impl Fn(u8) -> bool) {
        while self.bytes.get(self.pos).is_some_and(|&b| pred(b)) {
            self.pos += 1;
        }
    }

    fn name(&mut self) -> Kind {
        self.eat_while(|b| b.is_ascii_alphanumeric() || b == b'_');
        Kind::Name
    }

    fn number_or_date(&mut self) -> Kind {
        let rest = &self.bytes[self.pos..];
        if let Some(len) = date_len(rest) {
            self.pos += len;
            if let Some(len) = time_len(&self.bytes[self.pos..]) {
                self.pos += len;
                return Kind::DateTime;
            }
            return Kind::Date;
        }
        self.eat_while(|b| b.is_ascii_digit());
        if self.bytes.get(self.pos) == Some(&b'.')
            && self.bytes.get(self.pos + 1).is_some_and(u8::is_ascii_digit)
        {
            self.pos += 1;
            self.eat_while(|b| b.is_ascii_digit());
        }
        Kind::Number
    }

    fn string(&mut self) -> Result<Kind, FieldError> {
        let start = self.pos;
        self.pos += 1;
        loop {
            match self.bytes.get(self.pos) {
                None => {
                    return Err(errors::at(
                        self.soql,
                        start,
                        errors::MALFORMED_QUERY,
                        "unterminated string literal",
                    ))
                }
                Some(b'\'') => break,
                Some(b'\\') => {
                    let escape = self.soql[self.pos + 1..].chars().next();
                    if !escape.is_some_and(|c| "nNrRtTbBfF\"'\\_%".contains(c)) {
                        let body =
                            &self.soql[start..(self.pos + 1 + escape.map_or(0, char::len_utf8))];
                        let sequence =
                            format!("\\{}", escape.map(String::from).unwrap_or_default());
                        let message = format!("Invalid string literal {body}. Illegal character sequence '{sequence}' in string literal.");
                        return Err(errors::at(
                            self.soql,
                            self.pos,
                            errors::MALFORMED_QUERY,
                            &message,
                        ));
                    }
                    self.pos += 1 + escape.map_or(0, char::len_utf8);
                }
                Some(_) => self.pos += 1,
            }
        }
        self.pos += 1;
        Ok(Kind::Str {
            raw: self.soql[start + 1..self.pos - 1].to_string(),
        })
    }

    fn symbol(&mut self) -> Result<Kind, FieldError> {
        let rest = &self.soql[self.pos..];
        if let Some(two) = TWO_CHAR_SYMBOLS.iter().find(|s| rest.starts_with(**s)) {
            self.pos += two.len();
            return Ok(Kind::Symbol);
        }
        if ONE_CHAR_SYMBOLS.contains(&self.bytes[self.pos]) {
            self.pos += 1;
            return Ok(Kind::Symbol);
        }
        let c = rest.chars().next().unwrap_or_default();
        Err(errors::unexpected(self.soql, self.pos, &c.to_string()))
    }
}

fn digits(bytes: &[u8], at: usize, n: usize) -> bool {
    bytes.len() >= at + n && bytes[at..at + n].iter().all(u8::is_ascii_digit)
}

/// `YYYY-MM-DD` at the start of `bytes` (not followed by more name characters).
fn date_len(bytes: &[u8]) -> Option<usize> {
    let shape = digits(bytes, 0, 4)
        && bytes.get(4) == Some(&b'-')
        && digits(bytes, 5, 2)
        && bytes.get(7) == Some(&b'-')
        && digits(bytes, 8, 2);
    (shape && !bytes.get(10).is_some_and(|b| b.is_ascii_digit())).then_some(10)
}

/// `THH:MM:SS[.sss](Z|±HH:MM|±HHMM)` at the start of `bytes`.
fn time_len(bytes: &[u8]) -> Option<usize> {
    let shape = bytes.first() == Some(&b'T')
        && digits(bytes, 1, 2)
        && bytes.get(3) == Some(&b':')
        && digits(bytes, 4, 2)
        && bytes.get(6) == Some(&b':')
        && digits(bytes, 7, 2);
    if !shape {
        return None;
    }
    let mut len = 9;
    if bytes.get(len) == Some(&b'.') {
        len += 1;
        while bytes.get(len).is_some_and(u8::is_ascii_digit) {
            len += 1;
        }
    }
    match bytes.get(len) {
        Some(b'Z' | b'z') => Some(len + 1),
        Some(b'+' | b'-')
            if digits(bytes, len + 1, 2)
                && bytes.get(len + 3) == Some(&b':')
                && digits(bytes, len + 4, 2) =>
        {
            Some(len + 6)
        }
        Some(b'+' | b'-') if digits(bytes, len + 1, 4) => Some(len + 5),
        _ => None,
    }
}

/// The value of a string literal body outside `LIKE`: escapes decoded, `\%` and `\_`
/// kept as written (they only mean something in `LIKE`).
pub fn decode(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n' | 'N') => out.push('\n'),
            Some('r' | 'R') => out.push('\r'),
            Some('t' | 'T') => out.push('\t'),
            Some('b' | 'B') => out.push('\u{8}'),
            Some('f' | 'F') => out.push('\u{c}'),
            Some(wild @ ('%' | '_')) => {
                out.push('\\');
                out.push(wild);
            }
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(soql: &str) -> Vec<(Kind, String)> {
        tokenize(soql)
            .unwrap()
            .into_iter()
            .map(|t| (t.kind, t.text))
            .collect()
    }

    #[test]
    fn splits_names_symbols_numbers_and_literals_with_offsets() {
        let tokens = tokenize("SELECT Account.Name FROM Contact WHERE Amount >= -1.5").unwrap();
        let texts: Vec<_> = tokens.iter().map(|t| t.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "SELECT", "Account", ".", "Name", "FROM", "Contact", "WHERE", "Amount", ">=", "-",
                "1.5", "<EOF>"
            ]
        );
        assert_eq!(tokens[3].at, 15);
        assert_eq!(tokens[10].kind, Kind::Number);
    }

    #[test]
    fn date_and_datetime_literals_are_single_tokens() {
        let k = kinds("2024-01-31 2024-01-31T10:00:00Z 2024-01-31T10:00:00.123+01:00 2024-01-31T10:00:00-0500 2024");
        assert_eq!(k[0], (Kind::Date, "2024-01-31".into()));
        assert_eq!(k[1], (Kind::DateTime, "2024-01-31T10:00:00Z".into()));
        assert_eq!(
            k[2],
            (Kind::DateTime, "2024-01-31T10:00:00.123+01:00".into())
        );
        assert_eq!(k[3], (Kind::DateTime, "2024-01-31T10:00:00-0500".into()));
        assert_eq!(k[4], (Kind::Number, "2024".into()));
    }

    #[test]
    fn strings_keep_their_raw_body_and_decode_soql_escapes() {
        let k = kinds(r"'O\'Brien' 'a\\b\n' '50\%'");
        assert_eq!(
            k[0].0,
            Kind::Str {
                raw: r"O\'Brien".into()
            }
        );
        assert_eq!(decode(r"O\'Brien"), "O'Brien");
        assert_eq!(decode(r#"a\\b\n\T\"x\""#), "a\\b\n\t\"x\"");
        assert_eq!(decode(r"50\%"), r"50\%");
    }

    #[test]
    fn bad_escapes_unterminated_strings_and_stray_characters_are_malformed() {
        let e = tokenize(r"SELECT Id FROM Account WHERE Name = 'a\qb'").unwrap_err();
        assert_eq!(e.code, "MALFORMED_QUERY");
        assert!(
            e.message
                .ends_with(r"Illegal character sequence '\q' in string literal."),
            "{}",
            e.message
        );
        let e = tokenize("SELECT Id FROM Account WHERE Name = 'abc").unwrap_err();
        assert!(e.message.contains("Column:37"), "{}", e.message);
        let e = tokenize("SELECT Id FROM Contact WHERE Email = liam@example.com").unwrap_err();
        assert!(
            e.message.ends_with("unexpected token: '@'"),
            "{}",
            e.message
        );
        assert!(e.message.contains("Column:42"), "{}", e.message);
    }
}
