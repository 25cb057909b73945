//! End-to-end tests of the Emporium HTTP API: real servers started in-process on
//! `127.0.0.1:0`, one fresh database per test, real PostgreSQL / MongoDB / Redis when
//! the `EMPORIUM_TEST_*` variables name them (otherwise those tests print SKIP).

mod accounts;
mod bad_input;
mod concurrency;
mod flow;
mod helpers;
mod services;
