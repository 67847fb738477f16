//! Terraform values on the wire, and in memory.
//!
//! Terraform hands the provider every configuration, plan and state as a
//! `DynamicValue`: msgpack (always, from Terraform itself) or JSON (stored
//! state). Neither encoding carries enough type information to be decoded on
//! its own: a msgpack array may be a list, a set or a tuple. So every decode
//! takes the cty [`Type`] from the schema, and produces one [`Value`] tree
//! that the rest of the crate works with.

mod bounds;
mod json;
mod msgpack;
mod number;
mod path;
mod types;
mod value;

pub use bounds::{check_msgpack, MAX_DEPTH, MAX_VALUES};
pub use json::{decode_json, decode_state_json, encode_json};
pub use msgpack::{decode_msgpack, encode_msgpack};
pub use number::Number;
pub use path::{AttributePath, PathStep};
pub use types::Type;
pub use value::{Refinements, Value};

/// Why bytes could not be read as a value of the expected type.
///
/// Carries the path inside the value so that a malformed request points at
/// the attribute that broke, not just "bad msgpack".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}{}", if path.is_empty() { String::new() } else { format!(" (at {path})") })]
pub struct CodecError {
    pub message: String,
    pub path: AttributePath,
}

impl CodecError {
    pub(crate) fn new(message: impl Into<String>, path: &AttributePath) -> Self {
        CodecError {
            message: message.into(),
            path: path.clone(),
        }
    }
}
