//! The parsed shape of a SOQL query, before any name is checked against the schema.
//!
//! Every name and literal keeps its byte offset so that resolution errors
//! (`INVALID_FIELD`, `INVALID_TYPE`) can point at the exact spot, as Salesforce does.

/// A dotted field path as written: `Account.Owner.Email` is three segments.
#[derive(Debug, Clone, PartialEq)]
pub struct Path {
    pub segments: Vec<String>,
    pub at: usize,
}

impl Path {
    pub fn text(&self) -> String {
        self.segments.join(".")
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum SelectItem {
    Field(Path),
    /// `COUNT()`.
    CountAll {
        at: usize,
    },
    /// `(SELECT … FROM ChildRelationship …)`; its `object` is the relationship name.
    Subquery(Box<Query>),
    /// `FIELDS(ALL | STANDARD | CUSTOM)`.
    Fields {
        group: FieldGroup,
        at: usize,
    },
    /// `SUM(Amount) [alias]` and the other aggregate functions.
    Aggregate {
        call: AggregateCall,
        alias: Option<String>,
    },
}

/// The aggregate functions of `SELECT` and `ORDER BY` in aggregate queries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    Count,
    CountDistinct,
    Sum,
    Avg,
    Min,
    Max,
}

/// `FUNCTION(field)` as written.
#[derive(Debug, Clone, PartialEq)]
pub struct AggregateCall {
    pub function: Function,
    pub path: Path,
    pub at: usize,
}

/// Which fields `FIELDS(…)` stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldGroup {
    All,
    Standard,
    Custom,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// Relative date literals (`TODAY`, `LAST_N_DAYS:7`), resolved against "now" later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelativeDate {
    Yesterday,
    Today,
    Tomorrow,
    LastWeek,
    ThisWeek,
    NextWeek,
    LastMonth,
    ThisMonth,
    NextMonth,
    LastQuarter,
    ThisQuarter,
    NextQuarter,
    LastYear,
    ThisYear,
    NextYear,
    LastNDays(u32),
    NextNDays(u32),
    NDaysAgo(u32),
    LastNWeeks(u32),
    NextNWeeks(u32),
    LastNMonths(u32),
    NextNMonths(u32),
    LastNYears(u32),
    NextNYears(u32),
}

#[derive(Debug, Clone, PartialEq)]
pub enum LiteralKind {
    Null,
    Bool(bool),
    /// A number as written (sign included), parsed when its field's type is known.
    Number(String),
    /// A string literal's raw body (escapes not yet decoded).
    Str(String),
    Date(String),
    DateTime(String),
    Relative(RelativeDate),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Literal {
    pub kind: LiteralKind,
    pub at: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    And(Vec<Condition>),
    Or(Vec<Condition>),
    Not(Box<Condition>),
    Compare {
        path: Path,
        op: Op,
        value: Literal,
    },
    In {
        path: Path,
        negated: bool,
        values: Vec<Literal>,
    },
    /// `field [NOT] IN (SELECT idField FROM …)`: a semi-join (anti-join when negated).
    InQuery {
        path: Path,
        negated: bool,
        query: Box<Query>,
    },
    Like {
        path: Path,
        pattern: Literal,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct OrderKey {
    pub path: Path,
    /// `ORDER BY SUM(Amount)`: the aggregate applied to `path`.
    pub function: Option<Function>,
    pub descending: bool,
    /// `NULLS FIRST` (`Some(true)`) / `NULLS LAST`; default: first ascending, last descending.
    pub nulls_first: Option<bool>,
}

/// A number written after `LIMIT` or `OFFSET`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Count {
    pub value: u64,
    pub at: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub select: Vec<SelectItem>,
    pub object: String,
    pub object_at: usize,
    pub condition: Option<Condition>,
    pub group_by: Vec<Path>,
    pub order_by: Vec<OrderKey>,
    pub limit: Option<Count>,
    pub offset: Option<Count>,
}
