//! `ephemeral.sei_bitbucket_oauth_token`: a Bitbucket OAuth 2.0 access
//! token for one Terraform run, for other providers' configuration. It is
//! never written to plan or state. Tokens live two hours, longer than any
//! run, so there is no renewal; Bitbucket has no revocation endpoint, so
//! closing forgets the token.

use async_trait::async_trait;
use tfplugin::codec::{AttributePath, Type};
use tfplugin::diag::{Diagnostic, Diagnostics};
use tfplugin::framework::{EphemeralResource, Opened};
use tfplugin::schema::validators::OneOf;
use tfplugin::schema::{Attribute, Block, Schema};
use tfplugin::{Model, Val};

use crate::clients::oauth::OAuthError;
use crate::secret::Secret;
use crate::services::{Ctx, Services};

#[derive(Debug, Clone, PartialEq, Model)]
pub struct OAuthTokenModel {
    pub client_id: Val<String>,
    pub client_secret: Val<Secret>,
    pub grant_type: Val<String>,
    pub refresh_token: Val<Secret>,
    pub new_refresh_token: Val<Secret>,
    pub access_token: Val<Secret>,
    pub token_type: Val<String>,
    pub scopes: Val<Vec<String>>,
    pub expires_at: Val<String>,
}

pub fn schema() -> Schema {
    let block = Block::new("A Bitbucket OAuth 2.0 access token from an OAuth consumer, obtained at the start of each run and never stored. Use it to configure other providers (for example a Bitbucket provider's `oauth_token`).")
        .attr(Attribute::required("client_id", Type::String).describe("The OAuth consumer's key."))
        .attr(Attribute::required("client_secret", Type::String).sensitive().describe("The OAuth consumer's secret."))
        .attr(Attribute::optional("grant_type", Type::String).validate(OneOf(&["client_credentials", "refresh_token"])).describe("`client_credentials` (default) or `refresh_token`."))
        .attr(Attribute::optional_computed("refresh_token", Type::String).sensitive().describe("Input: the refresh token for `grant_type = \"refresh_token\"`. Bitbucket rotates refresh tokens: this one stops working about ten minutes after its first use, so store `new_refresh_token` for the next run."))
        .attr(Attribute::computed("new_refresh_token", Type::String).sensitive().describe("The new refresh token Bitbucket returned with this token (every refresh answers a new one since 2026-05-04); null for client credentials, which get none. Store it where the next run reads its `refresh_token` from, within minutes: the one used here dies about ten minutes after its first use."))
        .attr(Attribute::computed("access_token", Type::String).sensitive().describe("The access token."))
        .attr(Attribute::computed("token_type", Type::String).describe("Always `bearer`."))
        .attr(Attribute::computed("scopes", Type::list(Type::String)).describe("Scopes Bitbucket granted (its `scope` field, or `scopes` as it was named before 2026-05-04)."))
        .attr(Attribute::computed("expires_at", Type::String).describe("RFC 3339 expiry time (two hours after issue)."));
    Schema::new(0, block)
}

pub struct BitbucketOAuthTokenEphemeral;

#[async_trait]
impl EphemeralResource<Services> for BitbucketOAuthTokenEphemeral {
    type Model = OAuthTokenModel;

    fn validate(&self, config: &OAuthTokenModel, diags: &mut Diagnostics) {
        if config.grant_type.as_deref() == Some("refresh_token") && config.refresh_token.is_null() {
            diags.error_at(
                AttributePath::attr("refresh_token"),
                "Missing refresh token",
                "grant_type = \"refresh_token\" needs `refresh_token`.",
            );
        }
    }

    async fn open(
        &self,
        ctx: &Ctx,
        config: OAuthTokenModel,
        diags: &mut Diagnostics,
    ) -> Option<Opened<OAuthTokenModel>> {
        let client_id = config.client_id.known().cloned().unwrap_or_default();
        let secret = config.client_secret.known().cloned().unwrap_or_default();
        let oauth = &ctx.services.oauth;
        let refreshing = config.grant_type.as_deref() == Some("refresh_token");
        let token = match (refreshing, config.refresh_token.known()) {
            (true, Some(refresh)) => oauth.refresh(&client_id, &secret, refresh, &ctx.cancel).await,
            _ => oauth.client_credentials(&client_id, &secret, &ctx.cancel).await,
        };
        let t = match token {
            Ok(t) => t,
            Err(OAuthError::Refused { code, description }) if refreshing && code == "invalid_grant" => {
                diags.push(
                    Diagnostic::error(
                        "Bitbucket refused the refresh token",
                        format!("Bitbucket answered invalid_grant{}. Refresh tokens rotate since 2026-05-04: each refresh answers a new one, and the one used stops working about ten minutes after its first use (and any expires after three months unused). This one was most likely used before, by an earlier run or another tool: use the `new_refresh_token` of the run that used it, or authorise the consumer again in a browser for a new one.", description.map(|d| format!(" ({d})")).unwrap_or_default()),
                    )
                    .at(AttributePath::attr("refresh_token")),
                );
                return None;
            }
            Err(e) => {
                diags.push(
                    Diagnostic::error("Cannot obtain a Bitbucket OAuth token", e.to_string())
                        .at(AttributePath::attr("client_id")),
                );
                return None;
            }
        };
        // Refresh tokens rotate (Bitbucket, since 2026-05-04): the answer's
        // new one is the only one that keeps working. Terraform refuses a
        // result that differs from a configured value, so it has its own
        // attribute. Client credentials get none.
        let new_refresh_token: Val<Secret> = t.refresh_token.clone().into();
        let refresh_token = if config.refresh_token.is_null() {
            new_refresh_token.clone()
        } else {
            config.refresh_token.clone()
        };
        Some(Opened {
            result: OAuthTokenModel {
                access_token: Val::Known(t.access_token.clone()),
                token_type: Val::Known(t.token_type.clone()),
                scopes: Val::Known(t.scopes.clone()),
                expires_at: t
                    .expires_at
                    .map(|e| e.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                    .into(),
                refresh_token,
                new_refresh_token,
                ..config
            },
            private: None,
        })
    }

    fn schema(&self) -> Schema {
        schema()
    }
}
