//! `list "sei_bitbucket_integration"`: Bitbucket Cloud integrations.

use async_trait::async_trait;
use tfplugin::diag::Diagnostics;
use tfplugin::framework::{ListResource, Listed};
use tfplugin::schema::Schema;

use super::{matching, ListConfig};
use crate::resources::{Cloud, IntegrationKind, IntegrationModel};
use crate::services::{Ctx, Services};

pub struct BitbucketIntegrationList;

#[async_trait]
impl ListResource<Services> for BitbucketIntegrationList {
    type Config = ListConfig;
    type Item = IntegrationModel;

    fn schema(&self) -> Schema {
        super::schema("Bitbucket Cloud")
    }

    async fn list(&self, ctx: &Ctx, config: ListConfig, diags: &mut Diagnostics) -> Vec<Listed<IntegrationModel>> {
        matching(ctx, crate::integration::APPLICATION, &config, diags)
            .await
            .iter()
            .map(|rec| Listed {
                display_name: rec.name.clone(),
                state: Cloud::imported(rec),
            })
            .collect()
    }
}
