//! `sei_bitbucket_credential`: one Bitbucket Cloud account credential,
//! checked live at plan and apply, and re-checked on refresh when its
//! password is stored.
//!
//! Nothing is created anywhere: the credential lives in Bitbucket. The
//! resource's value is its computed facts (identity, scopes, visible
//! workspaces, validity), kept current so that a revoked or narrowed token
//! shows up in the next refresh.

use async_trait::async_trait;

use super::{
    known_str, now_rfc3339, report_diagnostics, secret_of, ApplyRequest, ApplyResponse, Ctx, ImportResponse,
    PlanRequest, PlanResponse, ReadResponse, Resource,
};
use crate::codec::{AttributePath, Type, Value};
use crate::diag::{Diagnostic, Diagnostics};
use crate::schema::validators::OneOf;
use crate::schema::{plan_generic, requires_replace_paths, Attribute, Block, Schema};
use crate::secret::Secret;
use crate::validate::{AuthType, CredentialCheck, CredentialReport};

/// The facts a check produces; they change only when Bitbucket's answer does.
const FACTS: &[&str] = &[
    "account_id",
    "account_uuid",
    "display_name",
    "credential_type",
    "granted_scopes",
    "visible_workspaces",
    "valid",
];

/// Inputs whose change means the credential must be checked again.
const INPUTS: &[&str] = &[
    "auth_type",
    "username",
    "password",
    "password_wo_version",
    "workspaces",
    "required_scopes",
];

pub struct BitbucketCredentialResource {
    schema: Schema,
}

impl Default for BitbucketCredentialResource {
    fn default() -> Self {
        Self::new()
    }
}

impl BitbucketCredentialResource {
    pub fn new() -> Self {
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
                .describe("The API token or App Password, write-only: never stored in plan or state (Terraform 1.11 or later). Refresh cannot re-check it. Set it from an ephemeral variable."),
        )
        .attr(
            Attribute::optional("password_wo_version", Type::Number)
                .describe("Bump to make Terraform re-check a rotated `password_wo`."),
        )
        .attr(
            Attribute::optional("workspaces", strings.clone())
                .describe("Workspace slugs this credential must be able to see."),
        )
        .attr(
            Attribute::optional("required_scopes", strings.clone())
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
        BitbucketCredentialResource {
            schema: Schema::new(0, block),
        }
    }

    /// The check to run for `config`, or `None` while any input is unknown.
    fn check_for(config: &Value) -> Option<(CredentialCheck, AttributePath)> {
        let auth_type = AuthType::parse(config.get("auth_type").as_str()?)?;
        let username = known_str(config.get("username"))?;
        let (path, secret) = secret_of(config, &AttributePath::root())?;
        let secret = secret.as_str()?.to_string();
        let workspaces = config.get("workspaces").as_strings()?;
        let required_scopes = match config.get("required_scopes") {
            Value::Null => None,
            v => Some(v.as_strings()?),
        };
        Some((
            CredentialCheck {
                auth_type,
                username,
                secret: Secret::new(secret),
                required_scopes,
                workspaces,
                repositories: Vec::new(),
            },
            path,
        ))
    }

    fn diagnostics(report: &CredentialReport, secret_path: &AttributePath) -> Diagnostics {
        let ws = AttributePath::attr("workspaces");
        report_diagnostics(report, secret_path, &ws, &ws)
    }
}

/// Writes a report's facts into a state value.
fn apply_facts(state: &mut Value, report: &CredentialReport) {
    let could_not_check = report.could_not_check();
    let opt = |v: &Option<String>| Value::opt_string(v.clone());
    state.set_attr("account_id", opt(&report.account_id));
    state.set_attr("account_uuid", opt(&report.account_uuid));
    state.set_attr("display_name", opt(&report.display_name));
    state.set_attr("credential_type", opt(&report.credential_type));
    state.set_attr("granted_scopes", Value::string_set(&report.granted_scopes));
    state.set_attr("visible_workspaces", Value::string_set(&report.visible_workspaces));
    state.set_attr(
        "valid",
        if could_not_check {
            Value::Null
        } else {
            Value::Bool(report.is_valid())
        },
    );
}

fn facts_equal(a: &Value, b: &Value) -> bool {
    FACTS.iter().all(|f| a.get(f).set_eq(b.get(f)))
}

fn credential_id(config: &Value) -> Value {
    match (config.get("auth_type").as_str(), config.get("username").as_str()) {
        (Some(t), Some(u)) => Value::string(format!("{t}:{u}")),
        _ => Value::unknown(),
    }
}

