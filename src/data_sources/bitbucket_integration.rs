//! `data.sei_bitbucket_integration`: one integration, by `id` or `name`.

use async_trait::async_trait;

use super::DataSource;
use crate::clients::sei::Integration;
use crate::clients::SeiError;
use crate::codec::{AttributePath, Type, Value};
use crate::diag::{Diagnostic, Diagnostics};
use crate::resources::Ctx;
use crate::schema::{Attribute, Block, Schema};

pub struct BitbucketIntegrationDataSource {
    schema: Schema,
}

impl Default for BitbucketIntegrationDataSource {
    fn default() -> Self {
        Self::new()
    }
}

/// The attributes of an integration record, shared with the list data
/// source. Credentials are never part of it: SEI does not return them.
pub(crate) fn record_attributes(block: Block, computed_id_and_name: bool) -> Block {
    let strings = Type::set(Type::String);
    let b = if computed_id_and_name {
        block
            .attr(Attribute::computed("id", Type::String).describe("SEI's integration id."))
            .attr(Attribute::computed("name", Type::String).describe("The integration's name."))
    } else {
        block
    };
    b.attr(Attribute::computed("description", Type::String).describe("The description, if any."))
        .attr(Attribute::computed("url", Type::String).describe("Bitbucket's URL."))
        .attr(Attribute::computed("tags", strings.clone()).describe("SEI tag ids."))
        .attr(
            Attribute::computed("repositories", strings).describe("`workspace/repo` names ingested; empty means all."),
        )
        .attr(Attribute::computed("fetch_commits", Type::Bool).describe("Whether commits are ingested."))
        .attr(Attribute::computed("fetch_prs", Type::Bool).describe("Whether pull requests are ingested."))
        .attr(
            Attribute::computed("fetch_pr_reviews", Type::Bool).describe("Whether pull-request reviews are ingested."),
        )
        .attr(
            Attribute::computed("fetch_commit_files", Type::Bool)
                .describe("Whether per-file commit statistics are ingested."),
        )
        .attr(Attribute::computed("satellite", Type::Bool).describe("Whether an on-premises satellite ingests."))
        .attr(
            Attribute::computed("authentication", Type::String)
                .describe("`api_key`, `multiple_api_keys`, `oauth` or `none`."),
        )
        .attr(Attribute::computed("status", Type::String).describe("SEI's status."))
        .attr(Attribute::computed("created_at", Type::Number).describe("Creation time, epoch seconds."))
        .attr(Attribute::computed("updated_at", Type::Number).describe("Last update time, epoch seconds."))
}

pub(crate) fn record_value(rec: &Integration) -> Value {
    let repos = rec.metadata.get("repos").and_then(|v| v.as_str()).unwrap_or("");
    let flag = |k: &str, d: bool| Value::Bool(rec.metadata.get(k).and_then(|v| v.as_bool()).unwrap_or(d));
    Value::object([
        ("id", Value::string(rec.id.clone())),
        ("name", Value::string(rec.name.clone())),
        ("description", Value::opt_string(rec.description.clone())),
        ("url", Value::opt_string(rec.url.clone())),
        ("tags", Value::string_set(&rec.tags)),
        (
            "repositories",
            Value::string_set(repos.split(',').map(str::trim).filter(|r| !r.is_empty())),
        ),
        ("fetch_commits", flag("fetch_commits", true)),
        ("fetch_prs", flag("fetch_prs", true)),
        ("fetch_pr_reviews", flag("fetch_pr_reviews", true)),
        ("fetch_commit_files", flag("fetch_commit_files", false)),
        ("satellite", Value::Bool(rec.satellite.unwrap_or(false))),
        ("authentication", Value::opt_string(rec.authentication.clone())),
        ("status", Value::opt_string(rec.status.clone())),
        ("created_at", Value::opt_int(rec.created_at)),
        ("updated_at", Value::opt_int(rec.updated_at)),
    ])
}

impl BitbucketIntegrationDataSource {
    pub fn new() -> Self {
        let block = Block::new("Reads one SEI Bitbucket Cloud integration, by `id` or by `name`. Credentials are not readable: SEI never returns them.")
            .attr(Attribute::optional_computed("id", Type::String).describe("The integration id. Exactly one of `id` and `name`."))
            .attr(Attribute::optional_computed("name", Type::String).describe("The exact integration name. Exactly one of `id` and `name`."));
        BitbucketIntegrationDataSource {
            schema: Schema::new(0, record_attributes(block, false)),
        }
    }
}

#[async_trait]
impl DataSource for BitbucketIntegrationDataSource {
    fn type_name(&self) -> &'static str {
        "sei_bitbucket_integration"
    }

    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn validate(&self, config: &Value) -> Diagnostics {
        let mut diags = self.schema.validate(config);
        if config.get("id").is_null() == config.get("name").is_null() {
            diags.error("Invalid lookup", "Set exactly one of `id` and `name`.");
        }
        diags
    }

    async fn read(&self, ctx: &Ctx, config: Value) -> (Value, Diagnostics) {
        let sei = &ctx.services.sei;
        let found = match (config.get("id").as_str(), config.get("name").as_str()) {
            (Some(id), _) => sei.get(id, &ctx.cancel).await.map(Some).or_else(|e| match e {
                SeiError::NotFound { .. } => Ok(None),
                e => Err(e),
            }),
            (None, Some(name)) => sei.find_by_name(name, &ctx.cancel).await,
            _ => Ok(None),
        };
        match found {
            Ok(Some(rec)) => (record_value(&rec), Diagnostics::new()),
            Ok(None) => {
                let (path, what) = if config.get("id").is_null() {
                    (
                        "name",
                        format!("named {:?}", config.get("name").as_str().unwrap_or_default()),
                    )
                } else {
                    (
                        "id",
                        format!("with id {}", config.get("id").as_str().unwrap_or_default()),
                    )
                };
                (
                    Value::Null,
                    Diagnostic::error(
                        "Integration not found",
                        format!("SEI has no integration {what} in this account."),
                    )
                    .at(AttributePath::attr(path))
                    .into(),
                )
            }
            Err(e) => (
                Value::Null,
                Diagnostic::error("Cannot read the integration", e.to_string()).into(),
            ),
        }
    }
}
