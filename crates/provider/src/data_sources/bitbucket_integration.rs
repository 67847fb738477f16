//! `data.sei_bitbucket_integration`: one integration, by `id` or `name`.

use async_trait::async_trait;
use tfplugin::codec::{AttributePath, Type};
use tfplugin::diag::{Diagnostic, Diagnostics};
use tfplugin::framework::DataSource;
use tfplugin::schema::{Attribute, Block, Schema};

use crate::clients::SeiError;
use crate::integration::{record_attributes, IntegrationRecord};
use crate::provider::{Ctx, Services};

pub fn schema() -> Schema {
    let block = Block::new("Reads one SEI Bitbucket Cloud integration, by `id` or by `name`. Credentials are not readable: SEI never returns them.")
        .attr(Attribute::optional_computed("id", Type::String).describe("The integration id. Exactly one of `id` and `name`."))
        .attr(Attribute::optional_computed("name", Type::String).describe("The exact integration name. Exactly one of `id` and `name`."));
    Schema::new(0, record_attributes(block, false))
}

pub struct BitbucketIntegrationDataSource;

#[async_trait]
impl DataSource<Services> for BitbucketIntegrationDataSource {
    /// The same record the resource maps, with `id` and `name` as the lookup.
    type Model = IntegrationRecord;

    fn validate(&self, config: &IntegrationRecord, diags: &mut Diagnostics) {
        if config.id.is_null() == config.name.is_null() {
            diags.error("Invalid lookup", "Set exactly one of `id` and `name`.");
        }
    }

    async fn read(&self, ctx: &Ctx, config: IntegrationRecord, diags: &mut Diagnostics) -> Option<IntegrationRecord> {
        let sei = &ctx.services.sei;
        let found = match (config.id.known(), config.name.known()) {
            (Some(id), _) => sei.get(id, &ctx.cancel).await.map(Some).or_else(|e| match e {
                SeiError::NotFound { .. } => Ok(None),
                e => Err(e),
            }),
            (None, Some(name)) => sei.find_by_name(name, &ctx.cancel).await,
            _ => Ok(None),
        };
        match found {
            Ok(Some(rec)) => Some(IntegrationRecord::from(&rec)),
            Ok(None) => {
                let (path, what) = match (config.id.known(), config.name.known()) {
                    (Some(id), _) => ("id", format!("with id {id}")),
                    (None, name) => ("name", format!("named {:?}", name.cloned().unwrap_or_default())),
                };
                diags.push(
                    Diagnostic::error(
                        "Integration not found",
                        format!("SEI has no integration {what} in this account."),
                    )
                    .at(AttributePath::attr(path)),
                );
                None
            }
            Err(e) => {
                diags.push(Diagnostic::error("Cannot read the integration", e.to_string()));
                None
            }
        }
    }

    fn schema(&self) -> Schema {
        schema()
    }
}
