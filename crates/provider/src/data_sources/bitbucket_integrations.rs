//! `data.sei_bitbucket_integrations`: every Bitbucket Cloud integration,
//! optionally filtered, across all of SEI's pages.

use async_trait::async_trait;
use tfplugin::codec::Type;
use tfplugin::diag::{Diagnostic, Diagnostics};
use tfplugin::framework::DataSource;
use tfplugin::schema::validators::EachString;
use tfplugin::schema::{Attribute, Block, Schema};
use tfplugin::{Model, Val};

use crate::clients::sei::ListFilter;
use crate::integration::{record_attributes, IntegrationRecord};
use crate::provider::{Ctx, Services};

#[derive(Debug, Clone, PartialEq, Model)]
pub struct IntegrationsModel {
    pub name_prefix: Val<String>,
    pub tag_ids: Val<Vec<String>>,
    pub integrations: Val<Vec<IntegrationRecord>>,
}

pub fn schema() -> Schema {
    let element = record_attributes(Block::default(), true).value_type();
    let block = Block::new("Lists SEI Bitbucket Cloud integrations. It pages through SEI's list API completely and returns each integration once.")
        .attr(Attribute::optional("name_prefix", Type::String).describe("Only integrations whose name starts with this text (a true prefix match, case-sensitive; SEI's own filter matches substrings)."))
        .attr(Attribute::optional("tag_ids", Type::set(Type::String)).validate(EachString { check: crate::resources::check_tag_id }).describe("Only integrations that carry every one of these tag ids."))
        .attr(Attribute::computed("integrations", Type::list(element)).describe("The integrations, newest update first, with the same attributes as the `sei_bitbucket_integration` data source."));
    Schema::new(0, block)
}

pub struct BitbucketIntegrationsDataSource;

#[async_trait]
impl DataSource<Services> for BitbucketIntegrationsDataSource {
    type Model = IntegrationsModel;

    async fn read(&self, ctx: &Ctx, config: IntegrationsModel, diags: &mut Diagnostics) -> Option<IntegrationsModel> {
        let prefix = config.name_prefix.known().cloned();
        let tag_ids = config.tag_ids.items().to_vec();
        let filter = ListFilter {
            name_contains: prefix.clone().filter(|p| !p.is_empty()),
            tag_ids: tag_ids.clone(),
        };
        let records = match ctx.services.sei.list(&filter, &ctx.cancel).await {
            Ok(r) => r,
            Err(e) => {
                diags.push(Diagnostic::error("Cannot list integrations", e.to_string()));
                return None;
            }
        };
        let items = records
            .iter()
            .filter(|r| prefix.as_deref().is_none_or(|p| r.name.starts_with(p)))
            .filter(|r| tag_ids.iter().all(|t| r.tags.contains(t)))
            .map(IntegrationRecord::from)
            .collect();
        Some(IntegrationsModel {
            integrations: Val::Known(items),
            ..config
        })
    }

    fn schema(&self) -> Schema {
        schema()
    }
}
