//! End-to-end tests of Emporium over HTTP live in `tests/api/` (one test binary):
//! real servers started in-process on `127.0.0.1:0`, real databases (SQLite in a
//! temporary directory, or PostgreSQL, MongoDB and Redis named by the
//! `EMPORIUM_TEST_*` variables; see `emporium_adapters::testing`).
