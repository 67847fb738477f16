//! The SEI integration record as Terraform shows it: one mapping, shared by
//! both integration resources and both data sources, so they can never
//! disagree about a record (the `url` default included).

use tfplugin::codec::Type;
use tfplugin::diag::Diagnostics;
use tfplugin::framework::internal_error;
use tfplugin::schema::{Attribute, Block};
use tfplugin::{Model, Val};

use crate::clients::sei::{FetchFlags, Integration, IntegrationSpec};

/// Bitbucket Cloud's URL: what SEI assumes when a record has none.
pub const DEFAULT_URL: &str = "https://bitbucket.org";

pub use crate::clients::sei::{APPLICATION, SERVER_APPLICATION};

/// The attributes SEI returns for an integration. Credentials are never part
/// of it: SEI does not return them.
#[derive(Debug, Clone, PartialEq, Model)]
pub struct IntegrationRecord {
    pub id: Val<String>,
    pub name: Val<String>,
    pub description: Val<String>,
    pub url: Val<String>,
    pub tags: Val<Vec<String>>,
    pub repositories: Val<Vec<String>>,
    pub fetch_commits: Val<bool>,
    pub fetch_prs: Val<bool>,
    pub fetch_pr_reviews: Val<bool>,
    pub fetch_commit_files: Val<bool>,
    pub satellite: Val<bool>,
    pub authentication: Val<String>,
    pub status: Val<String>,
    pub created_at: Val<i64>,
    pub updated_at: Val<i64>,
}

impl From<&Integration> for IntegrationRecord {
    fn from(rec: &Integration) -> Self {
        let fetch = rec.fetch_flags();
        let mut tags = rec.tags.clone();
        tags.sort();
        tags.dedup();
        IntegrationRecord {
            id: Val::Known(rec.id.clone()),
            name: Val::Known(rec.name.clone()),
            description: rec.description.clone().into(),
            url: Val::Known(rec.url.clone().unwrap_or_else(|| DEFAULT_URL.to_string())),
            tags: Val::Known(tags),
            repositories: Val::Known(rec.repositories()),
            fetch_commits: Val::Known(fetch.commits),
            fetch_prs: Val::Known(fetch.prs),
            fetch_pr_reviews: Val::Known(fetch.pr_reviews),
            fetch_commit_files: Val::Known(fetch.commit_files),
            satellite: Val::Known(rec.satellite.unwrap_or(false)),
            authentication: rec.authentication.clone().into(),
            status: rec.status.clone().into(),
            created_at: rec.created_at.into(),
            updated_at: rec.updated_at.into(),
        }
    }
}

/// What an update sends of a record, normalised for comparison: sets in a
/// canonical order.
#[derive(Debug, PartialEq)]
pub struct Remote<'a> {
    name: &'a Val<String>,
    description: &'a Val<String>,
    url: &'a Val<String>,
    tags: Val<Vec<String>>,
    repositories: Val<Vec<String>>,
    fetch: [&'a Val<bool>; 4],
}

impl IntegrationRecord {
    /// The record after SEI answered `rec`: `description = ""` means
    /// "none", and as SEI stores none, the configured "" is kept so that
    /// the plan after apply is empty.
    pub fn from_sei(rec: &Integration, configured: &IntegrationRecord) -> IntegrationRecord {
        let mut record = IntegrationRecord::from(rec);
        if rec.description.as_deref().is_none_or(str::is_empty) && configured.description.as_deref() == Some("") {
            record.description = Val::Known(String::new());
        }
        record
    }

    pub fn remote(&self) -> Remote<'_> {
        Remote {
            name: &self.name,
            description: &self.description,
            url: &self.url,
            tags: sorted_set(&self.tags),
            repositories: sorted_set(&self.repositories),
            fetch: [
                &self.fetch_commits,
                &self.fetch_prs,
                &self.fetch_pr_reviews,
                &self.fetch_commit_files,
            ],
        }
    }

    /// The managed parts, as the SEI client takes them.
    pub fn spec(&self, application: &str, projects: Option<Vec<String>>) -> Result<IntegrationSpec, Diagnostics> {
        let name = self
            .name
            .known()
            .ok_or_else(|| internal_error("the integration's name is not known at apply"))?;
        let d = FetchFlags::default();
        let flag = |v: &Val<bool>, default: bool| v.known().copied().unwrap_or(default);
        Ok(IntegrationSpec {
            name: name.clone(),
            description: self.description.known().cloned(),
            application: application.to_string(),
            url: self.url.known().cloned(),
            tags: self.tags.items().to_vec(),
            repositories: self.repositories.items().to_vec(),
            projects,
            fetch: FetchFlags {
                commits: flag(&self.fetch_commits, d.commits),
                prs: flag(&self.fetch_prs, d.prs),
                pr_reviews: flag(&self.fetch_pr_reviews, d.pr_reviews),
                commit_files: flag(&self.fetch_commit_files, d.commit_files),
            },
        })
    }

    pub fn id(&self) -> Result<&str, Diagnostics> {
        self.id
            .known()
            .map(String::as_str)
            .filter(|id| !id.is_empty())
            .ok_or_else(|| internal_error("the integration's id is missing from state"))
    }
}

