//! The sandbox over HTTP, in one test binary: the contract and its quirks
//! (`api`), crash safety of `--state` under SIGKILL (`crash`), and the runnable
//! examples of docs/sandbox.md (`docs`).

// Tests: an unwrap that fails is the test failing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod api;
mod common;
mod crash;
mod datacenter;
mod docs;
