//! Recursive-descent parser from tokens to [`Query`], with Salesforce's syntax errors.
//!
//! SOQL's grammar is small and fixed-order (`SELECT … FROM … [WHERE] [WITH] [ORDER BY]
//! [LIMIT] [OFFSET] [FOR …]`), so a hand-written parser gives exact `unexpected token`
//! positions more simply than a generator would. Two SOQL rules are enforced here
//! because Salesforce enforces them syntactically: `AND` and `OR` may not be mixed
//! without parentheses, and `COUNT()` must be the only item selected.
//!
//! Constructs this emulator does not evaluate (`GROUP BY`, subqueries, `TYPEOF`, other
//! functions, `INCLUDES`) are rejected with `MALFORMED_QUERY` naming the construct, rather
//! than a misleading token error, so a test author knows the limit is the emulator's.

use super::ast::*;
use super::errors;
use super::lexer::{self, Kind, Token};
use crate::values::FieldError;

/// The longest statement Salesforce accepts, in characters.
const MAX_STATEMENT_CHARS: usize = 100_000;

/// How deeply parentheses and `NOT`s may nest in a condition (the parser and the filter
/// recurse on them, so this bounds their stack use; real queries nest a few levels).
const MAX_CONDITION_DEPTH: usize = 100;

/// Words that end a field list or a condition and so can never be field names.
const RESERVED: &[&str] = &[
    "SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "ORDER", "BY", "LIMIT", "OFFSET", "GROUP",
    "HAVING", "NULL", "TRUE", "FALSE", "IN", "LIKE", "ASC", "DESC", "NULLS", "WITH", "FOR",
    "USING", "INCLUDES", "EXCLUDES", "TYPEOF",
];

const FIXED_DATES: &[(&str, RelativeDate)] = &[
    ("YESTERDAY", RelativeDate::Yesterday),
    ("TODAY", RelativeDate::Today),
    ("TOMORROW", RelativeDate::Tomorrow),
    ("LAST_WEEK", RelativeDate::LastWeek),
    ("THIS_WEEK", RelativeDate::ThisWeek),
    ("NEXT_WEEK", RelativeDate::NextWeek),
    ("LAST_MONTH", RelativeDate::LastMonth),
    ("THIS_MONTH", RelativeDate::ThisMonth),
    ("NEXT_MONTH", RelativeDate::NextMonth),
    ("LAST_QUARTER", RelativeDate::LastQuarter),
    ("THIS_QUARTER", RelativeDate::ThisQuarter),
    ("NEXT_QUARTER", RelativeDate::NextQuarter),
    ("LAST_YEAR", RelativeDate::LastYear),
    ("THIS_YEAR", RelativeDate::ThisYear),
    ("NEXT_YEAR", RelativeDate::NextYear),
    ("LAST_90_DAYS", RelativeDate::LastNDays(90)),
    ("NEXT_90_DAYS", RelativeDate::NextNDays(90)),
];

type NDate = fn(u32) -> RelativeDate;

const FUNCTIONS: &[(&str, Function)] = &[
    ("COUNT", Function::Count),
    ("COUNT_DISTINCT", Function::CountDistinct),
    ("SUM", Function::Sum),
    ("AVG", Function::Avg),
    ("MIN", Function::Min),
    ("MAX", Function::Max),
];

const N_DATES: &[(&str, NDate)] = &[
    ("LAST_N_DAYS", RelativeDate::LastNDays),
    ("NEXT_N_DAYS", RelativeDate::NextNDays),
    ("N_DAYS_AGO", RelativeDate::NDaysAgo),
    ("LAST_N_WEEKS", RelativeDate::LastNWeeks),
    ("NEXT_N_WEEKS", RelativeDate::NextNWeeks),
    ("LAST_N_MONTHS", RelativeDate::LastNMonths),
    ("NEXT_N_MONTHS", RelativeDate::NextNMonths),
    ("LAST_N_YEARS", RelativeDate::LastNYears),
    ("NEXT_N_YEARS", RelativeDate::NextNYears),
];

