//! `sei_bitbucket_credential`: one Bitbucket Cloud account credential,
//! checked live at plan and apply, and re-checked on refresh when its
//! password is stored.
//!
//! Nothing is created anywhere: the credential lives in Bitbucket. The
//! resource's value is its computed facts (identity, scopes, visible
//! workspaces, validity), kept current so that a revoked or narrowed token
//! shows up in the next refresh.

use async_trait::async_trait;
use tfplugin::codec::{AttributePath, Number, Type};
use tfplugin::diag::{Diagnostic, Diagnostics};
use tfplugin::framework::{Plan, Resource};
use tfplugin::schema::validators::{EachString, Invalid, NoControlChars, OneOf, StringLength, WholeNumber};
use tfplugin::schema::{Attribute, Block, Schema};
use tfplugin::{Model, Val};

use super::rotation::{self, WriteOnly};
use super::{as_warnings, known_secret, now_rfc3339, report_diagnostics, sorted_set};
use crate::secret::Secret;
use crate::services::{Ctx, Services};
use crate::validate::{AuthType, CredentialCheck, CredentialReport};

/// `sei_bitbucket_credential`'s configuration and state.
#[derive(Debug, Clone, PartialEq, Model)]
pub struct CredentialModel {
    pub id: Val<String>,
    pub auth_type: Val<String>,
    pub username: Val<String>,
    pub password: Val<Secret>,
    pub password_wo: Val<Secret>,
    pub password_wo_version: Val<Number>,
    pub workspaces: Val<Vec<String>>,
    pub required_scopes: Val<Vec<String>>,
    #[tf(flatten)]
    pub facts: Facts,
    pub validated_at: Val<String>,
}

/// The facts a check produces; they change only when Bitbucket's answer does.
#[derive(Debug, Clone, PartialEq, Model)]
pub struct Facts {
    pub account_id: Val<String>,
    pub account_uuid: Val<String>,
    pub display_name: Val<String>,
    pub credential_type: Val<String>,
    pub granted_scopes: Val<Vec<String>>,
    pub visible_workspaces: Val<Vec<String>>,
    pub valid: Val<bool>,
}

impl Facts {
    fn unknown() -> Facts {
        Facts {
            account_id: Val::Unknown,
            account_uuid: Val::Unknown,
            display_name: Val::Unknown,
            credential_type: Val::Unknown,
            granted_scopes: Val::Unknown,
            visible_workspaces: Val::Unknown,
            valid: Val::Unknown,
        }
    }

    fn from_report(report: &CredentialReport) -> Facts {
        let set = |items: &[String]| sorted_set(&Val::Known(items.to_vec()));
        Facts {
            account_id: report.account_id.clone().into(),
            account_uuid: report.account_uuid.clone().into(),
            display_name: report.display_name.clone().into(),
            credential_type: report.credential_type.clone().into(),
            granted_scopes: set(&report.granted_scopes),
            visible_workspaces: set(&report.visible_workspaces),
            // Null when the check could not run (rate limited, unreachable).
            valid: if report.could_not_check() {
                Val::Null
            } else {
                Val::Known(report.is_valid())
            },
        }
    }

    /// Equality that ignores the order of set elements.
    fn same_as(&self, other: &Facts) -> bool {
        let canonical = |f: &Facts| Facts {
            granted_scopes: sorted_set(&f.granted_scopes),
            visible_workspaces: sorted_set(&f.visible_workspaces),
            ..f.clone()
        };
        canonical(self) == canonical(other)
    }

    fn is_known(&self) -> bool {
        !self.account_id.is_unknown()
            && !self.account_uuid.is_unknown()
            && !self.display_name.is_unknown()
            && !self.credential_type.is_unknown()
            && !self.granted_scopes.is_unknown()
            && !self.visible_workspaces.is_unknown()
            && !self.valid.is_unknown()
    }
}

