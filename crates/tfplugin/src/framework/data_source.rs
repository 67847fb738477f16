use std::sync::Arc;

use async_trait::async_trait;

use super::registry::{decode_config, validate_config, Registered, Registration};
use super::Ctx;
use crate::codec::Value;
use crate::diag::Diagnostics;
use crate::model::{self, Model};
use crate::schema::Schema;

/// A data source, as its author writes it: `read` gets the configuration
/// and returns the whole state, or `None` with an error.
#[async_trait]
pub trait DataSource<S: Send + Sync + 'static>: Send + Sync + 'static {
    type Model: Model + Send + Sync + 'static;

    fn schema(&self) -> Schema;

    /// Cross-attribute checks, without network; values may be unknown.
    fn validate(&self, _config: &Self::Model, _diags: &mut Diagnostics) {}

    async fn read(&self, ctx: &Ctx<S>, config: Self::Model, diags: &mut Diagnostics) -> Option<Self::Model>;
}

/// A data source as the server sees it.
#[async_trait]
pub trait DynDataSource<S>: Registration + Send + Sync {
    fn validate(&self, config: &Value) -> Diagnostics;
    async fn read(&self, ctx: &Ctx<S>, config: Value) -> (Value, Diagnostics);
}

/// Registers a data source with a provider.
pub fn data_source<S: Send + Sync + 'static, D: DataSource<S>>(
    type_name: &'static str,
    d: D,
) -> Arc<dyn DynDataSource<S>> {
    let schema = d.schema();
    Arc::new(Registered::new::<D::Model>(type_name, d, schema))
}

#[async_trait]
impl<S: Send + Sync + 'static, D: DataSource<S>> DynDataSource<S> for Registered<D> {
    fn validate(&self, config: &Value) -> Diagnostics {
        validate_config(&self.schema, config, |m: &D::Model, diags| {
            self.inner.validate(m, diags)
        })
    }

    async fn read(&self, ctx: &Ctx<S>, config: Value) -> (Value, Diagnostics) {
        let config = match decode_config::<D::Model>(&config) {
            Ok(m) => m,
            Err(e) => return (Value::Null, e),
        };
        let mut diags = Diagnostics::new();
        let state = self.inner.read(ctx, config, &mut diags).await;
        let ty = self.schema.value_type();
        (state.map_or(Value::Null, |m| model::encode(&m, &ty)), diags)
    }
}
