use async_trait::async_trait;

use super::DataSource;
use crate::codec::Value;
use crate::diag::Diagnostics;
use crate::resources::Ctx;
use crate::schema::{Block, Schema};

pub struct BitbucketIntegrationsDataSource {
    schema: Schema,
}

impl BitbucketIntegrationsDataSource {
    pub fn new() -> Self {
        BitbucketIntegrationsDataSource { schema: Schema::new(0, Block::new("")) }
    }
}

impl Default for BitbucketIntegrationsDataSource {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl DataSource for BitbucketIntegrationsDataSource {
    fn type_name(&self) -> &'static str {
        "sei_bitbucket_integrations"
    }

    fn schema(&self) -> &Schema {
        &self.schema
    }

    async fn read(&self, _ctx: &Ctx, config: Value) -> (Value, Diagnostics) {
        (config, Diagnostics::new())
    }
}
