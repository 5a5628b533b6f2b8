//! Fault injection (owned by the server engineer).

use crate::config::FaultConfig;

/// Active fault rules.
pub struct Faults {}

impl Faults {
    pub fn new(_config: FaultConfig) -> Self {
        Faults {}
    }
}
