//! SOQL parsing and evaluation (owned by the SOQL engineer).