impl CredentialModel {
    /// The inputs whose change means the credential must be checked again.
    #[allow(clippy::type_complexity)]
    fn inputs(
        &self,
    ) -> (
        &Val<String>,
        &Val<String>,
        &Val<Secret>,
        &Val<Number>,
        Val<Vec<String>>,
        Val<Vec<String>>,
    ) {
        (
            &self.auth_type,
            &self.username,
            &self.password,
            &self.password_wo_version,
            sorted_set(&self.workspaces),
            sorted_set(&self.required_scopes),
        )
    }

    /// The write-only secret, for rotation detection.
    fn write_only_secret(&self) -> Vec<WriteOnly<'_>> {
        if self.password_wo.is_null() {
            return Vec::new();
        }
        vec![WriteOnly {
            path: AttributePath::attr("password_wo"),
            slot: "password_wo".into(),
            secret: self.password_wo.known(),
        }]
    }

    fn credential_id(&self) -> Val<String> {
        match (&self.auth_type, &self.username) {
            (Val::Known(t), Val::Known(u)) => Val::Known(format!("{t}:{u}")),
            _ => Val::Unknown,
        }
    }

    /// The check to run, or `None` while any input is unknown.
    fn check(&self) -> Option<(CredentialCheck, AttributePath)> {
        let auth_type = AuthType::parse(self.auth_type.known()?)?;
        let username = self.username.known()?.clone();
        let (path, secret) = known_secret(&self.password, &self.password_wo, &AttributePath::root())?;
        let workspaces = self.workspaces.known_or(Vec::new())?;
        let required_scopes = match &self.required_scopes {
            Val::Null => None,
            Val::Unknown => return None,
            Val::Known(s) => Some(s.clone()),
        };
        Some((
            CredentialCheck {
                auth_type,
                username,
                secret,
                required_scopes,
                workspaces,
                repositories: Vec::new(),
            },
            path,
        ))
    }
}

/// What identifies a problem already said about a credential.
fn said_key(username: &str, p: &crate::validate::Problem) -> String {
    format!("credential\u{0}{username}\u{0}{}\u{0}{}", p.summary, p.detail)
}

fn check_diagnostics(report: &CredentialReport, secret_path: &AttributePath) -> Diagnostics {
    let ws = AttributePath::attr("workspaces");
    report_diagnostics(report, secret_path, &ws, &ws)
}

