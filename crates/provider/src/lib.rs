//! # terraform-provider-sei
//!
//! A Terraform provider for Harness SEI (Software Engineering Insights)
//! Bitbucket integrations, built on the `tfplugin` framework crate.
//!
//! - [`provider`]: the provider block and the [`provider::Services`] that
//!   `ConfigureProvider` builds (clients, the credential check);
//! - [`resources`], [`data_sources`], [`ephemeral`]: one file per type, each
//!   a typed model and its functions;
//! - [`integration`]: the one mapping of SEI's record to Terraform values;
//! - [`validate`]: the live Bitbucket credential check, cached and shared
//!   in flight;
//! - [`clients`]: SEI, Bitbucket and OAuth over HTTP, with no Terraform types.
//!
//! The library is the binary's implementation; its public surface exists for
//! the tests and is not a stable API.

pub mod clients;
pub mod data_sources;
pub mod ephemeral;
pub mod integration;
pub mod list_resources;
pub mod names;
pub mod provider;
pub mod resources;
pub mod secret;
pub mod services;
pub mod validate;

pub use provider::SeiProvider;
pub use secret::Secret;

/// The crates whose logs `TF_LOG_PROVIDER` controls, besides the framework's.
pub const LOG_TARGETS: &[&str] = &["terraform_provider_sei"];
