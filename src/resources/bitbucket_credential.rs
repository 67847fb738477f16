use async_trait::async_trait;

use super::{ApplyRequest, ApplyResponse, Ctx, ImportResponse, PlanRequest, PlanResponse, ReadResponse, Resource};
use crate::codec::Value;
use crate::schema::{Block, Schema};

pub struct BitbucketCredentialResource {
    schema: Schema,
}

impl BitbucketCredentialResource {
    pub fn new() -> Self {
        BitbucketCredentialResource { schema: Schema::new(0, Block::new("")) }
    }
}

impl Default for BitbucketCredentialResource {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl Resource for BitbucketCredentialResource {
    fn type_name(&self) -> &'static str {
        "sei_bitbucket_credential"
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
