//! What the framework holds of every registered type, whatever its kind
//! (resource, data source, ephemeral resource, list resource): the author's
//! value with its schema built once, and the static checks every kind runs
//! on a configuration. Every kind's module imports this one; it imports none
//! of them.

use super::internal_error;
use crate::codec::Value;
use crate::diag::Diagnostics;
use crate::model::{self, Model};
use crate::schema::{IdentitySchema, Schema};

/// A type as the framework holds it: the author's value and its schema,
/// built once.
pub struct Registered<T> {
    pub(crate) type_name: &'static str,
    pub(crate) inner: T,
    pub(crate) schema: Schema,
    /// `check_model` for the type's model, which the registry no longer
    /// names once the type is behind a `dyn`.
    check: fn(&Schema) -> Result<(), crate::model::ModelError>,
    /// A managed resource's identity, if it has one.
    pub(crate) identity: Option<IdentitySchema>,
}

/// What every registered type answers, whatever its kind.
pub trait Registration {
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> &Schema;
    /// Whether the type's model has exactly the schema's attributes: each
    /// provider runs this over every type in a unit test, so a misspelt
    /// field fails a test instead of reading null.
    fn check_model(&self) -> Result<(), crate::model::ModelError>;
}

impl<T> Registration for Registered<T> {
    fn type_name(&self) -> &'static str {
        self.type_name
    }

    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn check_model(&self) -> Result<(), crate::model::ModelError> {
        (self.check)(&self.schema)
    }
}

impl<T> Registered<T> {
    pub(crate) fn new<M: Model>(type_name: &'static str, inner: T, schema: Schema) -> Self {
        Registered {
            type_name,
            inner,
            schema,
            check: crate::model::check_model::<M>,
            identity: None,
        }
    }
}

/// The static checks every type gets: the schema's validators, then the
/// type's own cross-attribute rules on its model.
pub(crate) fn validate_config<M: Model>(
    schema: &Schema,
    config: &Value,
    rules: impl FnOnce(&M, &mut Diagnostics),
) -> Diagnostics {
    let mut diags = schema.validate(config);
    match decode_config::<M>(config) {
        Ok(m) => rules(&m, &mut diags),
        // A null element the schema check reported cannot fit the model
        // either; that error says it on the attribute already.
        Err(_) if diags.has_errors() => {}
        Err(e) => diags.extend(e),
    }
    diags
}

/// A configuration as its model; a mismatch or a null is a bug.
pub(crate) fn decode_config<M: Model>(config: &Value) -> Result<M, Diagnostics> {
    match model::decode::<M>(config) {
        Ok(Some(m)) => Ok(m),
        Ok(None) => Err(internal_error("the configuration is null")),
        Err(e) => Err(internal_error(format!("the configuration does not fit the model: {e}"))),
    }
}