#[async_trait]
impl Resource for BitbucketCredentialResource {
    fn type_name(&self) -> &'static str {
        "sei_bitbucket_credential"
    }

    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn validate(&self, config: &Value) -> Diagnostics {
        let mut diags = self.schema.validate(config);
        let has = |n: &str| !config.get(n).is_null();
        match (has("password"), has("password_wo")) {
            (true, true) => diags.error_at(
                AttributePath::attr("password_wo"),
                "Conflicting password attributes",
                "Set exactly one of `password` and `password_wo`, not both.",
            ),
            (false, false) => diags.error(
                "Missing password",
                "Set exactly one of `password` (stored in state, re-checked on refresh) and `password_wo` (write-only, never stored).",
            ),
            _ => {}
        }
        if has("password_wo_version") && !has("password_wo") {
            diags.warning_at(
                AttributePath::attr("password_wo_version"),
                "password_wo_version has no effect",
                "password_wo_version triggers a re-check of password_wo, which is not set.",
            );
        }
        diags
    }

    async fn plan(&self, ctx: &Ctx, req: PlanRequest) -> PlanResponse {
        let block = &self.schema.block;
        let mut planned = plan_generic(block, &req.prior, &req.proposed, &req.config);
        planned.set_attr("id", credential_id(&req.config));
        let mut diags = Diagnostics::new();
        let report = match Self::check_for(&req.config) {
            Some((check, path)) if ctx.services.config.validate_credentials => {
                let report = ctx.services.validator.check(&check, &ctx.cancel).await;
                diags.extend(Self::diagnostics(&report, &path));
                Some(report)
            }
            _ => None,
        };
        let mut requires_replace = requires_replace_paths(block, &req.prior, &planned);
        if !req.prior.is_null() {
            let inputs_changed = INPUTS.iter().any(|i| !req.prior.get(i).set_eq(planned.get(i)));
            let facts_changed = report.as_ref().is_some_and(|r| {
                if r.could_not_check() {
                    return false;
                }
                let mut fresh = req.prior.clone();
                apply_facts(&mut fresh, r);
                !facts_equal(&fresh, &req.prior)
            });
            let was_invalid = req.prior.get("valid") == &Value::Bool(false);
            if inputs_changed || facts_changed || was_invalid || !requires_replace.is_empty() {
                // Checked again at apply: the facts are not known yet.
                for f in FACTS.iter().chain(["validated_at"].iter()) {
                    planned.set_attr(f, Value::unknown());
                }
            } else {
                for f in FACTS.iter().chain(["validated_at"].iter()) {
                    planned.set_attr(f, req.prior.get(f).clone());
                }
            }
            if was_invalid && requires_replace.is_empty() {
                // Refresh found the credential invalid: replace it, so the
                // user sees the failure and a fresh check.
                requires_replace.push(AttributePath::attr("valid"));
            }
        }
        PlanResponse {
            planned,
            requires_replace,
            private: Vec::new(),
            diags,
        }
    }

    async fn apply(&self, ctx: &Ctx, req: ApplyRequest) -> ApplyResponse {
        if req.planned.is_null() {
            // Destroy: the credential lives in Bitbucket; nothing to delete.
            return ApplyResponse::default();
        }
        let mut state = self.schema.block.null_write_only(&req.planned);
        let facts_known = FACTS.iter().all(|f| !state.get(f).is_unknown());
        if facts_known && !state.get("validated_at").is_unknown() {
            return ApplyResponse {
                new_state: state,
                ..Default::default()
            };
        }
        let Some((check, path)) = Self::check_for(&req.config) else {
            return ApplyResponse {
                new_state: req.prior,
                diags: Diagnostic::error(
                    "Credential not known at apply",
                    "The credential's username, password or workspaces are still unknown at apply time. This is a bug; please report it.",
                )
                .into(),
                ..Default::default()
            };
        };
        let report = ctx.services.validator.check(&check, &ctx.cancel).await;
        let diags = Self::diagnostics(&report, &path);
        if report.is_invalid() {
            // Nothing was changed anywhere: keep what was there.
            return ApplyResponse {
                new_state: req.prior,
                diags,
                ..Default::default()
            };
        }
        apply_facts(&mut state, &report);
        state.set_attr("validated_at", Value::string(now_rfc3339()));
        ApplyResponse {
            new_state: state,
            private: Vec::new(),
            diags,
        }
    }

    async fn read(&self, ctx: &Ctx, state: Value, private: Vec<u8>) -> ReadResponse {
        // Only a stored password can be re-checked.
        let stored = !state.get("password").is_null();
        if !stored || !ctx.services.config.validate_credentials {
            return ReadResponse {
                new_state: state,
                private,
                diags: Diagnostics::new(),
            };
        }
        let Some((check, path)) = Self::check_for(&state) else {
            return ReadResponse {
                new_state: state,
                private,
                diags: Diagnostics::new(),
            };
        };
        let report = ctx.services.validator.check(&check, &ctx.cancel).await;
        let mut diags = Diagnostics::new();
        if report.could_not_check() {
            diags.extend(Self::diagnostics(&report, &path));
            return ReadResponse {
                new_state: state,
                private,
                diags,
            };
        }
        let mut fresh = state.clone();
        apply_facts(&mut fresh, &report);
        if report.is_invalid() {
            // Keep the last known identity; record what changed.
            for (f, keep) in [("account_id", true), ("account_uuid", true), ("display_name", true)] {
                if keep && fresh.get(f).is_null() {
                    fresh.set_attr(f, state.get(f).clone());
                }
            }
            for p in &report.problems {
                diags.warning_at(
                    path.clone(),
                    format!("Credential is no longer valid: {}", p.summary),
                    format!(
                        "{} The next plan will replace this credential and check it again.",
                        p.detail
                    ),
                );
            }
        }
        if !facts_equal(&fresh, &state) {
            fresh.set_attr("validated_at", Value::string(now_rfc3339()));
        }
        ReadResponse {
            new_state: fresh,
            private,
            diags,
        }
    }

    async fn import(&self, _ctx: &Ctx, _id: &str) -> ImportResponse {
        ImportResponse {
            state: None,
            private: Vec::new(),
            diags: Diagnostic::error(
                "sei_bitbucket_credential cannot be imported",
                "A Bitbucket credential lives in Bitbucket, not in SEI, so there is nothing to import. Declare the resource in configuration instead; the next apply checks it.",
            )
            .into(),
        }
    }
}
