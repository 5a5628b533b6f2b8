//! Safe path segments from caller input: identifiers validated, ids checked, values encoded.

use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};

use crate::error::Error;
use crate::soql::validate_identifier;

/// Characters escaped in a path segment: everything but letters, digits, `-`, `_` and `~`
/// (dots too, so `..` can never be a dot-segment).
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b':')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'@')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}')
    .add(b'&')
    .add(b'+')
    .add(b',')
    .add(b';')
    .add(b'=')
    .add(b'$')
    .add(b'!')
    .add(b'\'')
    .add(b'(')
    .add(b')')
    .add(b'*')
    .add(b'.');

/// An sObject or field API name, validated.
pub fn name(value: &str) -> Result<&str, Error> {
    if value.contains('.') {
        return Err(Error::invalid_input(format!(
            "'{value}' is not an sObject or field name"
        )));
    }
    validate_identifier(value)?;
    Ok(value)
}

/// A 15- or 18-character record id.
pub fn record_id(value: &str) -> Result<&str, Error> {
    let ok = matches!(value.len(), 15 | 18) && value.chars().all(|c| c.is_ascii_alphanumeric());
    if ok {
        Ok(value)
    } else {
        Err(Error::invalid_input(format!(
            "'{}' is not a 15- or 18-character record id",
            value.escape_debug()
        )))
    }
}

/// Any value, percent-encoded as one path segment.
pub fn value(value: &str) -> Result<String, Error> {
    if value.is_empty() {
        return Err(Error::invalid_input(
            "an external id value must not be empty",
        ));
    }
    Ok(utf8_percent_encode(value, SEGMENT).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caller_input_cannot_change_the_path() {
        assert_eq!(
            value("../../limits?x=1").unwrap(),
            "%2E%2E%2F%2E%2E%2Flimits%3Fx%3D1"
        );
        assert_eq!(value("..").unwrap(), "%2E%2E");
        assert_eq!(value("a b/c#d").unwrap(), "a%20b%2Fc%23d");
        assert!(value("").is_err());
        assert!(name("Account/../x").is_err());
        assert!(name("Account.Name").is_err());
        assert!(record_id("001000000000001AAA").is_ok());
        assert!(record_id("001/../../x").is_err());
        assert!(record_id("001").is_err());
    }
}
