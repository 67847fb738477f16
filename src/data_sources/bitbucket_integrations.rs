//! `data.sei_bitbucket_integrations`: every Bitbucket Cloud integration,
//! optionally filtered, across all of SEI's pages.

use async_trait::async_trait;

use super::bitbucket_integration::{record_attributes, record_value};
use super::DataSource;
use crate::clients::sei::ListFilter;
use crate::codec::{Type, Value};
use crate::diag::{Diagnostic, Diagnostics};
use crate::resources::Ctx;
use crate::schema::{Attribute, Block, Schema};

pub struct BitbucketIntegrationsDataSource {
    schema: Schema,
}

impl Default for BitbucketIntegrationsDataSource {
    fn default() -> Self {
        Self::new()
    }
}

impl BitbucketIntegrationsDataSource {
    pub fn new() -> Self {
        let element = record_attributes(Block::default(), true).value_type();
        let block = Block::new("Lists SEI Bitbucket Cloud integrations. It pages through SEI's list API completely and returns each integration once.")
            .attr(Attribute::optional("name_prefix", Type::String).describe("Only integrations whose name starts with this text (a true prefix match, case-sensitive; SEI's own filter matches substrings)."))
            .attr(Attribute::optional("tag_ids", Type::set(Type::String)).describe("Only integrations that carry every one of these tag ids."))
            .attr(Attribute::computed("integrations", Type::list(element)).describe("The integrations, newest update first, with the same attributes as the `sei_bitbucket_integration` data source."));
        BitbucketIntegrationsDataSource {
            schema: Schema::new(0, block),
        }
    }
}

#[async_trait]
impl DataSource for BitbucketIntegrationsDataSource {
    fn type_name(&self) -> &'static str {
        "sei_bitbucket_integrations"
    }

    fn schema(&self) -> &Schema {
        &self.schema
    }

    async fn read(&self, ctx: &Ctx, config: Value) -> (Value, Diagnostics) {
        let prefix = config.get("name_prefix").as_str().map(str::to_string);
        let tag_ids = config.get("tag_ids").as_strings().unwrap_or_default();
        let filter = ListFilter {
            name_contains: prefix.clone().filter(|p| !p.is_empty()),
            tag_ids: tag_ids.clone(),
        };
        let records = match ctx.services.sei.list(&filter, &ctx.cancel).await {
            Ok(r) => r,
            Err(e) => {
                return (
                    Value::Null,
                    Diagnostic::error("Cannot list integrations", e.to_string()).into(),
                )
            }
        };
        let items: Vec<Value> = records
            .iter()
            .filter(|r| prefix.as_deref().is_none_or(|p| r.name.starts_with(p)))
            .filter(|r| tag_ids.iter().all(|t| r.tags.contains(t)))
            .map(record_value)
            .collect();
        let mut state = config.clone();
        state.set_attr("integrations", Value::List(items));
        (state, Diagnostics::new())
    }
}
