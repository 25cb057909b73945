//! End-to-end tests of the Emporium HTTP API: real servers started in-process on
//! `127.0.0.1:0`, one fresh database per test, real PostgreSQL / MongoDB / Redis when
//! the `EMPORIUM_TEST_*` variables name them (otherwise those tests print SKIP).
//! One harness for all of them: `helpers` (`spawn_app()`, `TestApp`, `Reply`). Set
//! `TEST_LOG=1` to see the servers' logs.
//!
//! (Tests that run the `emporium` binary itself live in `bins/tests`.)

mod account_emails;
mod accounts;
mod auth;
mod bad_input;
mod carts;
mod concurrency;
mod conformance;
mod edge;
mod flow;
mod gateway;
mod helpers;
mod live;
mod metrics;
mod notifications;
mod orders;
mod payments;
mod rate_limits;
mod services;
mod split_orders;
mod unavailable;
mod webhooks;
