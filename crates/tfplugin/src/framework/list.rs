//! List resources (protocol 6.10, Terraform 1.14's `terraform query`): find
//! the remote objects of a managed resource type, so that Terraform can
//! import them and write their configuration.
//!
//! A list resource shares its type name with the managed resource it lists
//! and yields that resource's model; the framework derives each item's
//! identity from the managed resource's identity schema, so the two can
//! never disagree about what names an object.

use std::sync::Arc;

use async_trait::async_trait;

use super::registry::{validate_config, Registered, Registration};
use super::{internal_error, Ctx};
use crate::codec::{Type, Value};
use crate::diag::Diagnostics;
use crate::model::{self, Model};
use crate::schema::Schema;

/// One object found.
pub struct Listed<M> {
    /// What `terraform query` shows for it.
    pub display_name: String,
    pub state: M,
}

#[async_trait]
pub trait ListResource<S: Send + Sync + 'static>: Send + Sync + 'static {
    /// The list block's configuration (its filters).
    type Config: Model + Send + Sync + 'static;
    /// The managed resource's model: what each found object is.
    type Item: Model + Send + Sync + 'static;

    fn schema(&self) -> Schema;

    fn validate(&self, _config: &Self::Config, _diags: &mut Diagnostics) {}

    /// Every matching object. Problems go in `diags`; what was found before
    /// a failure is still returned.
    async fn list(&self, ctx: &Ctx<S>, config: Self::Config, diags: &mut Diagnostics) -> Vec<Listed<Self::Item>>;
}

/// A list resource as the server sees it.
#[async_trait]
pub trait DynListResource<S>: Registration + Send + Sync {
    fn validate(&self, config: &Value) -> Diagnostics;
    /// Items as (display name, state value of `item_type`).
    async fn list(&self, ctx: &Ctx<S>, config: Value, item_type: &Type) -> (Vec<(String, Value)>, Diagnostics);
}

/// Registers a list resource; `type_name` is the managed resource's.
pub fn list_resource<S: Send + Sync + 'static, L: ListResource<S>>(
    type_name: &'static str,
    l: L,
) -> Arc<dyn DynListResource<S>> {
    let schema = l.schema();
    Arc::new(Registered::new::<L::Config>(type_name, l, schema))
}

#[async_trait]
impl<S: Send + Sync + 'static, L: ListResource<S>> DynListResource<S> for Registered<L> {
    fn validate(&self, config: &Value) -> Diagnostics {
        validate_config(&self.schema, config, |m: &L::Config, d| self.inner.validate(m, d))
    }

    async fn list(&self, ctx: &Ctx<S>, config: Value, item_type: &Type) -> (Vec<(String, Value)>, Diagnostics) {
        let config = match model::decode::<L::Config>(&config) {
            Ok(Some(c)) => c,
            Ok(None) => return (Vec::new(), internal_error("the list configuration is null")),
            Err(e) => {
                return (
                    Vec::new(),
                    internal_error(format!("the list configuration does not fit the model: {e}")),
                )
            }
        };
        let mut diags = Diagnostics::new();
        let items = self.inner.list(ctx, config, &mut diags).await;
        let encoded = items
            .into_iter()
            .map(|i| (i.display_name, model::encode(&i.state, item_type)))
            .collect();
        (encoded, diags)
    }
}
