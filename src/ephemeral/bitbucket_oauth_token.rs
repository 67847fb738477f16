use async_trait::async_trait;

use super::{EphemeralResource, OpenResponse};
use crate::codec::Value;
use crate::diag::Diagnostics;
use crate::resources::Ctx;
use crate::schema::{Block, Schema};

pub struct BitbucketOAuthTokenEphemeral {
    schema: Schema,
}

impl BitbucketOAuthTokenEphemeral {
    pub fn new() -> Self {
        BitbucketOAuthTokenEphemeral { schema: Schema::new(0, Block::new("")) }
    }
}

impl Default for BitbucketOAuthTokenEphemeral {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl EphemeralResource for BitbucketOAuthTokenEphemeral {
    fn type_name(&self) -> &'static str {
        "sei_bitbucket_oauth_token"
    }

    fn schema(&self) -> &Schema {
        &self.schema
    }

    async fn open(&self, _ctx: &Ctx, config: Value) -> OpenResponse {
        OpenResponse { result: config, private: None, diags: Diagnostics::new() }
    }

    async fn close(&self, _ctx: &Ctx, _private: Option<Vec<u8>>) -> Diagnostics {
        Diagnostics::new()
    }
}
