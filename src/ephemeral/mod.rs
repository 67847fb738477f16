//! Ephemeral resources: values that exist for one Terraform run and are
//! never written to plan or state.

mod bitbucket_oauth_token;

use std::sync::Arc;

use async_trait::async_trait;

pub use bitbucket_oauth_token::BitbucketOAuthTokenEphemeral;

use crate::codec::Value;
use crate::diag::Diagnostics;
use crate::resources::Ctx;
use crate::schema::Schema;

pub struct OpenResponse {
    pub result: Value,
    pub private: Option<Vec<u8>>,
    pub diags: Diagnostics,
}

#[async_trait]
pub trait EphemeralResource: Send + Sync {
    fn type_name(&self) -> &'static str;

    fn schema(&self) -> &Schema;

    fn validate(&self, config: &Value) -> Diagnostics {
        self.schema().validate(config)
    }

    async fn open(&self, ctx: &Ctx, config: Value) -> OpenResponse;

    async fn close(&self, ctx: &Ctx, private: Option<Vec<u8>>) -> Diagnostics;
}

pub fn all() -> Vec<Arc<dyn EphemeralResource>> {
    vec![Arc::new(BitbucketOAuthTokenEphemeral::new())]
}
