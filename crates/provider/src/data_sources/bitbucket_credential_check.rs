//! `data.sei_bitbucket_credential_check`: the live credential check as a
//! data source, for `check {}` blocks and preconditions. It reports an
//! invalid credential; it never fails the run for one.

use async_trait::async_trait;
use tfplugin::codec::{AttributePath, Type};
use tfplugin::diag::{Diagnostic, Diagnostics};
use tfplugin::framework::DataSource;
use tfplugin::schema::validators::{EachString, OneOf};
use tfplugin::schema::{Attribute, Block, Schema};
use tfplugin::{Model, Val};

use crate::secret::Secret;
use crate::services::{Ctx, Services};
use crate::validate::{AuthType, CredentialCheck};

#[derive(Debug, Clone, PartialEq, Model)]
pub struct CredentialCheckModel {
    pub auth_type: Val<String>,
    pub username: Val<String>,
    pub password: Val<Secret>,
    pub workspaces: Val<Vec<String>>,
    pub repositories: Val<Vec<String>>,
    pub required_scopes: Val<Vec<String>>,
    pub valid: Val<bool>,
    pub problems: Val<Vec<String>>,
    pub granted_scopes: Val<Vec<String>>,
    pub visible_workspaces: Val<Vec<String>>,
    pub account_id: Val<String>,
    pub display_name: Val<String>,
    pub credential_type: Val<String>,
}

pub fn schema() -> Schema {
    let strings = Type::set(Type::String);
    let block = Block::new("Checks a Bitbucket credential live and reports what it found, without failing the run. Data sources are saved in state, so `password` is stored there (marked sensitive); to keep a secret out of state, use `sei_bitbucket_credential` with `password_wo` and a `check {}` block on its `valid`.")
        .attr(Attribute::optional("auth_type", Type::String).validate(OneOf(&["api_token", "app_password"])).describe("`api_token` (default) or `app_password`."))
        .attr(Attribute::required("username", Type::String).describe("Atlassian account email (API token) or Bitbucket username (App Password)."))
        .attr(Attribute::required("password", Type::String).sensitive().describe("The API token or App Password. Stored in state, sensitive."))
        .attr(Attribute::optional("workspaces", strings.clone()).describe("Workspace slugs the credential must see."))
        .attr(Attribute::optional("repositories", strings.clone()).describe("`workspace/repo` names the credential must see."))
        .attr(Attribute::optional("required_scopes", strings.clone()).validate(EachString { check: crate::resources::check_scope }).describe("Scopes to require; default: what SEI ingestion needs."))
        .attr(Attribute::computed("valid", Type::Bool).describe("Whether every check passed."))
        .attr(Attribute::computed("problems", Type::list(Type::String)).describe("What is wrong, one sentence per problem; empty when valid."))
        .attr(Attribute::computed("granted_scopes", strings.clone()).describe("Scopes Bitbucket reports."))
        .attr(Attribute::computed("visible_workspaces", strings).describe("The requested workspaces the credential can see."))
        .attr(Attribute::computed("account_id", Type::String).describe("The Atlassian account id."))
        .attr(Attribute::computed("display_name", Type::String).describe("The account's display name."))
        .attr(Attribute::computed("credential_type", Type::String).describe("Bitbucket's `X-Credential-Type`, else `auth_type`."));
    Schema::new(0, block)
}

pub struct BitbucketCredentialCheckDataSource;

#[async_trait]
impl DataSource<Services> for BitbucketCredentialCheckDataSource {
    type Model = CredentialCheckModel;

    async fn read(
        &self,
        ctx: &Ctx,
        config: CredentialCheckModel,
        diags: &mut Diagnostics,
    ) -> Option<CredentialCheckModel> {
        // Terraform reads a data source only once its configuration is known.
        let check = CredentialCheck {
            auth_type: config
                .auth_type
                .as_deref()
                .and_then(AuthType::parse)
                .unwrap_or(AuthType::ApiToken),
            username: config.username.known().cloned().unwrap_or_default(),
            secret: config.password.known().cloned().unwrap_or_default(),
            required_scopes: config.required_scopes.known().cloned(),
            workspaces: config.workspaces.items().to_vec(),
            repositories: config.repositories.items().to_vec(),
        };
        let report = ctx.services.validator.check(&check, &ctx.cancel).await;
        if report.could_not_check() {
            diags.push(
                Diagnostic::warning(
                    "Could not check the credential",
                    report.problems.iter().map(|p| p.line()).collect::<Vec<_>>().join(" "),
                )
                .at(AttributePath::attr("password")),
            );
        }
        Some(CredentialCheckModel {
            valid: Val::Known(report.is_valid()),
            problems: Val::Known(report.problems.iter().map(|p| p.line()).collect()),
            granted_scopes: Val::Known(report.granted_scopes.clone()),
            visible_workspaces: Val::Known(report.visible_workspaces.clone()),
            account_id: report.account_id.clone().into(),
            display_name: report.display_name.clone().into(),
            credential_type: report.credential_type.clone().into(),
            ..config
        })
    }

    fn schema(&self) -> Schema {
        schema()
    }
}
