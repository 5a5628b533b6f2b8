//! Connection settings for the commands that talk to an org (`load`, `extract`, `limits`,
//! `bench --url`): the `SFSCALE_*` variables the library reads, with a flag overriding its
//! variable.
//!
//! The flags are fed to the core's own parser ([`ClientBuilder::from_lookup`]) as if they
//! were variables, so the CLI never re-implements how a grant is chosen or validated and a
//! bad setting fails with the same message naming the same variable. Secrets (client
//! secret, password, refresh token) have no flags on purpose: a command line is visible to
//! every user of the machine (`ps`), the environment is not.

use sfscale::{Client, ClientBuilder};

use crate::failure::Failure;

/// Flags that override the `SFSCALE_*` variables of the same name.
#[derive(clap::Args, Debug, Clone, Default)]
#[command(next_help_heading = "Connection (default: the SFSCALE_* variables)")]
pub struct ConnectArgs {
    /// My Domain / instance URL [env: SFSCALE_INSTANCE_URL]
    #[arg(long, value_name = "URL")]
    pub instance_url: Option<String>,
    /// OAuth host, if not the instance [env: SFSCALE_LOGIN_URL]
    #[arg(long, value_name = "URL")]
    pub login_url: Option<String>,
    /// Connected app consumer key [env: SFSCALE_CLIENT_ID]
    #[arg(long, value_name = "ID")]
    pub client_id: Option<String>,
    /// Integration user (JWT and password grants) [env: SFSCALE_USERNAME]
    #[arg(long, value_name = "USER")]
    pub username: Option<String>,
    /// PEM private key: selects the JWT bearer grant [env: SFSCALE_PRIVATE_KEY_FILE]
    #[arg(long, value_name = "FILE")]
    pub private_key_file: Option<String>,
    /// REST API version, e.g. 62.0 [env: SFSCALE_API_VERSION]
    #[arg(long, value_name = "VERSION")]
    pub api_version: Option<String>,
}

impl ConnectArgs {
    /// The flag standing in for variable `name`, if given.
    fn flag(&self, name: &str) -> Option<String> {
        let value = match name {
            "SFSCALE_INSTANCE_URL" => &self.instance_url,
            "SFSCALE_LOGIN_URL" => &self.login_url,
            "SFSCALE_CLIENT_ID" => &self.client_id,
            "SFSCALE_USERNAME" => &self.username,
            "SFSCALE_PRIVATE_KEY_FILE" => &self.private_key_file,
            "SFSCALE_API_VERSION" => &self.api_version,
            _ => &None,
        };
        value.clone().filter(|v| !v.is_empty())
    }

    /// The core's builder from flags, then variables.
    pub fn builder(&self) -> Result<ClientBuilder, Failure> {
        let lookup = |name: &str| {
            self.flag(name)
                .or_else(|| std::env::var(name).ok().filter(|v| !v.is_empty()))
        };
        ClientBuilder::from_lookup(lookup).map_err(|e| {
            Failure::usage(format!(
                "connection settings: {e} (set the SFSCALE_* variables or the flags; see --help)"
            ))
        })
    }

    /// A client from flags, then variables.
    pub fn client(&self) -> Result<Client, Failure> {
        Ok(self.builder()?.build()?)
    }
}

/// A builder for an emulator at `url` with its default connected app (client credentials).
pub fn emulator_builder(url: &str) -> ClientBuilder {
    Client::builder().instance_url(url).auth_client_credentials(
        sfscale_emulator::config::DEFAULT_CLIENT_ID,
        sfscale_emulator::config::DEFAULT_CLIENT_SECRET,
    )
}

impl ConnectArgs {
    /// A builder for the target at `url`: the `SFSCALE_*` credentials when a client id is
    /// configured, else the emulator's default connected app (a local emulator needs none).
    pub fn builder_for(&self, url: &str) -> Result<ClientBuilder, Failure> {
        let configured = self.flag("SFSCALE_CLIENT_ID").is_some()
            || std::env::var("SFSCALE_CLIENT_ID").is_ok_and(|v| !v.is_empty());
        if !configured {
            return Ok(emulator_builder(url));
        }
        let with_url = ConnectArgs {
            instance_url: Some(url.to_owned()),
            ..self.clone()
        };
        with_url.builder()
    }
}
