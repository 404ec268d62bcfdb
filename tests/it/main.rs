//! Integration tests: regctl against real registries on loopback (Distribution,
//! and ferro-oci-server for OCI 1.1).

mod artifacts;
mod cli;
mod concurrency;
mod contract;
mod credentials;
mod curl;
mod digest;
mod doctor;
mod du;
mod faults;
mod ferro;
mod fixture;
mod graph;
mod graph_fixture;
mod harness;
mod hostile;
mod http;
mod inspect;
mod json_shapes;
mod keyring;
mod login;
mod ls;
mod proxy;
mod prune;
mod pty;
mod pull_secret;
mod resilience;
mod rm;
mod space;
mod target;
mod tls;
mod tmux;
mod token;
mod token_auth;
mod verify;