pub fn schema() -> Schema {
    let strings = Type::set(Type::String);
    let block = Block::new(
        "One Bitbucket Cloud account credential (Atlassian API token, or a legacy App Password), checked live against Bitbucket at plan and apply time. A stored `password` is re-checked on every refresh, so a revoked or narrowed token shows up as `valid = false`. A `password_wo` credential is checked at plan and apply only, because its secret is never stored.",
    )
    .attr(
        Attribute::computed("id", Type::String)
            .describe("`<auth_type>:<username>`."),
    )
    .attr(
        Attribute::required("auth_type", Type::String)
            .validate(OneOf(&["api_token", "app_password"]))
            .describe("`api_token` (Atlassian account email + scoped API token) or `app_password` (Bitbucket username + App Password; Bitbucket removed these on 2026-07-28)."),
    )
    .attr(
        Attribute::required("username", Type::String)
            .validate(StringLength { min: 1, max: 255 })
            .validate(NoControlChars)
            .describe("The Atlassian account email for `api_token`, the Bitbucket username for `app_password`."),
    )
    .attr(
        Attribute::optional("password", Type::String)
            .sensitive()
            .describe("The API token or App Password. Stored in state (sensitive), which lets refresh re-check it. Exactly one of `password` and `password_wo` must be set."),
    )
    .attr(
        Attribute::optional("password_wo", Type::String)
            .sensitive()
            .write_only()
            .stored_alternative("password")
            .describe("The API token or App Password, write-only: never stored in plan or state (Terraform 1.11 or later). Refresh cannot re-check it. Set it from an ephemeral variable."),
    )
    .attr(
        Attribute::optional("password_wo_version", Type::Number)
            .validate(WholeNumber)
            .describe("Bump to make Terraform re-check a rotated `password_wo`."),
    )
    .attr(
        Attribute::optional("workspaces", strings.clone())
            .describe("Workspace slugs this credential must be able to see."),
    )
    .attr(
        Attribute::optional("required_scopes", strings.clone())
            .validate(EachString { check: check_scope })
            .describe("Scopes the credential must hold, in Bitbucket's naming for its kind. Default: what SEI ingestion needs (`read:user:bitbucket`, `read:workspace:bitbucket`, `read:project:bitbucket`, `read:repository:bitbucket`, `read:pullrequest:bitbucket` for API tokens; `account`, `team`, `project`, `repository`, `pullrequest` for App Passwords)."),
    )
    .attr(Attribute::computed("account_id", Type::String).describe("The Atlassian account id."))
    .attr(Attribute::computed("account_uuid", Type::String).describe("The Bitbucket account UUID, with braces."))
    .attr(Attribute::computed("display_name", Type::String).describe("The account's display name."))
    .attr(
        Attribute::computed("credential_type", Type::String)
            .describe("What Bitbucket's `X-Credential-Type` header reports, else `auth_type`."),
    )
    .attr(Attribute::computed("granted_scopes", strings.clone()).describe("Scopes Bitbucket reports for the credential."))
    .attr(Attribute::computed("visible_workspaces", strings).describe("Those of `workspaces` (and of required repositories' workspaces) that the credential can see."))
    .attr(
        Attribute::computed("valid", Type::Bool)
            .describe("Whether the last check passed; `null` when it could not run (rate limited or unreachable). Use it in `check {}` blocks."),
    )
    .attr(
        Attribute::computed("validated_at", Type::String)
            .describe("RFC 3339 time of the last check that changed a fact or ran at apply."),
    );
    Schema::new(0, block)
}

pub struct BitbucketCredentialResource;

/// `required_scopes` elements are scopes Bitbucket knows.
pub(crate) fn check_scope(scope: &str) -> Result<(), Invalid> {
    crate::validate::scopes::check_scope_name(scope).map_err(|e| Invalid(e.to_string()))
}

impl BitbucketCredentialResource {
    /// Runs the check at apply, unless the plan kept every fact: then
    /// nothing changed, and the planned state is the new state.
    async fn apply_check(
        &self,
        ctx: &Ctx,
        planned: CredentialModel,
        config: &CredentialModel,
        diags: &mut Diagnostics,
    ) -> Option<CredentialModel> {
        if planned.facts.is_known() && planned.validated_at.is_known() {
            return Some(planned);
        }
        let Some((check, path)) = config.check() else {
            diags.extend(tfplugin::framework::internal_error(
                "the credential's username, password or workspaces are still unknown at apply time",
            ));
            return None;
        };
        let report = ctx.services.validator.check(&check, &ctx.cancel).await;
        diags.extend(check_diagnostics(&report, &path));
        if report.is_invalid() {
            // Nothing was changed anywhere: keep what was there.
            return None;
        }
        Some(CredentialModel {
            facts: Facts::from_report(&report),
            validated_at: Val::Known(now_rfc3339()),
            ..planned
        })
    }
}

#[async_trait]
impl Resource<Services> for BitbucketCredentialResource {
    type Model = CredentialModel;