/// A record as the data sources show it: the record, its application, and
/// its Data Center project names (empty for Cloud).
#[derive(Debug, Clone, PartialEq, Model)]
pub struct ListedIntegration {
    #[tf(flatten)]
    pub record: IntegrationRecord,
    pub application: Val<String>,
    pub projects: Val<Vec<String>>,
}

impl From<&Integration> for ListedIntegration {
    fn from(rec: &Integration) -> Self {
        ListedIntegration {
            record: IntegrationRecord::from(rec),
            application: Val::Known(rec.application.clone().unwrap_or_else(|| APPLICATION.to_string())),
            projects: Val::Known(rec.projects()),
        }
    }
}

/// SEI's integration ids are numbers: a `/` or a letter in one would put
/// another path in the URL, and SEI's own not-found would read as a wrong
/// endpoint.
pub struct IntegrationId;

impl tfplugin::schema::Validator for IntegrationId {
    fn validate(&self, value: &tfplugin::codec::Value, path: &tfplugin::codec::AttributePath, diags: &mut Diagnostics) {
        let Some(s) = value.as_str() else { return };
        if s.is_empty() || s.len() > 19 || !s.bytes().all(|b| b.is_ascii_digit()) {
            diags.error_at(
                path.clone(),
                "Invalid integration id",
                format!("SEI's integration ids are numbers, such as \"4512\"; got {s:?}. To find an integration by its name, use `name`."),
            );
        }
    }
}

/// Whether a URL would send what it carries unencrypted across a network:
/// `http://` to a host other than this machine.
pub fn is_clear_text(url: &str) -> bool {
    let Ok(u) = url::Url::parse(url) else {
        return false;
    };
    if u.scheme() != "http" {
        return false;
    }
    match u.host() {
        Some(url::Host::Domain(d)) => !d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => !ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => !ip.is_loopback(),
        None => false,
    }
}

/// A warning on `path` when `url` is clear text and carries `what`.
pub fn warn_clear_text(url: &str, what: &str, path: tfplugin::codec::AttributePath, diags: &mut Diagnostics) {
    if is_clear_text(url) {
        diags.warning_at(
            path,
            "Credentials would travel in clear text",
            format!("{url} is http://, not https://, and not this machine: {what} would cross the network unencrypted, readable by anyone on the way (a proxy included). Use https://."),
        );
    }
}

/// What `status` means, for every schema that shows it.
pub const STATUS_DOC: &str = "SEI's status: `ACTIVE` once created and after every credential update (the only value SEI's integrations API sets). Any other value was set by SEI itself and is shown as it is; the provider never changes it.";

/// The applications the data sources read.
pub const APPLICATIONS: &[&str] = &[APPLICATION, SERVER_APPLICATION];

/// The record's attributes, all computed, for the data sources. `with_lookup`
/// leaves out `id` and `name`, which a lookup data source declares itself.
pub fn record_attributes(block: Block, with_id_and_name: bool) -> Block {
    let strings = Type::set(Type::String);
    let b = if with_id_and_name {
        block
            .attr(Attribute::computed("id", Type::String).describe("SEI's integration id."))
            .attr(Attribute::computed("name", Type::String).describe("The integration's name."))
    } else {
        block
    };
    b.attr(Attribute::computed("description", Type::String).describe("The description, if any."))
        .attr(
            Attribute::computed("url", Type::String)
                .describe(format!("Bitbucket's URL; `{DEFAULT_URL}` when SEI holds none.")),
        )
        .attr(Attribute::computed("tags", strings.clone()).describe("SEI tag ids."))
        .attr(Attribute::computed("repositories", strings).describe(
            "Repositories ingested: `workspace/repo` for Cloud, repository names for Data Center; empty means all.",
        ))
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
        .attr(Attribute::computed("status", Type::String).describe(STATUS_DOC))
        .attr(Attribute::computed("created_at", Type::Number).describe("Creation time, epoch seconds."))
        .attr(Attribute::computed("updated_at", Type::Number).describe("Last update time, epoch seconds."))
        .attr(
            Attribute::computed("projects", Type::set(Type::String)).describe(
                "Data Center project names ingested; empty means all (and always empty for Bitbucket Cloud).",
            ),
        )
}

/// A set attribute's elements in a canonical order, for comparisons.
pub(crate) fn sorted_set(v: &Val<Vec<String>>) -> Val<Vec<String>> {
    v.clone().map(|mut items| {
        items.sort();
        items.dedup();
        items
    })
}
