//! Integration tests: regctl against the real Distribution registry on loopback.

mod cli;
mod credentials;
mod digest;
mod faults;
mod fixture;
mod harness;
mod http;
mod ls;
mod proxy;
mod prune;
mod resilience;
mod rm;
mod tls;
mod token;
mod token_auth;