    fn validate(&self, config: &CredentialModel, diags: &mut Diagnostics) {
        if config.auth_type.as_deref() == Some("app_password") {
            diags.warning_at(
                AttributePath::attr("auth_type"),
                "Deprecated: auth_type = \"app_password\"",
                "Bitbucket removed App Passwords on 2026-07-28, and every request with one now fails. Use auth_type = \"api_token\" with the Atlassian account's email as username and a scoped API token (docs/guides/migrating-from-app-passwords.md).",
            );
        }
        if let (Some("app_password"), Some(username)) = (config.auth_type.as_deref(), config.username.as_deref()) {
            if username.contains('@') {
                diags.error_at(
                    AttributePath::attr("username"),
                    "An App Password needs the Bitbucket username",
                    format!("An App Password signs in with the Bitbucket username, not an email address like {username:?}; an email goes with auth_type = \"api_token\" and an Atlassian API token. Bitbucket removed App Passwords on 2026-07-28."),
                );
            }
        }
        if let (Some("api_token"), Some(username)) = (config.auth_type.as_deref(), config.username.as_deref()) {
            if !username.contains('@') {
                diags.error_at(
                    AttributePath::attr("username"),
                    "An API token needs the account's email",
                    format!("An Atlassian API token signs in with the Atlassian account's email address; {username:?} is not one. Set username to the email, or auth_type = \"app_password\" for a legacy App Password (removed by Bitbucket on 2026-07-28)."),
                );
            }
        }
        super::refuse_empty_secret(&config.password, AttributePath::attr("password"), diags);
        super::refuse_empty_secret(&config.password_wo, AttributePath::attr("password_wo"), diags);
        match (config.password.is_null(), config.password_wo.is_null()) {
            (false, false) => diags.error_at(
                AttributePath::attr("password_wo"),
                "Conflicting password attributes",
                "Set exactly one of `password` and `password_wo`, not both.",
            ),
            (true, true) => diags.error(
                "Missing password",
                "Set exactly one of `password` (stored in state, re-checked on refresh) and `password_wo` (write-only, never stored).",
            ),
            _ => {}
        }
        if !config.password_wo_version.is_null() && config.password_wo.is_null() {
            diags.warning_at(
                AttributePath::attr("password_wo_version"),
                "password_wo_version has no effect",
                "password_wo_version triggers a re-check of password_wo, which is not set.",
            );
        }
    }

    async fn modify_plan(&self, ctx: &Ctx, plan: &mut Plan<CredentialModel>) {
        plan.planned.id = plan.config.credential_id();
        let rotated = !rotation::changed_since_sent(
            ctx,
            &mut plan.private,
            &plan.config.write_only_secret(),
            ("checked", "checked again"),
            &mut plan.diags,
        )
        .await
        .is_empty();
        rotation::mark_sends(&mut plan.private, true);
        let inputs_changed = rotated
            || plan
                .prior
                .as_ref()
                .is_none_or(|prior| prior.inputs() != plan.planned.inputs());
        let report = match plan.config.check() {
            Some((check, path)) if ctx.services.config.validate_credentials => {
                let report = ctx.services.validator.check(&check, &ctx.cancel).await;
                plan.diags.extend(if inputs_changed {
                    check_diagnostics(&report, &path)
                } else {
                    // The same credential as in state: a plan that may be
                    // the refresh before a destroy must not fail on it, and
                    // what the refresh of this very run already warned
                    // about is not said twice.
                    let mut unsaid = report.clone();
                    unsaid
                        .problems
                        .retain(|p| !ctx.services.was_said(&said_key(&check.username, p)));
                    as_warnings(
                        check_diagnostics(&unsaid, &path),
                        "The configuration is unchanged, so the plan goes on; applying it checks the credential again and fails until it is fixed.",
                    )
                });
                Some(report)
            }
            _ => None,
        };
        let Some(prior) = &plan.prior else { return };
        let facts_changed = report
            .as_ref()
            .is_some_and(|r| !r.could_not_check() && !Facts::from_report(r).same_as(&prior.facts));
        let was_invalid = prior.facts.valid == Val::Known(false);
        if let Some(invalid) = report.as_ref().filter(|r| r.is_invalid()) {
            // The check ran on the configured secret (the only way for a
            // `password_wo`, which refresh cannot check) and found it bad:
            // plan what it found, so that a `check {}` on `valid` fails in
            // this very plan instead of saying "known after apply".
            plan.planned.facts = Facts::from_report(invalid);
            plan.planned.validated_at = Val::Unknown;
        } else if inputs_changed || facts_changed || was_invalid {
            // Checked again at apply: the facts are not known yet.
            plan.planned.facts = Facts::unknown();
            plan.planned.validated_at = Val::Unknown;
        } else {
            plan.planned.facts = prior.facts.clone();
            plan.planned.validated_at = prior.validated_at.clone();
        }
        // A credential refresh found invalid is checked again by an update
        // in place, not replaced: the create half of a replacement has no
        // prior state, so its check would be an error even in the refresh
        // Terraform runs before a destroy, and block the decommission.
    }

