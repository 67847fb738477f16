use async_trait::async_trait;

use super::{ApplyRequest, ApplyResponse, Ctx, ImportResponse, PlanRequest, PlanResponse, ReadResponse, Resource};
use crate::codec::Value;
use crate::schema::{Block, Schema};

pub struct BitbucketIntegrationResource {
    schema: Schema,
}

impl BitbucketIntegrationResource {
    pub fn new() -> Self {
        BitbucketIntegrationResource { schema: Schema::new(0, Block::new("")) }
    }
}

impl Default for BitbucketIntegrationResource {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl Resource for BitbucketIntegrationResource {
    fn type_name(&self) -> &'static str {
        "sei_bitbucket_integration"
    }

    fn schema(&self) -> &Schema {
        &self.schema
    }

    async fn plan(&self, _ctx: &Ctx, req: PlanRequest) -> PlanResponse {
        PlanResponse { planned: req.proposed, ..Default::default() }
    }

    async fn apply(&self, _ctx: &Ctx, req: ApplyRequest) -> ApplyResponse {
        ApplyResponse { new_state: req.planned, ..Default::default() }
    }

    async fn read(&self, _ctx: &Ctx, state: Value, private: Vec<u8>) -> ReadResponse {
        ReadResponse { new_state: state, private, ..Default::default() }
    }

    async fn import(&self, _ctx: &Ctx, _id: &str) -> ImportResponse {
        ImportResponse::default()
    }
}
