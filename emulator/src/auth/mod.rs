//! OAuth 2.0 token endpoint and session validation (owned by the auth engineer).

use crate::config::OrgConfig;

/// Issued sessions.
pub struct Sessions {}

impl Sessions {
    pub fn new(_org: &OrgConfig) -> Self {
        Sessions {}
    }
}
