//! List resources for `terraform query` (Terraform 1.14+), one file per
//! integration type: find the records made in the SEI UI, with their
//! identity and name, so Terraform can import them and write their config.
//!
//! Both read the refresh snapshot ([`crate::clients::records`]): one SEI call
//! per 1000 records of the account, shared with the reads that follow.

mod bitbucket_integration;
mod bitbucket_server_integration;

use std::sync::Arc;

use tfplugin::codec::Type;
use tfplugin::diag::Diagnostics;
use tfplugin::framework::{list_resource, DynListResource};
use tfplugin::schema::validators::EachString;
use tfplugin::schema::{Attribute, Block, Schema};
use tfplugin::{Model, Val};

pub use bitbucket_integration::BitbucketIntegrationList;
pub use bitbucket_server_integration::BitbucketServerIntegrationList;

use crate::clients::sei::Integration;
use crate::services::{Ctx, Services};

pub fn all() -> Vec<Arc<dyn DynListResource<Services>>> {
    vec![
        list_resource("sei_bitbucket_integration", BitbucketIntegrationList),
        list_resource("sei_bitbucket_server_integration", BitbucketServerIntegrationList),
    ]
}

/// A list block's filters: the `sei_bitbucket_integrations` data source's.
#[derive(Debug, Clone, PartialEq, Model)]
pub struct ListConfig {
    pub name_prefix: Val<String>,
    pub tag_ids: Val<Vec<String>>,
}

fn schema(what: &str) -> Schema {
    Schema::new(
        0,
        Block::new(format!("Finds {what} integrations in SEI, for `terraform query`."))
            .attr(
                Attribute::optional("name_prefix", Type::String)
                    .describe("Only integrations whose name starts with this text (case-sensitive)."),
            )
            .attr(
                Attribute::optional("tag_ids", Type::set(Type::String))
                    .validate(EachString {
                        check: crate::resources::check_tag_id,
                    })
                    .describe("Only integrations that carry every one of these tag ids."),
            ),
    )
}

/// The records of `application` that match the filters.
async fn matching(ctx: &Ctx, application: &str, config: &ListConfig, diags: &mut Diagnostics) -> Vec<Integration> {
    let records = match ctx.services.records.all(application, &ctx.cancel).await {
        Ok(r) => r,
        Err(e) => {
            diags.push(crate::services::sei_error(ctx, "Cannot list integrations", &e, None));
            return Vec::new();
        }
    };
    let prefix = config.name_prefix.known().cloned().unwrap_or_default();
    let tags = config.tag_ids.items().to_vec();
    records
        .into_iter()
        .filter(|r| r.name.starts_with(&prefix))
        .filter(|r| tags.iter().all(|t| r.tags.contains(t)))
        .collect()
}
