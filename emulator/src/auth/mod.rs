//! OAuth 2.0 as a Salesforce org serves it: the token endpoint with its four grants,
//! revocation, and the session table every data call is checked against.
//!
//! `grants` answers `/services/oauth2/*`; `identity` the `id` URL of a token response;
//! `sessions` decides whether a bearer token is alive; `jwt` verifies RS256 assertions. The data-call check itself (401
//! `INVALID_SESSION_ID`) is made once, in the server's gate, not by each handler.

mod grants;
mod identity;
mod jwt;
mod sessions;

pub use grants::{oauth_error_response, router, JWT_GRANT};
pub use jwt::{load_key, KeyError};
pub use sessions::{bearer, Sessions};
