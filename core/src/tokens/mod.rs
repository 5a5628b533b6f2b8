//! Access tokens: how they are obtained (grants), kept (stores) and refreshed (manager).
//!
//! Every request needs a bearer token, and at scale the failure to avoid is a refresh
//! storm: hundreds of in-flight calls hitting an expired session at once and each running
//! its own grant. [`TokenManager`] makes that one grant; see its module docs for how.

mod grant;
mod jwt;
mod manager;
mod secret;
mod store;

pub use grant::Grant;
pub use jwt::JwtKey;
pub use manager::{RefreshHook, SessionTiming, TokenManager};
pub use secret::Secret;
pub use store::{AccessToken, MemoryTokenStore, TokenStore};
