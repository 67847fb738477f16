//! `list "sei_bitbucket_server_integration"`: Bitbucket Data Center
//! integrations.

use async_trait::async_trait;
use tfplugin::diag::Diagnostics;
use tfplugin::framework::{ListResource, Listed};
use tfplugin::schema::Schema;

use super::{matching, ListConfig};
use crate::resources::{DataCenter, IntegrationKind, ServerIntegrationModel};
use crate::services::{Ctx, Services};

pub struct BitbucketServerIntegrationList;

#[async_trait]
impl ListResource<Services> for BitbucketServerIntegrationList {
    type Config = ListConfig;
    type Item = ServerIntegrationModel;

    fn schema(&self) -> Schema {
        super::schema("Bitbucket Data Center")
    }

    async fn list(
        &self,
        ctx: &Ctx,
        config: ListConfig,
        diags: &mut Diagnostics,
    ) -> Vec<Listed<ServerIntegrationModel>> {
        matching(ctx, crate::integration::SERVER_APPLICATION, &config, diags)
            .await
            .iter()
            .map(|rec| Listed {
                display_name: rec.name.clone(),
                state: DataCenter::imported(rec),
            })
            .collect()
    }
}
