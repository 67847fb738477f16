use std::sync::Arc;

use async_trait::async_trait;

use super::registry::{decode_config, validate_config, Registered, Registration};
use super::Ctx;
use crate::codec::Value;
use crate::diag::Diagnostics;
use crate::model::{self, Model};
use crate::schema::Schema;

/// What `open` produced: the result, and private bytes Terraform hands back
/// to `close`.
pub struct Opened<M> {
    pub result: M,
    pub private: Option<Vec<u8>>,
}

/// An ephemeral resource: a value that exists for one Terraform run and is
/// never written to plan or state.
#[async_trait]
pub trait EphemeralResource<S: Send + Sync + 'static>: Send + Sync + 'static {
    type Model: Model + Send + Sync + 'static;

    fn schema(&self) -> Schema;

    fn validate(&self, _config: &Self::Model, _diags: &mut Diagnostics) {}

    async fn open(&self, ctx: &Ctx<S>, config: Self::Model, diags: &mut Diagnostics) -> Option<Opened<Self::Model>>;

    async fn close(&self, _ctx: &Ctx<S>, _private: Option<Vec<u8>>, _diags: &mut Diagnostics) {}
}

pub struct OpenResponse {
    pub result: Value,
    pub private: Option<Vec<u8>>,
    pub diags: Diagnostics,
}

/// An ephemeral resource as the server sees it.
#[async_trait]
pub trait DynEphemeralResource<S>: Registration + Send + Sync {
    fn validate(&self, config: &Value) -> Diagnostics;
    async fn open(&self, ctx: &Ctx<S>, config: Value) -> OpenResponse;
    async fn close(&self, ctx: &Ctx<S>, private: Option<Vec<u8>>) -> Diagnostics;
}

/// Registers an ephemeral resource with a provider.
pub fn ephemeral_resource<S: Send + Sync + 'static, E: EphemeralResource<S>>(
    type_name: &'static str,
    e: E,
) -> Arc<dyn DynEphemeralResource<S>> {
    let schema = e.schema();
    Arc::new(Registered::new::<E::Model>(type_name, e, schema))
}

#[async_trait]
impl<S: Send + Sync + 'static, E: EphemeralResource<S>> DynEphemeralResource<S> for Registered<E> {
    fn validate(&self, config: &Value) -> Diagnostics {
        validate_config(&self.schema, config, |m: &E::Model, diags| {
            self.inner.validate(m, diags)
        })
    }

    async fn open(&self, ctx: &Ctx<S>, config: Value) -> OpenResponse {
        let mut diags = Diagnostics::new();
        let opened = match decode_config::<E::Model>(&config) {
            Ok(config) => self.inner.open(ctx, config, &mut diags).await,
            Err(e) => {
                diags.extend(e);
                None
            }
        };
        match opened {
            Some(opened) => OpenResponse {
                result: model::encode(&opened.result, &self.schema.value_type()),
                private: opened.private,
                diags,
            },
            None => OpenResponse {
                result: Value::Null,
                private: None,
                diags,
            },
        }
    }

    async fn close(&self, ctx: &Ctx<S>, private: Option<Vec<u8>>) -> Diagnostics {
        let mut diags = Diagnostics::new();
        self.inner.close(ctx, private, &mut diags).await;
        diags
    }
}
