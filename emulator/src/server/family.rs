//! Route families: the coarse groups of endpoints that counters, latency settings and fault
//! rules are keyed by (`token`, `query`, `sobjects`, `composite`, `bulk`, `limits`, `other`).
//!
//! Grouping by family rather than by exact path keeps `requests_by_route` readable and lets
//! one fault rule cover, say, every query page. sObject Collections
//! (`composite/sobjects`) belong to `composite`: they are one call that writes many records,
//! which is what a load test wants to tell apart from single-record `sobjects` calls.

/// A group of endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    /// `/services/oauth2/token` and `/services/oauth2/revoke`.
    Token,
    /// `query` and `queryAll`, including `nextRecordsUrl` pages.
    Query,
    /// Single-record sObject calls and describes.
    Sobjects,
    /// `composite`, `composite/batch`, `composite/sobjects` (collections).
    Composite,
    /// Bulk API 2.0 `jobs/...`.
    Bulk,
    /// `/limits`.
    Limits,
    /// Anything else under `/services/data/vNN.N/` (resource directory, unknown paths).
    Other,
}

impl Family {
    /// Every family, in the order their names are documented.
    pub const ALL: [Family; 7] = [
        Family::Token,
        Family::Query,
        Family::Sobjects,
        Family::Composite,
        Family::Bulk,
        Family::Limits,
        Family::Other,
    ];

    /// The family's name as used in config, fault rules and `requests_by_route`.
    pub fn as_str(self) -> &'static str {
        match self {
            Family::Token => "token",
            Family::Query => "query",
            Family::Sobjects => "sobjects",
            Family::Composite => "composite",
            Family::Bulk => "bulk",
            Family::Limits => "limits",
            Family::Other => "other",
        }
    }

    /// The family named `name`, if any.
    pub fn parse(name: &str) -> Option<Family> {
        Family::ALL.into_iter().find(|f| f.as_str() == name)
    }

    /// The family of a data path, given the part after `/services/data/vNN.N/`.
    pub fn of_data_resource(resource: &str) -> Family {
        let first = resource.split('/').next().unwrap_or_default();
        match first {
            "query" | "queryAll" => Family::Query,
            "sobjects" => Family::Sobjects,
            "composite" => Family::Composite,
            "jobs" => Family::Bulk,
            "limits" => Family::Limits,
            _ => Family::Other,
        }
    }

    /// Index into per-family tables.
    pub fn index(self) -> usize {
        self as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_resources_map_to_their_family() {
        let cases = [
            ("query", Family::Query),
            ("query/01gxx-2000", Family::Query),
            ("queryAll", Family::Query),
            ("sobjects/Account/001", Family::Sobjects),
            ("composite/sobjects", Family::Composite),
            ("composite", Family::Composite),
            ("jobs/ingest/750x/batches", Family::Bulk),
            ("limits", Family::Limits),
            ("", Family::Other),
            ("tooling/query", Family::Other),
        ];
        for (resource, family) in cases {
            assert_eq!(Family::of_data_resource(resource), family, "{resource}");
        }
    }

    #[test]
    fn names_round_trip() {
        for family in Family::ALL {
            assert_eq!(Family::parse(family.as_str()), Some(family));
            assert_eq!(Family::ALL[family.index()], family);
        }
        assert_eq!(Family::parse("*"), None);
    }
}
