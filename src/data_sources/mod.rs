//! Data sources, one file each.

mod bitbucket_credential_check;
mod bitbucket_integration;
mod bitbucket_integrations;

use std::sync::Arc;

use async_trait::async_trait;

pub use bitbucket_credential_check::BitbucketCredentialCheckDataSource;
pub use bitbucket_integration::BitbucketIntegrationDataSource;
pub use bitbucket_integrations::BitbucketIntegrationsDataSource;

use crate::codec::Value;
use crate::diag::Diagnostics;
use crate::resources::Ctx;
use crate::schema::Schema;

#[async_trait]
pub trait DataSource: Send + Sync {
    fn type_name(&self) -> &'static str;

    fn schema(&self) -> &Schema;

    fn validate(&self, config: &Value) -> Diagnostics {
        self.schema().validate(config)
    }

    /// Returns the full state, or `Value::Null` with error diagnostics.
    async fn read(&self, ctx: &Ctx, config: Value) -> (Value, Diagnostics);
}

pub fn all() -> Vec<Arc<dyn DataSource>> {
    vec![
        Arc::new(BitbucketIntegrationDataSource::new()),
        Arc::new(BitbucketIntegrationsDataSource::new()),
        Arc::new(BitbucketCredentialCheckDataSource::new()),
    ]
}
