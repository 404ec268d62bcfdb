//! What the seed builds by hand, written by regctl: a registry's certificates,
//! password file, config, unit and README (`registry_kit`), the client trust
//! (`client`), the proxy drop-ins (`proxy`), and a check of an existing set-up
//! (`check`). Files are planned whole, then written only when none exists
//! (`files`). Nothing here prints.

pub mod check;
pub mod client;
pub mod files;
pub mod htpasswd;
pub mod pki;
pub mod proxy;
pub mod quote;
pub mod registry_kit;
