//! # terraform-provider-sei
//!
//! A Terraform provider for Harness SEI (Software Engineering Insights)
//! Bitbucket Cloud integrations, written in Rust, plus `sei-sandbox`, a local
//! emulator of the SEI and Bitbucket APIs it talks to.
//!
//! Data flows one way through the modules: Terraform sends an RPC to
//! [`server`], which decodes its values with [`codec`] against the
//! [`schema`] of a [`resources`], [`data_sources`] or [`ephemeral`] type.
//! Those call the API [`clients`] and the credential [`validate`]or, and
//! answer with values and [`diag`]nostics that travel back the same way.
//!
//! The library is the binaries' implementation; its public surface exists
//! for the tests and is not a stable API.

pub mod clients;
pub mod codec;
pub mod data_sources;
pub mod diag;
pub mod ephemeral;
pub mod logging;
pub mod provider;
pub mod resources;
pub mod sandbox;
pub mod schema;
pub mod secret;
pub mod server;
pub mod validate;

pub use provider::SeiProvider;
pub use secret::Secret;
