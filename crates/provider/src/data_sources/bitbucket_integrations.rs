//! `data.sei_bitbucket_integrations`: every integration of one Bitbucket
//! application (Cloud by default), optionally filtered, across all of SEI's
//! pages.

use async_trait::async_trait;
use tfplugin::codec::Type;
use tfplugin::diag::Diagnostics;
use tfplugin::framework::DataSource;
use tfplugin::schema::validators::{EachString, OneOf};
use tfplugin::schema::{Attribute, Block, Schema};
use tfplugin::{Model, Val};

use crate::clients::sei::ListFilter;
use crate::integration::{record_attributes, ListedIntegration, APPLICATION, APPLICATIONS};
use crate::services::{Ctx, Services};

#[derive(Debug, Clone, PartialEq, Model)]
pub struct IntegrationsModel {
    pub application: Val<String>,
    pub name_prefix: Val<String>,
    pub tag_ids: Val<Vec<String>>,
    pub integrations: Val<Vec<ListedIntegration>>,
}

pub fn schema() -> Schema {
    let element = record_attributes(Block::default(), true)
        .attr(Attribute::computed("application", Type::String).describe("SEI's application."))
        .value_type();
    let block = Block::new("Lists SEI Bitbucket integrations of one application (Cloud by default). It pages through SEI's list API completely and returns each integration once.")
        .attr(Attribute::optional_computed("application", Type::String).validate(OneOf(APPLICATIONS)).describe("`bitbucket` (Bitbucket Cloud, the default) or `bitbucket_server` (Data Center)."))
        .attr(Attribute::optional("name_prefix", Type::String).describe("Only integrations whose name starts with this text (a true prefix match, case-sensitive; SEI's own filter matches substrings)."))
        .attr(Attribute::optional("tag_ids", Type::set(Type::String)).validate(EachString { check: crate::resources::check_tag_id }).describe("Only integrations that carry every one of these tag ids."))
        .attr(Attribute::computed("integrations", Type::list(element)).describe("The integrations, newest update first, with the same attributes as the `sei_bitbucket_integration` data source, `application` included."));
    Schema::new(0, block)
}

pub struct BitbucketIntegrationsDataSource;

#[async_trait]
impl DataSource<Services> for BitbucketIntegrationsDataSource {
    type Model = IntegrationsModel;

    async fn read(&self, ctx: &Ctx, config: IntegrationsModel, diags: &mut Diagnostics) -> Option<IntegrationsModel> {
        let prefix = config.name_prefix.known().cloned();
        let tag_ids = config.tag_ids.items().to_vec();
        let application = config
            .application
            .known()
            .cloned()
            .unwrap_or_else(|| APPLICATION.to_string());
        let filter = ListFilter {
            application: Some(application.clone()),
            name_contains: prefix.clone().filter(|p| !p.is_empty()),
            tag_ids: tag_ids.clone(),
        };
        let records = match ctx.services.sei.list(&filter, &ctx.cancel).await {
            Ok(r) => r,
            Err(e) => {
                diags.push(crate::services::sei_error(ctx, "Cannot list integrations", &e, None));
                return None;
            }
        };
        let items = records
            .iter()
            .filter(|r| prefix.as_deref().is_none_or(|p| r.name.starts_with(p)))
            .filter(|r| tag_ids.iter().all(|t| r.tags.contains(t)))
            .map(ListedIntegration::from)
            .collect();
        Some(IntegrationsModel {
            application: Val::Known(application),
            integrations: Val::Known(items),
            ..config
        })
    }

    fn schema(&self) -> Schema {
        schema()
    }
}
