//! `ephemeral.sei_bitbucket_oauth_token`: a Bitbucket OAuth 2.0 access
//! token for one Terraform run, for other providers' configuration. It is
//! never written to plan or state. Tokens live two hours, longer than any
//! run, so there is no renewal; Bitbucket has no revocation endpoint, so
//! closing forgets the token.

use async_trait::async_trait;

use super::{EphemeralResource, OpenResponse};
use crate::codec::{AttributePath, Type, Value};
use crate::diag::{Diagnostic, Diagnostics};
use crate::resources::Ctx;
use crate::schema::validators::OneOf;
use crate::schema::{Attribute, Block, Schema};
use crate::secret::Secret;

pub struct BitbucketOAuthTokenEphemeral {
    schema: Schema,
}

impl Default for BitbucketOAuthTokenEphemeral {
    fn default() -> Self {
        Self::new()
    }
}

impl BitbucketOAuthTokenEphemeral {
    pub fn new() -> Self {
        let block = Block::new("A Bitbucket OAuth 2.0 access token from an OAuth consumer, obtained at the start of each run and never stored. Use it to configure other providers (for example a Bitbucket provider's `oauth_token`).")
            .attr(Attribute::required("client_id", Type::String).describe("The OAuth consumer's key."))
            .attr(Attribute::required("client_secret", Type::String).sensitive().describe("The OAuth consumer's secret."))
            .attr(Attribute::optional("grant_type", Type::String).validate(OneOf(&["client_credentials", "refresh_token"])).describe("`client_credentials` (default) or `refresh_token`."))
            .attr(Attribute::optional_computed("refresh_token", Type::String).sensitive().describe("Input: the refresh token for `grant_type = \"refresh_token\"`. Result: the refresh token Bitbucket returned, when none was given."))
            .attr(Attribute::computed("access_token", Type::String).sensitive().describe("The access token."))
            .attr(Attribute::computed("token_type", Type::String).describe("Always `bearer`."))
            .attr(Attribute::computed("scopes", Type::list(Type::String)).describe("Scopes Bitbucket granted."))
            .attr(Attribute::computed("expires_at", Type::String).describe("RFC 3339 expiry time (two hours after issue)."));
        BitbucketOAuthTokenEphemeral {
            schema: Schema::new(0, block),
        }
    }
}

#[async_trait]
impl EphemeralResource for BitbucketOAuthTokenEphemeral {
    fn type_name(&self) -> &'static str {
        "sei_bitbucket_oauth_token"
    }

    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn validate(&self, config: &Value) -> Diagnostics {
        let mut diags = self.schema.validate(config);
        if config.get("grant_type").as_str() == Some("refresh_token") && config.get("refresh_token").is_null() {
            diags.error_at(
                AttributePath::attr("refresh_token"),
                "Missing refresh token",
                "grant_type = \"refresh_token\" needs `refresh_token`.",
            );
        }
        diags
    }

    async fn open(&self, ctx: &Ctx, config: Value) -> OpenResponse {
        let client_id = config.get("client_id").as_str().unwrap_or_default().to_string();
        let secret = Secret::new(config.get("client_secret").as_str().unwrap_or_default());
        let oauth = &ctx.services.oauth;
        let token = match config.get("grant_type").as_str().unwrap_or("client_credentials") {
            "refresh_token" => {
                let refresh = Secret::new(config.get("refresh_token").as_str().unwrap_or_default());
                oauth.refresh(&client_id, &secret, &refresh, &ctx.cancel).await
            }
            _ => oauth.client_credentials(&client_id, &secret, &ctx.cancel).await,
        };
        match token {
            Ok(t) => {
                let mut result = config.clone();
                result.set_attr("access_token", Value::string(t.access_token.expose()));
                result.set_attr("token_type", Value::string(t.token_type.clone()));
                result.set_attr("scopes", Value::string_list(&t.scopes));
                result.set_attr(
                    "expires_at",
                    Value::opt_string(t.expires_at.map(|e| e.format("%Y-%m-%dT%H:%M:%SZ").to_string())),
                );
                if config.get("refresh_token").is_null() {
                    result.set_attr(
                        "refresh_token",
                        Value::opt_string(t.refresh_token.as_ref().map(|r| r.expose().to_string())),
                    );
                }
                OpenResponse {
                    result,
                    private: None,
                    diags: Diagnostics::new(),
                }
            }
            Err(e) => OpenResponse {
                result: Value::Null,
                private: None,
                diags: Diagnostic::error("Cannot obtain a Bitbucket OAuth token", e.to_string())
                    .at(AttributePath::attr("client_id"))
                    .into(),
            },
        }
    }

    async fn close(&self, _ctx: &Ctx, _private: Option<Vec<u8>>) -> Diagnostics {
        Diagnostics::new()
    }
}
