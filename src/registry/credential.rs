//! What the client authenticates with: a credential, where it was found, and the
//! secret type that never prints. Finding credentials is the caller's business
//! (regctl's `credentials` module reads flags, environment and docker's config).

pub use super::secret::Secret;

/// Credentials for one registry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Credential {
    /// Username and password (sent as Basic auth, to the registry or its token realm).
    Basic {
        /// The user name.
        username: String,
        /// The password.
        password: Secret,
    },
    /// An OAuth2 refresh token (docker's `identitytoken`), exchanged at the realm.
    IdentityToken {
        /// The user name, if known.
        username: String,
        /// The refresh token.
        token: Secret,
        /// The password stored beside the token (docker's `auth`), if any: what a
        /// registry that takes Basic auth is sent, as docker and skopeo do.
        password: Option<Secret>,
    },
}

/// `base64(username:password)`: the value of Basic auth, and of docker's `auth`
/// field in a config file.
pub fn basic_auth(username: &str, password: &Secret) -> Secret {
    use base64::Engine as _;
    let raw = format!("{username}:{}", password.expose());
    Secret::new(base64::engine::general_purpose::STANDARD.encode(raw))
}

/// A credential and where it came from (for `-v` and error messages; never the secret).
#[derive(Clone, Debug)]
pub struct Resolved {
    /// The credential.
    pub credential: Credential,
    /// Where it was found, e.g. an environment variable or a credential helper.
    pub source: String,
}
