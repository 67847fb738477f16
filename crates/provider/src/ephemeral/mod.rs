//! Ephemeral resources: values that exist for one Terraform run and are
//! never written to plan or state.

mod bitbucket_oauth_token;

use std::sync::Arc;

use tfplugin::framework::{ephemeral_resource, DynEphemeralResource};

pub use bitbucket_oauth_token::BitbucketOAuthTokenEphemeral;

use crate::services::Services;

pub fn all() -> Vec<Arc<dyn DynEphemeralResource<Services>>> {
    vec![ephemeral_resource(
        "sei_bitbucket_oauth_token",
        BitbucketOAuthTokenEphemeral,
    )]
}
