//! The acceptance suite, in one binary as ripgrep keeps its integration
//! tests: the real `terraform` launches the real provider binary (handshake,
//! AutoMTLS, gRPC), which talks to a real `sei-sandbox` process over HTTP.
//!
//! Like Go providers' `TF_ACC`, it needs something from outside: a
//! `terraform` (>= 1.11) on PATH, or in `TERRAFORM`. The build script looks
//! for one: without it (and outside CI) every test is built `#[ignore]`d, so
//! the runner reports them as ignored, never as passed; with `CI=true` they
//! run and fail. `scripts/test.sh` and CI require terraform.

// Tests: an unwrap that fails is the test failing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod docs_schema;
mod e2e_adoption;
mod e2e_credential;
mod e2e_datacenter;
mod e2e_guides;
mod e2e_integration;
mod e2e_networks;
mod e2e_ownership;
mod e2e_performance;
mod e2e_rate_limits;
mod e2e_rotation;
mod e2e_tags;
mod e2e_validation;
mod examples;
mod release_mirror;
mod static_binary;
