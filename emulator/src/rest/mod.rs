//! REST data routes (owned by the REST engineer).

/// Open query cursors (`nextRecordsUrl` locators).
#[derive(Default)]
pub struct QueryCursors {}
