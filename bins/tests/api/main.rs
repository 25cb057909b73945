//! Tests of the `emporium` binary itself (they run `CARGO_BIN_EXE_emporium`, which
//! only this package's tests can): `users create-admin`, a split service that
//! refuses to start, the server out of file descriptors, the README's walk
//! through the API run as written, and replicas killed behind the gateway. Every other end-to-end test is in the
//! `emporium-e2e` package (`tests/`), on one harness.

mod backup;
mod cli;
mod client;
mod crash;
mod helpers;
mod notifications_crash;
mod readme;
mod replicas;
mod server;
