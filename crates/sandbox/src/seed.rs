//! The seed file: who exists in the sandbox's SEI and Bitbucket.
//!
//! JSON only. YAML would need a YAML crate of uncertain upkeep for a file
//! people write a handful of times; JSON with exact, path-named errors is
//! friendlier than two formats.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::error::SandboxError;

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Seed {
    pub sei: SeiSeed,
    pub bitbucket: BitbucketSeed,
    /// The Bitbucket Data Center instance served under `/bbdc`; absent
    /// means an instance with no projects and no users.
    #[serde(default)]
    pub datacenter: DataCenterSeed,
}

/// A Bitbucket Data Center instance, per
/// `shared/contract/bitbucket-datacenter-api.md`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DataCenterSeed {
    #[serde(default = "default_dc_version")]
    pub version: String,
    #[serde(default = "default_dc_display_name")]
    pub display_name: String,
    /// Data Center's per-user token bucket.
    #[serde(default)]
    pub rate_limit: TokenBucketSeed,
    #[serde(default)]
    pub projects: Vec<DcProjectSeed>,
    #[serde(default)]
    pub users: Vec<DcUserSeed>,
    /// Project HTTP access tokens: Bearer only.
    #[serde(default)]
    pub project_tokens: Vec<DcProjectTokenSeed>,
}

impl Default for DataCenterSeed {
    fn default() -> Self {
        DataCenterSeed {
            version: default_dc_version(),
            display_name: default_dc_display_name(),
            rate_limit: TokenBucketSeed::default(),
            projects: Vec::new(),
            users: Vec::new(),
            project_tokens: Vec::new(),
        }
    }
}

fn default_dc_version() -> String {
    "8.19.1".to_string()
}

