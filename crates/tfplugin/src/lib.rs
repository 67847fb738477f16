//! # tfplugin
//!
//! A small Terraform plugin framework: everything a provider needs that is
//! about Terraform, and nothing about any one provider's API.
//!
//! Data flows one way: Terraform sends an RPC to the [`server`] (go-plugin
//! handshake, AutoMTLS, gRPC: translation only), which decodes its values
//! with the [`codec`] against a [`schema`]; the [`framework`] turns them into
//! the type's typed [`model`] and calls the author's `create`, `read`,
//! `update` or `delete`; [`diag`]nostics and values travel back the same way.
//!
//! A provider implements [`framework::Provider`] and one of
//! [`framework::Resource`], [`framework::DataSource`] or
//! [`framework::EphemeralResource`] per type, each with a
//! `#[derive(Model)]` struct, then calls [`server::serve_for_terraform`].

// Lets `#[derive(Model)]`, which names `::tfplugin`, work in this crate too.
extern crate self as tfplugin;

pub mod codec;
pub mod diag;
pub mod framework;
pub mod logging;
pub mod model;
pub mod schema;
pub mod server;

pub use model::{Model, Val};
