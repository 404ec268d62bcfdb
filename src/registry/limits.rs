//! Bounds and defaults shared by the layers of the client: timeouts, pool
//! sizes, the identity sent, and the largest bodies read.

use std::time::Duration;

/// The per-request timeout unless told otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a connection may take to open (TCP and TLS).
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The `User-Agent` of every request.
pub(crate) const USER_AGENT: &str = concat!("regctl/", env!("CARGO_PKG_VERSION"));
/// Idle connections kept per pool.
pub(crate) const MAX_IDLE_CONNECTIONS: usize = 64;
/// Requests in flight at once, across all callers, unless told otherwise.
pub(crate) const DEFAULT_MAX_IN_FLIGHT: usize = 16;
/// The most items a listing holds unless told otherwise.
pub const DEFAULT_MAX_LIST_ITEMS: usize = 1_000_000;
/// Largest error body read, for its error codes.
pub(crate) const MAX_ERROR_BODY: usize = 64 * 1024;
/// Largest token response read (the token spec's answers are a few KiB).
pub(crate) const MAX_TOKEN_BODY: usize = 64 * 1024;
