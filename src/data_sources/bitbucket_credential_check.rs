//! `data.sei_bitbucket_credential_check`: the live credential check as a
//! data source, for `check {}` blocks and preconditions. It reports an
//! invalid credential; it never fails the run for one.

use async_trait::async_trait;

use super::DataSource;
use crate::codec::{AttributePath, Type, Value};
use crate::diag::{Diagnostic, Diagnostics};
use crate::resources::Ctx;
use crate::schema::validators::OneOf;
use crate::schema::{Attribute, Block, Schema};
use crate::secret::Secret;
use crate::validate::{AuthType, CredentialCheck};

pub struct BitbucketCredentialCheckDataSource {
    schema: Schema,
}

impl Default for BitbucketCredentialCheckDataSource {
    fn default() -> Self {
        Self::new()
    }
}

impl BitbucketCredentialCheckDataSource {
    pub fn new() -> Self {
        let strings = Type::set(Type::String);
        let block = Block::new("Checks a Bitbucket credential live and reports what it found, without failing the run. Data sources are saved in state, so `password` is stored there (marked sensitive); to keep a secret out of state, use `sei_bitbucket_credential` with `password_wo` and a `check {}` block on its `valid`.")
            .attr(Attribute::optional("auth_type", Type::String).validate(OneOf(&["api_token", "app_password"])).describe("`api_token` (default) or `app_password`."))
            .attr(Attribute::required("username", Type::String).describe("Atlassian account email (API token) or Bitbucket username (App Password)."))
            .attr(Attribute::required("password", Type::String).sensitive().describe("The API token or App Password. Stored in state, sensitive."))
            .attr(Attribute::optional("workspaces", strings.clone()).describe("Workspace slugs the credential must see."))
            .attr(Attribute::optional("repositories", strings.clone()).describe("`workspace/repo` names the credential must see."))
            .attr(Attribute::optional("required_scopes", strings.clone()).describe("Scopes to require; default: what SEI ingestion needs."))
            .attr(Attribute::computed("valid", Type::Bool).describe("Whether every check passed."))
            .attr(Attribute::computed("problems", Type::list(Type::String)).describe("What is wrong, one sentence per problem; empty when valid."))
            .attr(Attribute::computed("granted_scopes", strings.clone()).describe("Scopes Bitbucket reports."))
            .attr(Attribute::computed("visible_workspaces", strings).describe("The requested workspaces the credential can see."))
            .attr(Attribute::computed("account_id", Type::String).describe("The Atlassian account id."))
            .attr(Attribute::computed("display_name", Type::String).describe("The account's display name."))
            .attr(Attribute::computed("credential_type", Type::String).describe("Bitbucket's `X-Credential-Type`, else `auth_type`."));
        BitbucketCredentialCheckDataSource {
            schema: Schema::new(0, block),
        }
    }
}

#[async_trait]
impl DataSource for BitbucketCredentialCheckDataSource {
    fn type_name(&self) -> &'static str {
        "sei_bitbucket_credential_check"
    }

    fn schema(&self) -> &Schema {
        &self.schema
    }

    async fn read(&self, ctx: &Ctx, config: Value) -> (Value, Diagnostics) {
        let auth_type = config
            .get("auth_type")
            .as_str()
            .and_then(AuthType::parse)
            .unwrap_or(AuthType::ApiToken);
        let strings = |name: &str| config.get(name).as_strings().unwrap_or_default();
        let check = CredentialCheck {
            auth_type,
            username: config.get("username").as_str().unwrap_or_default().to_string(),
            secret: Secret::new(config.get("password").as_str().unwrap_or_default()),
            required_scopes: (!config.get("required_scopes").is_null()).then(|| strings("required_scopes")),
            workspaces: strings("workspaces"),
            repositories: strings("repositories"),
        };
        let report = ctx.services.validator.check(&check, &ctx.cancel).await;
        let mut state = config.clone();
        state.set_attr("valid", Value::Bool(report.is_valid()));
        state.set_attr("problems", Value::string_list(report.problems.iter().map(|p| p.line())));
        state.set_attr("granted_scopes", Value::string_set(&report.granted_scopes));
        state.set_attr("visible_workspaces", Value::string_set(&report.visible_workspaces));
        state.set_attr("account_id", Value::opt_string(report.account_id.clone()));
        state.set_attr("display_name", Value::opt_string(report.display_name.clone()));
        state.set_attr("credential_type", Value::opt_string(report.credential_type.clone()));
        let mut diags = Diagnostics::new();
        if report.could_not_check() {
            diags.push(
                Diagnostic::warning(
                    "Could not check the credential",
                    report.problems.iter().map(|p| p.line()).collect::<Vec<_>>().join(" "),
                )
                .at(AttributePath::attr("password")),
            );
        }
        (state, diags)
    }
}
