use async_trait::async_trait;

use super::DataSource;
use crate::codec::Value;
use crate::diag::Diagnostics;
use crate::resources::Ctx;
use crate::schema::{Block, Schema};

pub struct BitbucketCredentialCheckDataSource {
    schema: Schema,
}

impl BitbucketCredentialCheckDataSource {
    pub fn new() -> Self {
        BitbucketCredentialCheckDataSource { schema: Schema::new(0, Block::new("")) }
    }
}

impl Default for BitbucketCredentialCheckDataSource {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl DataSource for BitbucketCredentialCheckDataSource {
    fn type_name(&self) -> &'static str {
        "sei_bitbucket_credential_check"
    }

    fn schema(&self) -> &Schema {
        &self.schema
    }

    async fn read(&self, _ctx: &Ctx, config: Value) -> (Value, Diagnostics) {
        (config, Diagnostics::new())
    }
}
