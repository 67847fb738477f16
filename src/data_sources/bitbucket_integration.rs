use async_trait::async_trait;

use super::DataSource;
use crate::codec::Value;
use crate::diag::Diagnostics;
use crate::resources::Ctx;
use crate::schema::{Block, Schema};

pub struct BitbucketIntegrationDataSource {
    schema: Schema,
}

impl BitbucketIntegrationDataSource {
    pub fn new() -> Self {
        BitbucketIntegrationDataSource { schema: Schema::new(0, Block::new("")) }
    }
}

impl Default for BitbucketIntegrationDataSource {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl DataSource for BitbucketIntegrationDataSource {
    fn type_name(&self) -> &'static str {
        "sei_bitbucket_integration"
    }

    fn schema(&self) -> &Schema {
        &self.schema
    }

    async fn read(&self, _ctx: &Ctx, config: Value) -> (Value, Diagnostics) {
        (config, Diagnostics::new())
    }
}
