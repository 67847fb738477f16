//! Data sources, one file each: a typed model and its `read`.

mod bitbucket_credential_check;
mod bitbucket_integration;
mod bitbucket_integrations;
mod tags;

use std::sync::Arc;

use tfplugin::framework::{data_source, DynDataSource};

pub use bitbucket_credential_check::BitbucketCredentialCheckDataSource;
pub use bitbucket_integration::BitbucketIntegrationDataSource;
pub use bitbucket_integrations::BitbucketIntegrationsDataSource;
pub use tags::TagsDataSource;

use crate::services::Services;

pub fn all() -> Vec<Arc<dyn DynDataSource<Services>>> {
    vec![
        data_source("sei_bitbucket_integration", BitbucketIntegrationDataSource),
        data_source("sei_bitbucket_integrations", BitbucketIntegrationsDataSource),
        data_source("sei_bitbucket_credential_check", BitbucketCredentialCheckDataSource),
        data_source("sei_tags", TagsDataSource),
    ]
}
