//! HTTP tests of the emporium server: a real server in-process on a free port, a
//! fresh SQLite database in a temporary directory per test, real HTTP (reqwest).
//! Set `TEST_LOG=1` to see the server's logs.

mod accounts;
mod auth;
mod bad_input;
mod conformance;
mod helpers;
mod operations;
mod production_adapters;
mod split_mode;