/// Parses one SOQL statement.
pub fn parse(soql: &str) -> Result<Query, FieldError> {
    if soql.chars().count() > MAX_STATEMENT_CHARS {
        let message =
            format!("SOQL statements cannot be longer than {MAX_STATEMENT_CHARS} characters.");
        return Err(FieldError::new(errors::MALFORMED_QUERY, message, &[]));
    }
    let tokens = lexer::tokenize(soql)?;
    Parser {
        soql,
        tokens,
        pos: 0,
        depth: 0,
    }
    .query()
}

struct Parser<'a> {
    soql: &'a str,
    tokens: Vec<Token>,
    pos: usize,
    /// Current nesting of parentheses and `NOT`s in the condition.
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> &Token {
        &self.tokens[self.pos]
    }

    fn peek_at(&self, ahead: usize) -> &Token {
        &self.tokens[(self.pos + ahead).min(self.tokens.len() - 1)]
    }

    fn advance(&mut self) -> Token {
        let token = self.tokens[self.pos].clone();
        if token.kind != Kind::Eof {
            self.pos += 1;
        }
        token
    }

    fn unexpected(&self) -> FieldError {
        let token = self.peek();
        errors::unexpected(self.soql, token.at, &token.text)
    }

    fn unsupported(&self, at: usize, what: &str) -> FieldError {
        errors::at(
            self.soql,
            at,
            errors::MALFORMED_QUERY,
            &format!("{what} is not supported by sfscale-emulator"),
        )
    }

    /// Consumes the keyword `word` if it is next.
    fn eat_keyword(&mut self, word: &str) -> bool {
        let found = self.peek().is_keyword(word);
        if found {
            self.pos += 1;
        }
        found
    }

    fn eat_symbol(&mut self, symbol: &str) -> bool {
        let found = self.peek().is_symbol(symbol);
        if found {
            self.pos += 1;
        }
        found
    }

    fn expect_keyword(&mut self, word: &str) -> Result<(), FieldError> {
        if self.eat_keyword(word) {
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    fn expect_symbol(&mut self, symbol: &str) -> Result<(), FieldError> {
        if self.eat_symbol(symbol) {
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    fn query(mut self) -> Result<Query, FieldError> {
        let query = self.query_body(false)?;
        if self.peek().kind != Kind::Eof {
            return Err(self.unexpected());
        }
        Ok(query)
    }

    /// `SELECT … FROM …` and its clauses. A `nested` query is a parent-to-child subquery:
    /// it has no subqueries, `WITH`, `OFFSET` or `FOR` of its own.
    fn query_body(&mut self, nested: bool) -> Result<Query, FieldError> {
        self.expect_keyword("SELECT")?;
        let select = self.select_list(nested)?;
        self.expect_keyword("FROM")?;
        let (object, object_at) = self.object_name()?;
        if self.peek().is_keyword("USING") {
            return Err(self.unsupported(self.peek().at, "USING SCOPE"));
        }
        let condition = if self.eat_keyword("WHERE") {
            Some(self.condition()?)
        } else {
            None
        };
        if !nested {
            self.security_clause()?;
        }
        let group_by = self.group_by()?;
        let order_by = self.order_by()?;
        let limit = if self.eat_keyword("LIMIT") {
            Some(self.count()?)
        } else {
            None
        };
        let offset = if !nested && self.eat_keyword("OFFSET") {
            Some(self.count()?)
        } else {
            None
        };
        if !nested {
            self.for_clause()?;
        }
        Ok(Query {
            select,
            object,
            object_at,
            condition,
            group_by,
            order_by,
            limit,
            offset,
        })
    }

    fn select_list(&mut self, nested: bool) -> Result<Vec<SelectItem>, FieldError> {
        let mut items = vec![self.select_item(nested)?];
        while self.eat_symbol(",") {
            items.push(self.select_item(nested)?);
        }
        if items.len() > 1 {
            if let Some(SelectItem::CountAll { at }) = items
                .iter()
                .find(|i| matches!(i, SelectItem::CountAll { .. }))
            {
                let message = "COUNT() must be the only element in the SELECT list";
                return Err(errors::at(self.soql, *at, errors::MALFORMED_QUERY, message));
            }
        }
        Ok(items)
    }

    fn select_item(&mut self, nested: bool) -> Result<SelectItem, FieldError> {
        let token = self.peek().clone();
        let next = self.peek_at(1).clone();
        if token.is_symbol("(") && next.is_keyword("SELECT") && !nested {
            self.pos += 1;
            let subquery = self.query_body(true)?;
            self.expect_symbol(")")?;
            return Ok(SelectItem::Subquery(Box::new(subquery)));
        }
        if token.is_symbol("(") {
            return Err(self.unsupported(token.at, "A nested subquery"));
        }
        if token.is_keyword("TYPEOF") {
            return Err(self.unsupported(token.at, "TYPEOF"));
        }
        if token.is_keyword("FIELDS") && next.is_symbol("(") {
            return self.fields_function(token.at);
        }
        if token.kind == Kind::Name && next.is_symbol("(") {
            if token.is_keyword("COUNT") && self.peek_at(2).is_symbol(")") {
                self.pos += 3;
                return Ok(SelectItem::CountAll { at: token.at });
            }
            let call = self.aggregate_call()?;
            let alias = self.alias();
            return Ok(SelectItem::Aggregate { call, alias });
        }
        Ok(SelectItem::Field(self.path()?))
    }

    /// `FIELDS(ALL | STANDARD | CUSTOM)`, after its `FIELDS` keyword at `at`.
    fn fields_function(&mut self, at: usize) -> Result<SelectItem, FieldError> {
        self.pos += 2;
        let group = match self.peek().text.to_ascii_uppercase().as_str() {
            "ALL" => FieldGroup::All,
            "STANDARD" => FieldGroup::Standard,
            "CUSTOM" => FieldGroup::Custom,
            _ => return Err(self.unexpected()),
        };
        self.pos += 1;
        self.expect_symbol(")")?;
        Ok(SelectItem::Fields { group, at })
    }

    /// `FUNCTION(field)` for the aggregate functions; other functions are refused.
    fn aggregate_call(&mut self) -> Result<AggregateCall, FieldError> {
        let token = self.peek().clone();
        let name = token.text.to_ascii_uppercase();
        let Some((_, function)) = FUNCTIONS.iter().find(|(n, _)| *n == name) else {
            return Err(self.unsupported(token.at, &format!("The function {name}()")));
        };
        self.pos += 2;
        let path = self.path()?;
        self.expect_symbol(")")?;
        Ok(AggregateCall {
            function: *function,
            path,
            at: token.at,
        })
    }

    /// An optional alias after an aggregate: a name that is not a keyword.
    fn alias(&mut self) -> Option<String> {
        let token = self.peek();
        let is_alias = token.kind == Kind::Name && !is_reserved(&token.text);
        is_alias.then(|| self.advance().text)
    }

    fn name(&mut self) -> Result<Token, FieldError> {
        let token = self.peek();
        if token.kind == Kind::Name && !is_reserved(&token.text) {
            Ok(self.advance())
        } else {
            Err(self.unexpected())
        }
    }

    fn path(&mut self) -> Result<Path, FieldError> {
        let first = self.name()?;
        let mut segments = vec![first.text];
        while self.eat_symbol(".") {
            segments.push(self.name()?.text);
        }
        Ok(Path {
            segments,
            at: first.at,
        })
    }

    fn object_name(&mut self) -> Result<(String, usize), FieldError> {
        let token = self.name()?;
        if self.peek().is_symbol(".") || self.peek().is_symbol(",") {
            return Err(self.unexpected());
        }
        Ok((token.text, token.at))
    }

    /// `WITH SECURITY_ENFORCED | USER_MODE | SYSTEM_MODE`: accepted; the emulator has one user.
    fn security_clause(&mut self) -> Result<(), FieldError> {
        if !self.peek().is_keyword("WITH") {
            return Ok(());
        }
        let with_at = self.advance().at;
        let mode = self.peek();
        if ["SECURITY_ENFORCED", "USER_MODE", "SYSTEM_MODE"]
            .iter()
            .any(|m| mode.is_keyword(m))
        {
            self.pos += 1;
            return Ok(());
        }
        Err(self.unsupported(with_at, &format!("WITH {}", mode.text)))
    }

    /// `GROUP BY field, …` (plain fields; `ROLLUP`, `CUBE` and `HAVING` are not supported).
    fn group_by(&mut self) -> Result<Vec<Path>, FieldError> {
        let mut paths = Vec::new();
        if self.eat_keyword("GROUP") {
            self.expect_keyword("BY")?;
            let token = self.peek();
            if (token.is_keyword("ROLLUP") || token.is_keyword("CUBE"))
                && self.peek_at(1).is_symbol("(")
            {
                return Err(self.unsupported(
                    token.at,
                    &format!("GROUP BY {}", token.text.to_ascii_uppercase()),
                ));
            }
            paths.push(self.path()?);
            while self.eat_symbol(",") {
                paths.push(self.path()?);
            }
        }
        if self.peek().is_keyword("HAVING") {
            return Err(self.unsupported(self.peek().at, "HAVING"));
        }
        Ok(paths)
    }

    /// `FOR VIEW | REFERENCE | UPDATE`: accepted and ignored.
    fn for_clause(&mut self) -> Result<(), FieldError> {
        if self.eat_keyword("FOR") {
            if ["VIEW", "REFERENCE", "UPDATE"]
                .iter()
                .any(|m| self.peek().is_keyword(m))
            {
                self.pos += 1;
            } else {
                return Err(self.unexpected());
            }
        }
        Ok(())
    }

    fn order_by(&mut self) -> Result<Vec<OrderKey>, FieldError> {
        if !self.eat_keyword("ORDER") {
            return Ok(Vec::new());
        }
        self.expect_keyword("BY")?;
        let mut keys = Vec::new();
        loop {
            let (path, function) =
                if self.peek().kind == Kind::Name && self.peek_at(1).is_symbol("(") {
                    let call = self.aggregate_call()?;
                    (call.path, Some(call.function))
                } else {
                    (self.path()?, None)
                };
            let descending = self.eat_keyword("DESC");
            if !descending {
                self.eat_keyword("ASC");
            }
            let nulls_first = if self.eat_keyword("NULLS") {
                if self.eat_keyword("FIRST") {
                    Some(true)
                } else {
                    self.expect_keyword("LAST")?;
                    Some(false)
                }
            } else {
                None
            };
            keys.push(OrderKey {
                path,
                function,
                descending,
                nulls_first,
            });
            if !self.eat_symbol(",") {
                return Ok(keys);
            }
        }
    }

    /// A non-negative integer after `LIMIT`/`OFFSET`.
    fn count(&mut self) -> Result<Count, FieldError> {
        let token = self.peek().clone();
        if token.kind != Kind::Number || token.text.contains('.') {
            return Err(self.unexpected());
        }
        let value = token
            .text
            .parse::<u64>()
            .ok()
            .filter(|v| *v <= i32::MAX as u64)
            .ok_or_else(|| {
                errors::at(
                    self.soql,
                    token.at,
                    errors::MALFORMED_QUERY,
                    &format!("numeric value out of range: {}", token.text),
                )
            })?;
        self.pos += 1;
        Ok(Count {
            value,
            at: token.at,
        })
    }

    /// Conditions joined by one kind of operator; mixing `AND` and `OR` needs parentheses.
    fn condition(&mut self) -> Result<Condition, FieldError> {
        let mut items = vec![self.unary()?];
        let mut joiner: Option<&'static str> = None;
        loop {
            let word = match () {
                _ if self.peek().is_keyword("AND") => "AND",
                _ if self.peek().is_keyword("OR") => "OR",
                _ => break,
            };
            if joiner.is_some_and(|j| j != word) {
                return Err(self.unexpected());
            }
            joiner = Some(word);
            self.pos += 1;
            items.push(self.unary()?);
        }
        Ok(match joiner {
            None => items.pop().expect("one condition"),
            Some("AND") => Condition::And(items),
            Some(_) => Condition::Or(items),
        })
    }

    fn unary(&mut self) -> Result<Condition, FieldError> {
        let nests = self.peek().is_keyword("NOT") || self.peek().is_symbol("(");
        if !nests {
            return self.simple();
        }
        if self.depth == MAX_CONDITION_DEPTH {
            let message = format!("conditions may nest at most {MAX_CONDITION_DEPTH} deep");
            return Err(errors::at(
                self.soql,
                self.peek().at,
                errors::MALFORMED_QUERY,
                &message,
            ));
        }
        self.depth += 1;
        let condition = if self.eat_keyword("NOT") {
            self.unary().map(|inner| Condition::Not(Box::new(inner)))
        } else {
            self.pos += 1;
            let inner = self.condition();
            inner.and_then(|inner| self.expect_symbol(")").map(|_| inner))
        };
        self.depth -= 1;
        condition
    }

    fn simple(&mut self) -> Result<Condition, FieldError> {
        let path = self.path()?;
        let token = self.peek().clone();
        if let Some(op) = comparison(&token) {
            self.pos += 1;
            let value = self.literal()?;
            return Ok(Condition::Compare { path, op, value });
        }
        let negated = token.is_keyword("NOT") && self.peek_at(1).is_keyword("IN");
        if negated || token.is_keyword("IN") {
            self.pos += if negated { 2 } else { 1 };
            self.expect_symbol("(")?;
            if self.peek().is_keyword("SELECT") {
                let query = Box::new(self.semi_join()?);
                return Ok(Condition::InQuery {
                    path,
                    negated,
                    query,
                });
            }
            return Ok(Condition::In {
                path,
                negated,
                values: self.literal_list()?,
            });
        }
        if self.eat_keyword("LIKE") {
            let pattern = self.literal()?;
            return Ok(Condition::Like { path, pattern });
        }
        if token.is_keyword("INCLUDES") || token.is_keyword("EXCLUDES") {
            return Err(self.unsupported(token.at, &token.text.to_ascii_uppercase()));
        }
        Err(self.unexpected())
    }

    /// `SELECT … )` after `IN (`: a semi-join (or anti-join) subquery. It counts as one
    /// level of nesting, since its condition may hold further semi-joins.
    fn semi_join(&mut self) -> Result<Query, FieldError> {
        if self.depth == MAX_CONDITION_DEPTH {
            let message = format!("conditions may nest at most {MAX_CONDITION_DEPTH} deep");
            return Err(errors::at(
                self.soql,
                self.peek().at,
                errors::MALFORMED_QUERY,
                &message,
            ));
        }
        self.depth += 1;
        let query = self.query_body(true);
        self.depth -= 1;
        let query = query?;
        self.expect_symbol(")")?;
        Ok(query)
    }

    /// The literals of `IN (…)`, after its opening parenthesis.
    fn literal_list(&mut self) -> Result<Vec<Literal>, FieldError> {
        let mut values = vec![self.literal()?];
        while self.eat_symbol(",") {
            values.push(self.literal()?);
        }
        self.expect_symbol(")")?;
        Ok(values)
    }

    fn literal(&mut self) -> Result<Literal, FieldError> {
        let token = self.peek().clone();
        let kind = match &token.kind {
            Kind::Str { raw } => LiteralKind::Str(raw.clone()),
            Kind::Number => LiteralKind::Number(token.text.clone()),
            Kind::Date => LiteralKind::Date(token.text.clone()),
            Kind::DateTime => LiteralKind::DateTime(token.text.clone()),
            Kind::Symbol
                if (token.text == "-" || token.text == "+")
                    && self.peek_at(1).kind == Kind::Number =>
            {
                self.pos += 1;
                LiteralKind::Number(format!("{}{}", token.text, self.peek().text))
            }
            Kind::Name => return self.word_literal(token),
            _ => return Err(self.unexpected()),
        };
        self.pos += 1;
        Ok(Literal { kind, at: token.at })
    }

    /// `NULL`, `TRUE`, `FALSE` and the relative date literals.
    fn word_literal(&mut self, token: Token) -> Result<Literal, FieldError> {
        let word = token.text.to_ascii_uppercase();
        let fixed = match word.as_str() {
            "NULL" => Some(LiteralKind::Null),
            "TRUE" => Some(LiteralKind::Bool(true)),
            "FALSE" => Some(LiteralKind::Bool(false)),
            _ => FIXED_DATES
                .iter()
                .find(|(w, _)| *w == word)
                .map(|(_, d)| LiteralKind::Relative(*d)),
        };
        if let Some(kind) = fixed {
            self.pos += 1;
            return Ok(Literal { kind, at: token.at });
        }
        let Some((_, make)) = N_DATES.iter().find(|(w, _)| *w == word) else {
            return Err(self.unexpected());
        };
        self.pos += 1;
        self.expect_symbol(":")?;
        let n = self.peek().clone();
        let value = (n.kind == Kind::Number)
            .then(|| n.text.parse::<u32>().ok())
            .flatten()
            .ok_or_else(|| self.unexpected())?;
        self.pos += 1;
        Ok(Literal {
            kind: LiteralKind::Relative(make(value)),
            at: token.at,
        })
    }
}

fn is_reserved(word: &str) -> bool {
    RESERVED.iter().any(|r| r.eq_ignore_ascii_case(word))
}

fn comparison(token: &Token) -> Option<Op> {
    if token.kind != Kind::Symbol {
        return None;
    }
    Some(match token.text.as_str() {
        "=" => Op::Eq,
        "!=" | "<>" => Op::Ne,
        "<" => Op::Lt,
        "<=" => Op::Le,
        ">" => Op::Gt,
        ">=" => Op::Ge,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(text: &str, at: usize) -> Path {
        Path {
            segments: text.split('.').map(String::from).collect(),
            at,
        }
    }

    fn error(soql: &str) -> FieldError {
        parse(soql).unwrap_err()
    }

    #[test]
    fn parses_every_clause_in_order() {
        let q = parse("select Id, Account.Owner.Email from Contact where Name = 'x' order by Name desc nulls first, Id limit 10 offset 5").unwrap();
        assert_eq!(
            q.select,
            [
                SelectItem::Field(path("Id", 7)),
                SelectItem::Field(path("Account.Owner.Email", 11))
            ]
        );
        assert_eq!((q.object.as_str(), q.object_at), ("Contact", 36));
        assert!(matches!(
            q.condition,
            Some(Condition::Compare { op: Op::Eq, .. })
        ));
        assert_eq!(q.order_by.len(), 2);
        assert!(q.order_by[0].descending && q.order_by[0].nulls_first == Some(true));
        assert!(!q.order_by[1].descending && q.order_by[1].nulls_first.is_none());
        assert_eq!(q.limit.unwrap().value, 10);
        assert_eq!(q.offset.unwrap().value, 5);
    }

    #[test]
    fn conditions_nest_with_parentheses_not_and_in_lists() {
        let q = parse("SELECT Id FROM Account WHERE (Name LIKE 'A%' OR Industry IN ('Energy', 'Retail')) AND NOT Type = null AND Id NOT IN ('001000000000001')").unwrap();
        let Some(Condition::And(items)) = q.condition else {
            panic!("and expected")
        };
        assert_eq!(items.len(), 3);
        assert!(matches!(&items[0], Condition::Or(or) if or.len() == 2));
        assert!(
            matches!(&items[1], Condition::Not(inner) if matches!(**inner, Condition::Compare { .. }))
        );
        assert!(
            matches!(&items[2], Condition::In { negated: true, values, .. } if values.len() == 1)
        );
    }

    #[test]
    fn literals_of_every_kind() {
        let q = parse("SELECT Id FROM Opportunity WHERE Amount IN (-5, 1.5, +2) AND CloseDate = LAST_N_DAYS:30 AND CloseDate != THIS_MONTH AND IsDeleted = TRUE AND CreatedDate > 2024-01-31T10:00:00Z").unwrap();
        let Some(Condition::And(items)) = q.condition else {
            panic!()
        };
        let Condition::In { values, .. } = &items[0] else {
            panic!()
        };
        let numbers: Vec<_> = values.iter().map(|v| v.kind.clone()).collect();
        assert_eq!(
            numbers,
            [
                LiteralKind::Number("-5".into()),
                LiteralKind::Number("1.5".into()),
                LiteralKind::Number("+2".into())
            ]
        );
        assert!(matches!(
            &items[1],
            Condition::Compare {
                value: Literal {
                    kind: LiteralKind::Relative(RelativeDate::LastNDays(30)),
                    ..
                },
                ..
            }
        ));
        assert!(matches!(
            &items[2],
            Condition::Compare {
                value: Literal {
                    kind: LiteralKind::Relative(RelativeDate::ThisMonth),
                    ..
                },
                ..
            }
        ));
        assert!(matches!(
            &items[3],
            Condition::Compare {
                value: Literal {
                    kind: LiteralKind::Bool(true),
                    ..
                },
                ..
            }
        ));
        assert!(matches!(
            &items[4],
            Condition::Compare {
                value: Literal {
                    kind: LiteralKind::DateTime(_),
                    ..
                },
                ..
            }
        ));
    }

    #[test]
    fn count_and_aggregate_forms() {
        assert_eq!(
            parse("SELECT COUNT() FROM Account").unwrap().select,
            [SelectItem::CountAll { at: 7 }]
        );
        let q = parse("SELECT count(Id) total FROM Account").unwrap();
        let call = AggregateCall {
            function: Function::Count,
            path: path("Id", 13),
            at: 7,
        };
        assert_eq!(
            q.select,
            [SelectItem::Aggregate {
                call,
                alias: Some("total".into())
            }]
        );
        let q = parse("SELECT Industry, SUM(AnnualRevenue) FROM Account GROUP BY Industry ORDER BY SUM(AnnualRevenue) DESC").unwrap();
        assert_eq!(q.group_by, [path("Industry", 58)]);
        assert_eq!(q.order_by[0].function, Some(Function::Sum));
        assert!(q.order_by[0].descending);
        let e = error("SELECT COUNT(), Id FROM Account");
        assert!(
            e.message
                .ends_with("COUNT() must be the only element in the SELECT list"),
            "{}",
            e.message
        );
    }

    #[test]
    fn subqueries_parse_as_nested_queries() {
        let q = parse("SELECT Name, (SELECT LastName FROM Contacts WHERE Email != null ORDER BY LastName LIMIT 2) FROM Account").unwrap();
        let SelectItem::Subquery(sub) = &q.select[1] else {
            panic!("{:?}", q.select)
        };
        assert_eq!((sub.object.as_str(), sub.object_at), ("Contacts", 35));
        assert!(sub.condition.is_some() && sub.order_by.len() == 1 && sub.limit.is_some());
        let e = error("SELECT Name, (SELECT LastName FROM Contacts OFFSET 1) FROM Account");
        assert!(
            e.message.ends_with("unexpected token: 'OFFSET'"),
            "{}",
            e.message
        );
    }

    #[test]
    fn semi_joins_parse_as_nested_queries() {
        let q = parse("SELECT Id FROM Account WHERE Id NOT IN (SELECT AccountId FROM Contact WHERE Email = null) AND Name != null").unwrap();
        let Some(Condition::And(items)) = q.condition else {
            panic!("{:?}", q.condition)
        };
        let Condition::InQuery { negated, query, .. } = &items[0] else {
            panic!("{:?}", items[0])
        };
        assert!(*negated);
        assert_eq!(query.object, "Contact");
        assert!(
            error("SELECT Id FROM Account WHERE Id IN (SELECT AccountId FROM Contact")
                .message
                .ends_with("unexpected token: '<EOF>'")
        );
    }

    #[test]
    fn fields_function_groups() {
        let q = parse("SELECT fields(standard), Account.Name FROM Contact").unwrap();
        assert_eq!(
            q.select[0],
            SelectItem::Fields {
                group: FieldGroup::Standard,
                at: 7
            }
        );
        assert!(error("SELECT FIELDS(SOME) FROM Contact")
            .message
            .ends_with("unexpected token: 'SOME'"));
    }

    #[test]
    fn syntax_errors_name_the_token_with_row_and_column() {
        let e = error("SELECT Id FORM Account");
        assert_eq!(e.code, "MALFORMED_QUERY");
        assert_eq!(e.message, "\nSELECT Id FORM Account\n          ^\nERROR at Row:1:Column:11\nunexpected token: 'FORM'");
        assert!(error("SELECT Id FROM Account WHERE")
            .message
            .ends_with("Column:29\nunexpected token: '<EOF>'"));
        assert!(error("SELECT , FROM Account")
            .message
            .ends_with("Column:8\nunexpected token: ','"));
        assert!(error("SELECT FROM Account")
            .message
            .ends_with("unexpected token: 'FROM'"));
        assert!(
            error("SELECT Id FROM Account WHERE Name = 'a' AND Id = 'b' OR Id = 'c'")
                .message
                .ends_with("Column:54\nunexpected token: 'OR'")
        );
        assert!(error("SELECT Id FROM Account LIMIT 'x'")
            .message
            .ends_with("unexpected token: ''x''"));
        assert!(error("SELECT Id FROM Account OFFSET 5 LIMIT 1")
            .message
            .ends_with("unexpected token: 'LIMIT'"));
        assert!(error("SELECT Id FROM Account WHERE Name = Acme")
            .message
            .ends_with("unexpected token: 'Acme'"));
        assert!(
            error("SELECT Id FROM Account WHERE CreatedDate = LAST_N_DAYS")
                .message
                .ends_with("unexpected token: '<EOF>'")
        );
        assert!(error("SELECT Id FROM Account LIMIT 3000000000")
            .message
            .ends_with("numeric value out of range: 3000000000"));
    }

    #[test]
    fn unsupported_constructs_say_so() {
        for (soql, what) in [
            (
                "SELECT Id, (SELECT Id, (SELECT Id FROM Cases) FROM Contacts) FROM Account",
                "nested subquery",
            ),
            (
                "SELECT Industry FROM Account GROUP BY ROLLUP(Industry)",
                "ROLLUP",
            ),
            (
                "SELECT Industry FROM Account GROUP BY Industry HAVING COUNT(Id) > 1",
                "HAVING",
            ),
            ("SELECT FORMAT(AnnualRevenue) FROM Account", "FORMAT()"),
            ("SELECT Id FROM Account USING SCOPE mine", "USING SCOPE"),
        ] {
            let e = error(soql);
            assert_eq!(e.code, "MALFORMED_QUERY");
            assert!(
                e.message.contains(what)
                    && e.message.ends_with("is not supported by sfscale-emulator"),
                "{}",
                e.message
            );
        }
    }

    #[test]
    fn deep_nesting_is_refused_instead_of_overflowing_the_stack() {
        let nested = |n: usize| {
            format!(
                "SELECT Id FROM Account WHERE {}Name = 'x'{}",
                "(".repeat(n),
                ")".repeat(n)
            )
        };
        parse(&nested(MAX_CONDITION_DEPTH)).unwrap();
        let e = error(&nested(40_000));
        assert!(
            e.message.ends_with("conditions may nest at most 100 deep"),
            "{}",
            &e.message[..200]
        );
        let nots = format!(
            "SELECT Id FROM Account WHERE {} Name = 'x'",
            "NOT ".repeat(20_000)
        );
        assert_eq!(error(&nots).code, "MALFORMED_QUERY");
    }

    #[test]
    fn security_and_for_clauses_are_accepted() {
        parse("SELECT Id FROM Account WHERE Name != null WITH SECURITY_ENFORCED ORDER BY Name LIMIT 1 FOR VIEW").unwrap();
        assert!(error(&format!(
            "SELECT Id FROM Account WHERE Name = '{}'",
            "x".repeat(100_000)
        ))
        .message
        .contains("100000"));
    }
}