    async fn create(
        &self,
        ctx: &Ctx,
        planned: CredentialModel,
        config: CredentialModel,
        diags: &mut Diagnostics,
    ) -> Option<CredentialModel> {
        self.apply_check(ctx, planned, &config, diags).await
    }

    async fn update(
        &self,
        ctx: &Ctx,
        _prior: CredentialModel,
        planned: CredentialModel,
        config: CredentialModel,
        diags: &mut Diagnostics,
    ) -> Option<CredentialModel> {
        self.apply_check(ctx, planned, &config, diags).await
    }

    async fn applied_private(&self, ctx: &Ctx, config: &CredentialModel, private: Vec<u8>, succeeded: bool) -> Vec<u8> {
        rotation::remember_sent(ctx, private, &config.write_only_secret(), succeeded).await
    }

    async fn delete(&self, _ctx: &Ctx, _state: CredentialModel, _diags: &mut Diagnostics) {
        // The credential lives in Bitbucket; there is nothing to delete.
    }

    async fn read(&self, ctx: &Ctx, state: CredentialModel, diags: &mut Diagnostics) -> Option<CredentialModel> {
        // Only a stored password can be re-checked.
        if state.password.is_null() || !ctx.services.config.validate_credentials {
            return Some(state);
        }
        let Some((check, path)) = state.check() else {
            return Some(state);
        };
        let report = ctx.services.validator.check(&check, &ctx.cancel).await;
        if report.could_not_check() {
            diags.extend(check_diagnostics(&report, &path));
            return Some(state);
        }
        let mut facts = Facts::from_report(&report);
        if report.is_invalid() {
            // Keep the last known identity; record what changed.
            for (fresh, known) in [
                (&mut facts.account_id, &state.facts.account_id),
                (&mut facts.account_uuid, &state.facts.account_uuid),
                (&mut facts.display_name, &state.facts.display_name),
            ] {
                if fresh.is_null() {
                    *fresh = known.clone();
                }
            }
            for p in &report.problems {
                ctx.services.mark_said(said_key(&check.username, p));
                diags.warning_at(
                    path.clone(),
                    format!("Credential is no longer valid: {}", p.summary),
                    format!(
                        "{} The next plan checks it again, and applying it fails until the credential is fixed.",
                        p.detail
                    ),
                );
            }
        }
        let validated_at = if facts.same_as(&state.facts) {
            state.validated_at.clone()
        } else {
            Val::Known(now_rfc3339())
        };
        Some(CredentialModel {
            facts,
            validated_at,
            ..state
        })
    }

    async fn import(&self, _ctx: &Ctx, _id: &str, diags: &mut Diagnostics) -> Option<CredentialModel> {
        diags.push(Diagnostic::error(
            "sei_bitbucket_credential cannot be imported",
            "A Bitbucket credential lives in Bitbucket, not in SEI, so there is nothing to import. Declare the resource in configuration instead; the next apply checks it.",
        ));
        None
    }

    fn schema(&self) -> Schema {
        schema()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facts_compare_sets_without_order() {
        let a = Facts {
            granted_scopes: Val::Known(vec!["b".into(), "a".into()]),
            ..Facts::unknown()
        };
        let b = Facts {
            granted_scopes: Val::Known(vec!["a".into(), "b".into()]),
            ..Facts::unknown()
        };
        assert!(a.same_as(&b));
        assert!(!a.is_known());
    }
}
