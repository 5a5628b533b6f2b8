//! The CSV dialect of one Bulk API 2.0 job: its column delimiter and line ending, readers
//! over uploaded bytes and writers for result files.
//!
//! Readers are `flexible` (a row with the wrong number of cells is a row error decided by
//! the processor, not a parse failure that would lose the row) and header-less (the
//! processor reads the header itself, once per upload). Writers quote every value, as
//! Salesforce's result and query files do; only the echoed original header is written as
//! uploaded (quoted only where CSV requires it).

use csv::{ByteRecord, QuoteStyle, Reader, ReaderBuilder, Terminator, Writer, WriterBuilder};

/// `columnDelimiter` of a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delimiter {
    Comma,
    Tab,
    Pipe,
    Semicolon,
    Caret,
    Backquote,
}

impl Delimiter {
    const ALL: [(Delimiter, &'static str, u8); 6] = [
        (Delimiter::Comma, "COMMA", b','),
        (Delimiter::Tab, "TAB", b'\t'),
        (Delimiter::Pipe, "PIPE", b'|'),
        (Delimiter::Semicolon, "SEMICOLON", b';'),
        (Delimiter::Caret, "CARET", b'^'),
        (Delimiter::Backquote, "BACKQUOTE", b'`'),
    ];

    /// The wire name (`COMMA`, ...) → delimiter; absent means `COMMA`.
    pub fn parse(name: Option<&str>) -> Option<Self> {
        let name = name.unwrap_or("COMMA");
        Self::ALL
            .iter()
            .find(|(_, n, _)| *n == name)
            .map(|(d, _, _)| *d)
    }

    pub fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(d, _, _)| *d == self)
            .map(|(_, n, _)| *n)
            .expect("listed")
    }

    pub fn byte(self) -> u8 {
        Self::ALL
            .iter()
            .find(|(d, _, _)| *d == self)
            .map(|(_, _, b)| *b)
            .expect("listed")
    }
}

/// `lineEnding` of a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineEnding {
    Lf,
    Crlf,
}

impl LineEnding {
    /// `LF` | `CRLF`; absent means `LF`.
    pub fn parse(name: Option<&str>) -> Option<Self> {
        match name.unwrap_or("LF") {
            "LF" => Some(LineEnding::Lf),
            "CRLF" => Some(LineEnding::Crlf),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            LineEnding::Lf => "LF",
            LineEnding::Crlf => "CRLF",
        }
    }

    fn terminator(self) -> Terminator {
        match self {
            LineEnding::Lf => Terminator::Any(b'\n'),
            LineEnding::Crlf => Terminator::CRLF,
        }
    }

    /// Salesforce fails a job whose data does not use the declared line ending; the first
    /// line (the header) decides. `None` when it matches (or there is no line break at all).
    pub fn mismatch(self, data: &[u8]) -> Option<String> {
        let newline = data.iter().position(|&b| b == b'\n')?;
        let crlf = newline > 0 && data[newline - 1] == b'\r';
        let ok = crlf == (self == LineEnding::Crlf);
        (!ok).then(|| format!("ClientInputError : LineEnding is invalid on user data. Current LineEnding setting is {}", self.as_str()))
    }
}

/// The dialect of one job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dialect {
    pub delimiter: Delimiter,
    pub line_ending: LineEnding,
}

impl Dialect {
    /// A header-less, flexible reader over uploaded bytes.
    pub fn reader<'a>(&self, data: &'a [u8]) -> Reader<&'a [u8]> {
        ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(self.delimiter.byte())
            .terminator(Terminator::CRLF)
            .from_reader(data)
    }

    /// A writer that double-quotes every value (result and query files).
    pub fn quoted_writer(&self) -> Writer<Vec<u8>> {
        self.writer(QuoteStyle::Always)
    }

    fn writer(&self, style: QuoteStyle) -> Writer<Vec<u8>> {
        WriterBuilder::new()
            .delimiter(self.delimiter.byte())
            .terminator(self.line_ending.terminator())
            .quote_style(style)
            .from_writer(Vec::new())
    }

    /// A result file's header line: the quoted `sf__` columns, then the uploaded header
    /// names as uploaded (quoted only where CSV needs it).
    pub fn results_header(&self, sf_columns: &[&str], header: &ByteRecord) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + header.as_slice().len());
        for name in sf_columns {
            out.push(b'"');
            out.extend_from_slice(name.as_bytes());
            out.push(b'"');
            out.push(self.delimiter.byte());
        }
        let mut names = self.writer(QuoteStyle::Necessary);
        if header.is_empty() {
            out.pop();
            out.extend_from_slice(self.line_ending_bytes());
            return out;
        }
        names.write_byte_record(header).expect("writing to memory");
        out.extend_from_slice(&names.into_inner().expect("writing to memory"));
        out
    }

    fn line_ending_bytes(&self) -> &'static [u8] {
        match self.line_ending {
            LineEnding::Lf => b"\n",
            LineEnding::Crlf => b"\r\n",
        }
    }
}

/// Ends the record started with `write_field` calls on a writer.
pub fn end_record(writer: &mut Writer<Vec<u8>>) {
    writer
        .write_record(std::iter::empty::<&[u8]>())
        .expect("writing to memory");
}

/// What a writer has produced.
pub fn finish(writer: Writer<Vec<u8>>) -> Vec<u8> {
    writer.into_inner().expect("writing to memory")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_wire_delimiter_round_trips_and_unknown_ones_are_refused() {
        for (d, name, _) in Delimiter::ALL {
            assert_eq!(Delimiter::parse(Some(name)), Some(d));
            assert_eq!(d.as_str(), name);
        }
        assert_eq!(Delimiter::parse(None), Some(Delimiter::Comma));
        assert_eq!(Delimiter::parse(Some("comma")), None);
        assert_eq!(LineEnding::parse(Some("CR")), None);
    }

    #[test]
    fn line_ending_must_match_the_first_line() {
        assert_eq!(LineEnding::Lf.mismatch(b"Name\nA\n"), None);
        assert_eq!(LineEnding::Crlf.mismatch(b"Name\r\nA\r\n"), None);
        assert!(LineEnding::Lf
            .mismatch(b"Name\r\nA\r\n")
            .unwrap()
            .contains("setting is LF"));
        assert!(LineEnding::Crlf
            .mismatch(b"Name\nA\n")
            .unwrap()
            .contains("setting is CRLF"));
        assert_eq!(LineEnding::Crlf.mismatch(b"Name"), None);
    }

    #[test]
    fn results_header_quotes_sf_columns_and_echoes_the_rest() {
        let dialect = Dialect {
            delimiter: Delimiter::Pipe,
            line_ending: LineEnding::Crlf,
        };
        let header = ByteRecord::from(vec!["Name", "Odd|Name"]);
        let line = dialect.results_header(&["sf__Id", "sf__Error"], &header);
        assert_eq!(
            String::from_utf8(line).unwrap(),
            "\"sf__Id\"|\"sf__Error\"|Name|\"Odd|Name\"\r\n"
        );
        let mut writer = dialect.quoted_writer();
        writer.write_field("a\"b").unwrap();
        writer.write_field("").unwrap();
        end_record(&mut writer);
        assert_eq!(
            String::from_utf8(finish(writer)).unwrap(),
            "\"a\"\"b\"|\"\"\r\n"
        );
    }
}
