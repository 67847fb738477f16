//! `data.sei_bitbucket_integration`: one integration, by `id` or `name`,
//! of Bitbucket Cloud or Data Center.

use async_trait::async_trait;
use tfplugin::codec::{AttributePath, Type};
use tfplugin::diag::{Diagnostic, Diagnostics};
use tfplugin::framework::DataSource;
use tfplugin::schema::validators::OneOf;
use tfplugin::schema::{Attribute, Block, Schema};
use tfplugin::Val;

use crate::clients::SeiError;
use crate::integration::{record_attributes, ListedIntegration, APPLICATION, APPLICATIONS};
use crate::services::{Ctx, Services};

pub fn schema() -> Schema {
    let block = Block::new("Reads one SEI Bitbucket integration (Cloud or Data Center), by `id` or by `name`. Credentials are not readable: SEI never returns them.")
        .attr(Attribute::optional_computed("id", Type::String).validate(crate::integration::IntegrationId).describe("The integration id. Exactly one of `id` and `name`."))
        .attr(Attribute::optional_computed("name", Type::String).describe("The exact integration name. Exactly one of `id` and `name`."))
        .attr(Attribute::optional_computed("application", Type::String).validate(OneOf(APPLICATIONS)).describe("`bitbucket` (Bitbucket Cloud, the default) or `bitbucket_server` (Data Center). A record of the other application is not found."));
    Schema::new(0, record_attributes(block, false))
}

pub struct BitbucketIntegrationDataSource;

#[async_trait]
impl DataSource<Services> for BitbucketIntegrationDataSource {
    /// The same record the resources map, with `id`, `name` and
    /// `application` as the lookup.
    type Model = ListedIntegration;

    fn validate(&self, config: &ListedIntegration, diags: &mut Diagnostics) {
        if config.record.id.is_null() == config.record.name.is_null() {
            diags.error("Invalid lookup", "Set exactly one of `id` and `name`.");
        }
    }

    async fn read(&self, ctx: &Ctx, config: ListedIntegration, diags: &mut Diagnostics) -> Option<ListedIntegration> {
        let sei = &ctx.services.sei;
        let application = config
            .application
            .known()
            .cloned()
            .unwrap_or_else(|| APPLICATION.to_string());
        let found = match (config.record.id.known(), config.record.name.known()) {
            (Some(id), _) => sei.get(id, &ctx.cancel).await.map(Some).or_else(|e| match e {
                SeiError::NotFound { .. } => Ok(None),
                e => Err(e),
            }),
            // SEI's list filters by application; a record of the other one
            // by this name is found without the filter and explained below.
            (None, Some(name)) => match sei.find_by_name(name, Some(&application), &ctx.cancel).await {
                Ok(None) => sei.find_by_name(name, None, &ctx.cancel).await,
                other => other,
            },
            _ => Ok(None),
        };
        let (path, what) = match (config.record.id.known(), config.record.name.known()) {
            (Some(id), _) => ("id", format!("with id {id}")),
            (None, name) => ("name", format!("named {:?}", name.cloned().unwrap_or_default())),
        };
        match found {
            Ok(Some(rec)) if rec.application.as_deref().unwrap_or(APPLICATION) == application => {
                let mut out = ListedIntegration::from(&rec);
                out.application = Val::Known(application);
                Some(out)
            }
            Ok(Some(rec)) => {
                let other = rec.application.clone().unwrap_or_default();
                diags.push(
                    Diagnostic::error(
                        "Integration of another application",
                        format!("SEI's integration {what} (id {}) has application {other:?}, and this lookup reads {application:?}{}: set application = {other:?}.", rec.id, if config.application.is_null() { ", the default" } else { "" }),
                    )
                    .at(AttributePath::attr("application")),
                );
                None
            }
            Ok(None) => {
                diags.push(
                    Diagnostic::error(
                        "Integration not found",
                        format!("SEI has no {application} integration {what} in this account."),
                    )
                    .at(AttributePath::attr(path)),
                );
                None
            }
            Err(e) => {
                diags.push(crate::services::sei_error(ctx, "Cannot read the integration", &e, None));
                None
            }
        }
    }

    fn schema(&self) -> Schema {
        schema()
    }
}