fn default_dc_display_name() -> String {
    "Bitbucket".to_string()
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TokenBucketSeed {
    pub size: u32,
    pub refill_per_second: u32,
}

impl Default for TokenBucketSeed {
    /// Generous: tests that need throttling set their own bucket.
    fn default() -> Self {
        TokenBucketSeed {
            size: 1000,
            refill_per_second: 100,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DcProjectSeed {
    pub key: String,
    pub name: String,
    /// Repository names; each slug is the name lowercased, with runs of
    /// other characters turned into `-`, as Data Center derives it.
    #[serde(default)]
    pub repositories: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DcUserSeed {
    pub username: String,
    #[serde(default)]
    pub display_name: Option<String>,
    pub id: u64,
    pub password: String,
    /// The user's own HTTP access tokens: they work in Basic auth with the
    /// username, and as Bearer tokens.
    #[serde(default)]
    pub tokens: Vec<DcTokenSeed>,
    /// Project key → `PROJECT_READ` | `PROJECT_WRITE` | `PROJECT_ADMIN`.
    #[serde(default)]
    pub projects: BTreeMap<String, String>,
    /// `KEY/slug` → `REPO_READ` | `REPO_WRITE` | `REPO_ADMIN`.
    #[serde(default)]
    pub repositories: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DcTokenSeed {
    /// The token's name in counters and the control plane.
    pub name: String,
    pub secret: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DcProjectTokenSeed {
    pub name: String,
    pub project: String,
    pub secret: String,
}

/// Data Center's slug of a repository name.
pub fn dc_slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() || c == '_' || c == '.' {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_string()
}

const PROJECT_PERMISSIONS: [&str; 3] = ["PROJECT_READ", "PROJECT_WRITE", "PROJECT_ADMIN"];
const REPO_PERMISSIONS: [&str; 3] = ["REPO_READ", "REPO_WRITE", "REPO_ADMIN"];

fn seed_error(path: String, why: &str) -> SandboxError {
    SandboxError::Seed(format!("{path}: {why}"))
}

fn validate_datacenter(dc: &DataCenterSeed, names: &mut BTreeSet<String>) -> Result<(), SandboxError> {
    let fail = |path: String, why: &str| Err(seed_error(format!("datacenter.{path}"), why));
    if dc.rate_limit.size == 0 {
        return fail("rate_limit.size".into(), "must be at least 1");
    }
    let keys = validate_dc_projects(&dc.projects)?;
    let mut usernames = BTreeSet::new();
    for (i, u) in dc.users.iter().enumerate() {
        validate_dc_user(dc, &keys, i, u, &mut usernames, names)?;
    }
    for (i, t) in dc.project_tokens.iter().enumerate() {
        if !keys.contains(&t.project) {
            return fail(format!("project_tokens[{i}].project"), "no such project");
        }
        if t.secret.is_empty() {
            return fail(format!("project_tokens[{i}].secret"), "must not be empty");
        }
        if !names.insert(t.name.clone()) {
            return fail(format!("project_tokens[{i}].name"), "duplicate principal name");
        }
    }
    Ok(())
}

/// Project keys as Data Center allows them, each once, with named projects
/// of distinct repository slugs. The keys.
fn validate_dc_projects(projects: &[DcProjectSeed]) -> Result<BTreeSet<String>, SandboxError> {
    let fail = |path: String, why: &str| Err(seed_error(format!("datacenter.{path}"), why));
    let mut keys = BTreeSet::new();
    for (i, p) in projects.iter().enumerate() {
        let key_ok = !p.key.is_empty()
            && p.key
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
        if !key_ok {
            return fail(format!("projects[{i}].key"), "must be upper-case letters, digits and _");
        }
        if !keys.insert(p.key.clone()) {
            return fail(format!("projects[{i}].key"), "duplicate project key");
        }
        if p.name.trim().is_empty() {
            return fail(format!("projects[{i}].name"), "must not be empty");
        }
        let mut slugs = BTreeSet::new();
        for (j, r) in p.repositories.iter().enumerate() {
            if dc_slug(r).is_empty() || !slugs.insert(dc_slug(r)) {
                return fail(
                    format!("projects[{i}].repositories[{j}]"),
                    "empty or duplicate repository slug",
                );
            }
        }
    }
    Ok(keys)
}

/// One Data Center user: a unique name, a password, named tokens, and
/// permissions on projects and repositories that exist.
fn validate_dc_user(
    dc: &DataCenterSeed,
    keys: &BTreeSet<String>,
    i: usize,
    u: &DcUserSeed,
    usernames: &mut BTreeSet<String>,
    names: &mut BTreeSet<String>,
) -> Result<(), SandboxError> {
    let fail = |f: &str, why: &str| Err(seed_error(format!("datacenter.users[{i}].{f}"), why));
    if u.username.trim().is_empty() || u.username.contains(':') {
        return fail("username", "must be non-empty and without ':'");
    }
    if !usernames.insert(u.username.to_lowercase()) || !names.insert(u.username.clone()) {
        return fail("username", "duplicate principal name");
    }
    if u.password.is_empty() {
        return fail("password", "must not be empty");
    }
    for (j, t) in u.tokens.iter().enumerate() {
        if t.secret.is_empty() {
            return fail(&format!("tokens[{j}].secret"), "must not be empty");
        }
        if !names.insert(t.name.clone()) {
            return fail(&format!("tokens[{j}].name"), "duplicate principal name");
        }
    }
    for (key, level) in &u.projects {
        if !keys.contains(key) {
            return fail(&format!("projects.{key}"), "no such project");
        }
        if !PROJECT_PERMISSIONS.contains(&level.as_str()) {
            return fail(
                &format!("projects.{key}"),
                "must be PROJECT_READ, PROJECT_WRITE or PROJECT_ADMIN",
            );
        }
    }
    let repo_exists = |full: &str| {
        full.split_once('/').is_some_and(|(key, slug)| {
            dc.projects
                .iter()
                .any(|p| p.key == key && p.repositories.iter().any(|r| dc_slug(r) == slug))
        })
    };
    for (full, level) in &u.repositories {
        if !repo_exists(full) {
            return fail(&format!("repositories.{full}"), "no such repository (KEY/slug)");
        }
        if !REPO_PERMISSIONS.contains(&level.as_str()) {
            return fail(
                &format!("repositories.{full}"),
                "must be REPO_READ, REPO_WRITE or REPO_ADMIN",
            );
        }
    }
    Ok(())
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SeiSeed {
    /// API keys SEI accepts, each bound to an account (tenant).
    pub api_keys: Vec<ApiKeySeed>,
    /// `client_id` of the Bitbucket OAuth consumer SEI itself uses to
    /// exchange authorization codes (`method: "oauth"`).
    #[serde(default)]
    pub oauth_consumer: Option<String>,
    /// Integrations that exist before anyone runs Terraform, as ones made
    /// in the SEI UI do: what the data source and import examples find.
    /// Added to a new world only (not to a loaded `--state`).
    #[serde(default)]
    pub integrations: Vec<IntegrationSeed>,
    /// SEI's tags, which integrations' `tags` name by id.
    #[serde(default)]
    pub tags: Vec<TagSeed>,
}

/// One SEI tag.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TagSeed {
    pub account: String,
    /// A numeric id, as SEI's.
    pub id: u64,
    pub name: String,
}

/// One pre-existing SEI integration.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct IntegrationSeed {
    pub account: String,
    pub name: String,
    /// `bitbucket` (Cloud) or `bitbucket_server` (Data Center).
    pub application: String,
    pub url: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub satellite: bool,
    #[serde(default)]
    pub tags: Vec<String>,
    /// SEI's `metadata`, as its API returns it (`repos`, `projects`, ...).
    #[serde(default)]
    pub metadata: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKeySeed {
    /// Sent as `x-api-key` when it starts with `pat.`/`sat.`, else as
    /// `Authorization: ApiKey <key>`; both headers accept any seeded key.
    pub key: String,
    pub account: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum AppPasswordMode {
    /// Bitbucket since 2026-07-28: every App Password gets 401.
    #[default]
    Removed,
    /// 401 only inside the 15-minute windows at 00, 06, 12 and 18 UTC.
    Brownout,
    /// Before the brownouts: App Passwords work.
    Active,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BitbucketSeed {
    #[serde(default)]
    pub app_passwords: AppPasswordMode,
    #[serde(default = "default_rate_limit")]
    pub rate_limit_per_hour: u32,
    pub workspaces: Vec<WorkspaceSeed>,
    pub principals: Vec<PrincipalSeed>,
}

fn default_rate_limit() -> u32 {
    1000
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WorkspaceSeed {
    pub slug: String,
    #[serde(default)]
    pub name: Option<String>,
    /// Repository slugs, private: only members with access see them.
    pub repositories: Vec<String>,
    /// Public repository slugs: Bitbucket lists them to anyone, member or
    /// not, even without credentials.
    #[serde(default)]
    pub public_repositories: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalKind {
    /// Atlassian email + scoped API token, over Basic auth.
    ApiToken,
    /// Bitbucket username + App Password, over Basic auth.
    AppPassword,
    /// OAuth consumer: client id + secret at the token endpoint.
    OauthConsumer,
    /// Repository, project or workspace access token, over Bearer.
    AccessToken,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PrincipalSeed {
    pub kind: PrincipalKind,
    /// The principal's name in counters and the control plane. Defaults to
    /// the email (api_token), username (app_password), client_id
    /// (oauth_consumer); required for access_token.
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub client_id: Option<String>,
    /// API token, App Password, client secret or access token.
    pub secret: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub account_id: Option<String>,
    /// Scopes in Bitbucket's own naming: API-token names for api_token,
    /// legacy names for the others.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Workspace slug → permission (`owner`, `create-project`, `member`,
    /// `collaborator`).
    #[serde(default)]
    pub workspaces: BTreeMap<String, String>,
    /// `workspace/repo` names this principal may see; all repositories of
    /// its workspaces when absent.
    #[serde(default)]
    pub repositories: Option<Vec<String>>,
    /// For oauth_consumer: the principal whose identity its tokens carry.
    #[serde(default)]
    pub user: Option<String>,
    /// For access_token: the `X-Credential-Type` value.
    #[serde(default)]
    pub credential_type: Option<String>,
}

impl PrincipalSeed {
    pub fn principal_name(&self) -> String {
        self.name
            .clone()
            .or_else(|| match self.kind {
                PrincipalKind::ApiToken => self.email.clone(),
                PrincipalKind::AppPassword => self.username.clone(),
                PrincipalKind::OauthConsumer => self.client_id.clone(),
                PrincipalKind::AccessToken => None,
            })
            .unwrap_or_default()
    }
}

/// Parses and checks a seed; the error names the offending field.
pub fn parse_seed(text: &str) -> Result<Seed, SandboxError> {
    let seed: Seed = serde_json::from_str(text).map_err(|e| SandboxError::Seed(e.to_string()))?;
    validate_seed(&seed)?;
    Ok(seed)
}

/// One Bitbucket principal: what its kind requires, a secret, a unique
/// name, and workspaces and repositories that exist.
fn validate_principal(
    seed: &Seed,
    slugs: &BTreeSet<String>,
    i: usize,
    p: &PrincipalSeed,
    names: &mut BTreeSet<String>,
) -> Result<(), SandboxError> {
    let at = |f: &str| format!("bitbucket.principals[{i}].{f}");
    let fail = |f: &str, why: &str| Err(seed_error(at(f), why));
    let need = |v: &Option<String>, f: &str| -> Result<(), SandboxError> {
        if v.as_deref().is_none_or(|s| s.trim().is_empty()) {
            Err(SandboxError::Seed(format!("{}: required for kind {:?}", at(f), p.kind)))
        } else {
            Ok(())
        }
    };
    match p.kind {
        PrincipalKind::ApiToken => need(&p.email, "email")?,
        PrincipalKind::AppPassword => need(&p.username, "username")?,
        PrincipalKind::OauthConsumer => need(&p.client_id, "client_id")?,
        PrincipalKind::AccessToken => need(&p.name, "name")?,
    }
    if p.secret.is_empty() {
        return fail("secret", "must not be empty");
    }
    if !names.insert(p.principal_name()) {
        return fail("name", "duplicate principal name");
    }
    for ws in p.workspaces.keys() {
        if !slugs.contains(ws) {
            return fail(&format!("workspaces.{ws}"), "no such workspace in bitbucket.workspaces");
        }
    }
    for (j, r) in p.repositories.iter().flatten().enumerate() {
        let Some((ws, repo)) = r.split_once('/') else {
            return fail(&format!("repositories[{j}]"), "must be workspace/repo");
        };
        let known = seed
            .bitbucket
            .workspaces
            .iter()
            .any(|w| w.slug == ws && w.repositories.iter().any(|x| x == repo));
        if !known {
            return fail(
                &format!("repositories[{j}]"),
                "no such repository in bitbucket.workspaces",
            );
        }
    }
    Ok(())
}

pub fn validate_seed(seed: &Seed) -> Result<(), SandboxError> {
    let fail = |path: String, why: &str| Err(SandboxError::Seed(format!("{path}: {why}")));
    for (i, t) in seed.sei.tags.iter().enumerate() {
        if t.name.trim().is_empty() || t.name != t.name.to_lowercase() {
            return fail(
                format!("sei.tags[{i}].name"),
                "must be non-empty and lower case, as SEI stores it",
            );
        }
        if seed.sei.tags.iter().filter(|o| o.id == t.id).count() > 1 {
            return fail(format!("sei.tags[{i}].id"), "must be unique");
        }
    }
    for (i, r) in seed.sei.integrations.iter().enumerate() {
        if !["bitbucket", "bitbucket_server"].contains(&r.application.as_str()) {
            return fail(
                format!("sei.integrations[{i}].application"),
                "must be bitbucket or bitbucket_server",
            );
        }
        if !seed.sei.api_keys.iter().any(|k| k.account == r.account) {
            return fail(
                format!("sei.integrations[{i}].account"),
                "no API key of the seed has this account",
            );
        }
    }
    if seed.sei.api_keys.is_empty() {
        return fail("sei.api_keys".into(), "at least one API key is needed");
    }
    for (i, k) in seed.sei.api_keys.iter().enumerate() {
        if k.key.trim().is_empty() {
            return fail(format!("sei.api_keys[{i}].key"), "must not be empty");
        }
        if k.account.trim().is_empty() {
            return fail(format!("sei.api_keys[{i}].account"), "must not be empty");
        }
    }
    let mut slugs = BTreeSet::new();
    for (i, w) in seed.bitbucket.workspaces.iter().enumerate() {
        if w.slug.trim().is_empty() || w.slug.contains('/') {
            return fail(
                format!("bitbucket.workspaces[{i}].slug"),
                "must be a non-empty slug without '/'",
            );
        }
        if !slugs.insert(w.slug.clone()) {
            return fail(format!("bitbucket.workspaces[{i}].slug"), "duplicate workspace");
        }
    }
    let mut names = BTreeSet::new();
    for (i, p) in seed.bitbucket.principals.iter().enumerate() {
        validate_principal(seed, &slugs, i, p, &mut names)?;
    }
    for (i, p) in seed.bitbucket.principals.iter().enumerate() {
        if let Some(user) = &p.user {
            if !names.contains(user) {
                return fail(format!("bitbucket.principals[{i}].user"), "no principal has this name");
            }
        }
    }
    validate_datacenter(&seed.datacenter, &mut names)?;
    if let Some(c) = &seed.sei.oauth_consumer {
        let found = seed
            .bitbucket
            .principals
            .iter()
            .any(|p| p.kind == PrincipalKind::OauthConsumer && p.client_id.as_deref() == Some(c));
        if !found {
            return fail(
                "sei.oauth_consumer".into(),
                "no oauth_consumer principal has this client_id",
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_field() {
        let bad = r#"{"sei":{"api_keys":[{"key":"k","account":"a"}]},
            "bitbucket":{"workspaces":[{"slug":"acme","repositories":["api"]}],
            "principals":[{"kind":"api_token","secret":"s"}]}}"#;
        let err = parse_seed(bad).unwrap_err().to_string();
        assert!(err.contains("bitbucket.principals[0].email"), "{err}");
        let typo = r#"{"sei":{"api_keys":[],"oauth_consumr":"x"},"bitbucket":{"workspaces":[],"principals":[]}}"#;
        assert!(parse_seed(typo).unwrap_err().to_string().contains("oauth_consumr"));
        let dc = r#"{"sei":{"api_keys":[{"key":"k","account":"a"}]},"bitbucket":{"workspaces":[],"principals":[]},
            "datacenter":{"projects":[{"key":"PLAT","name":"Platform","repositories":["api"]}],
            "users":[{"username":"svc","id":1,"password":"p","repositories":{"PLAT/web":"REPO_READ"}}]}}"#;
        let err = parse_seed(dc).unwrap_err().to_string();
        assert!(err.contains("datacenter.users[0].repositories.PLAT/web"), "{err}");
    }

    #[test]
    fn slugs_follow_data_center() {
        assert_eq!(dc_slug("Mobile App"), "mobile-app");
        assert_eq!(dc_slug("api"), "api");
        assert_eq!(dc_slug("  Weird__Name!! "), "weird__name");
    }
}
