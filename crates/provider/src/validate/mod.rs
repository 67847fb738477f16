//! The live credential check: what `terraform plan` tells a user about a
//! Bitbucket credential before anything is created.
//!
//! Calls, per distinct credential and per provider process:
//! - one `GET /2.0/user`, whose headers carry the credential type and scopes;
//! - one paged `GET /2.0/repositories/{ws}` per workspace the check needs,
//!   which answers both "is the workspace visible" and "does the repo exist";
//! - a pull-request probe only when Bitbucket sent no scope header.
//!
//! Results are cached and concurrent checks share one request
//! ([`cache`]), so a plan of many integrations sharing a few credentials
//! stays inside Bitbucket's 1000 requests/hour.

mod cache;
pub mod datacenter;
pub(crate) mod scopes;

use std::collections::BTreeSet;

use tokio_util::sync::CancellationToken;

pub use cache::CredentialValidator;
pub use datacenter::{ServerCheck, ServerReport, ServerValidator};
pub use scopes::{default_required_scopes, missing_scopes};

use crate::clients::bitbucket::{BitbucketError, Reply, Repository, User, WorkspaceAccess};
use crate::clients::{BitbucketAuth, TransportError};
use crate::secret::Secret;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthType {
    /// Atlassian account email + scoped API token (Basic).
    ApiToken,
    /// Bitbucket username + App Password (Basic). Removed by Bitbucket on
    /// 2026-07-28.
    AppPassword,
}

impl AuthType {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "api_token" => Some(AuthType::ApiToken),
            "app_password" => Some(AuthType::AppPassword),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AuthType::ApiToken => "api_token",
            AuthType::AppPassword => "app_password",
        }
    }

    /// SEI's credential blocks carry no type: an email is an API token's
    /// identity, anything else an App Password's username.
    pub fn infer(username: &str) -> Self {
        if username.contains('@') {
            AuthType::ApiToken
        } else {
            AuthType::AppPassword
        }
    }
}

/// One credential to check, and what it must be able to see.
#[derive(Debug, Clone)]
pub struct CredentialCheck {
    pub auth_type: AuthType,
    pub username: String,
    pub secret: Secret,
    /// `None`: what SEI ingestion needs.
    pub required_scopes: Option<Vec<String>>,
    pub workspaces: Vec<String>,
    /// `workspace/repo` full names.
    pub repositories: Vec<String>,
}

impl CredentialCheck {
    pub fn auth(&self) -> BitbucketAuth {
        BitbucketAuth::Basic {
            username: self.username.clone(),
            secret: self.secret.clone(),
        }
    }
}

/// Which input a problem belongs to, so the caller can put the diagnostic on
/// the right attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    /// The secret (or the credential as a whole).
    Secret,
    Workspace(usize),
    Repository(usize),
    /// Data Center: the server `url`, the `username`, a listed project.
    Url,
    Username,
    Project(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    InvalidCredential,
    MissingScopes,
    WorkspaceNotVisible,
    RepositoryNotFound,
    /// Could not check: Bitbucket kept answering 429. Not the same as invalid.
    RateLimited,
    /// Could not check: Bitbucket did not answer usefully.
    Unreachable,
    /// Bitbucket refused private content without naming a scope: an IP
    /// allowlist or required two-step verification, which depends on where
    /// the call comes from, so this machine's answer does not settle it.
    Restricted,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub kind: ProblemKind,
    pub subject: Subject,
    pub summary: String,
    pub detail: String,
}

impl Problem {
    /// Whether the credential is known to be bad, as opposed to unchecked.
    pub fn is_invalid(&self) -> bool {
        !matches!(
            self.kind,
            ProblemKind::RateLimited | ProblemKind::Unreachable | ProblemKind::Restricted
        )
    }

    /// One line for lists such as the check data source's `problems`.
    pub fn line(&self) -> String {
        format!("{} {}", self.summary, self.detail)
    }
}

/// What the check found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CredentialReport {
    pub account_id: Option<String>,
    pub account_uuid: Option<String>,
    pub display_name: Option<String>,
    pub credential_type: Option<String>,
    pub granted_scopes: Vec<String>,
    pub visible_workspaces: Vec<String>,
    pub problems: Vec<Problem>,
}

impl CredentialReport {
    pub fn is_valid(&self) -> bool {
        self.problems.is_empty()
    }

    pub fn is_invalid(&self) -> bool {
        self.problems.iter().any(Problem::is_invalid)
    }

    pub fn could_not_check(&self) -> bool {
        !self.problems.is_empty() && !self.is_invalid()
    }
}

const API_TOKEN_HELP: &str = "Create an Atlassian API token with scopes: id.atlassian.com → Security → API tokens → \"Create API token with scopes\", choose the Bitbucket app, and grant read:user:bitbucket, read:workspace:bitbucket, read:project:bitbucket, read:repository:bitbucket and read:pullrequest:bitbucket. Then use auth_type = \"api_token\" with the Atlassian account's email address as username.";

/// For the rare run that must go on with a credential Bitbucket refuses.
const SKIP_CHECK_HINT: &str = "To run without this live check (for example while a token is being rotated), set validate_credentials = false in the provider block, or SEI_VALIDATE_CREDENTIALS=false.";

impl CredentialValidator {
    /// Checks one credential. Never fails: every outcome is in the report.
    pub async fn check(&self, check: &CredentialCheck, cancel: &CancellationToken) -> CredentialReport {
        let mut report = CredentialReport {
            credential_type: Some(check.auth_type.as_str().to_string()),
            ..CredentialReport::default()
        };
        let workspaces = workspaces_to_check(check);
        // Identity and memberships do not depend on each other: one round
        // trip for both, which is what a plan at real latency waits for.
        let (identity, memberships) = futures::join!(self.identity(check, cancel), async {
            if workspaces.is_empty() {
                None
            } else {
                Some(self.memberships(check, cancel).await)
            }
        });
        if let Some(t) = &identity.facts.credential_type {
            report.credential_type = Some(t.clone());
        }
        let is_access_token = identity
            .facts
            .credential_type
            .as_deref()
            .is_some_and(|t| t.ends_with("access_token"));
        match &identity.result {
            Ok(user) => fill_identity(&mut report, user),
            Err(BitbucketError::Forbidden { .. }) if is_access_token => {}
            Err(e) => {
                report.problems.push(identity_problem(check, e));
                return report;
            }
        }
        let scopes_known = check_scopes(&mut report, check, identity.facts.scopes.as_deref());
        let Ok(members_of) = members_of(&mut report, check, memberships, is_access_token) else {
            return report;
        };
        let first_repo = self
            .check_workspaces(&mut report, check, &workspaces, members_of.as_ref(), cancel)
            .await;
        if !scopes_known {
            if let Some((ws, slug)) = first_repo {
                let probe = self
                    .client()
                    .pull_request_probe(&check.auth(), &ws, &slug, cancel)
                    .await;
                if let Err(e @ BitbucketError::Forbidden { .. }) = &probe.result {
                    report.problems.push(identity_problem(check, e));
                }
            }
        }
        report
    }

    /// Lists each workspace's repositories (unless the account is not a
    /// member) and checks the listed ones; returns a repository that is
    /// visible, for the pull-request probe.
    async fn check_workspaces(
        &self,
        report: &mut CredentialReport,
        check: &CredentialCheck,
        workspaces: &[String],
        members_of: Option<&BTreeSet<String>>,
        cancel: &CancellationToken,
    ) -> Option<(String, String)> {
        let mut visible = BTreeSet::new();
        let mut first_repo = None;
        for ws in workspaces {
            if members_of.is_some_and(|m| !m.contains(ws)) {
                report.problems.push(not_a_member(check, ws));
                continue;
            }
            let listing = self.repositories(check, ws, cancel).await;
            match &listing.result {
                Ok(repos) => {
                    visible.insert(ws.clone());
                    let found = check_listed_repositories(report, check, ws, repos);
                    first_repo = first_repo.or(found);
                }
                Err(e) => {
                    let member = members_of.is_some_and(|m| m.contains(ws));
                    let problem = workspace_problem(check, ws, e, member);
                    let is_blocking = problem.is_invalid();
                    report.problems.push(problem);
                    if !is_blocking {
                        // Rate limited or unreachable: stop spending calls.
                        break;
                    }
                }
            }
        }
        report.visible_workspaces = visible.into_iter().collect();
        first_repo
    }
}

/// The workspaces to look into: those listed, then those of repositories,
/// each once, lower-cased as Bitbucket compares them.
fn workspaces_to_check(check: &CredentialCheck) -> Vec<String> {
    let mut workspaces: Vec<String> = Vec::new();
    let repo_workspaces = check.repositories.iter().filter_map(|r| r.split('/').next());
    for ws in check.workspaces.iter().map(String::as_str).chain(repo_workspaces) {
        let ws = ws.to_lowercase();
        if !ws.is_empty() && !workspaces.contains(&ws) {
            workspaces.push(ws);
        }
    }
    workspaces
}

/// Compares the scopes Bitbucket reported with the required ones; false
/// when Bitbucket reported none (the probe must tell).
fn check_scopes(report: &mut CredentialReport, check: &CredentialCheck, granted: Option<&[String]>) -> bool {
    let Some(granted) = granted else {
        return false;
    };
    let required = check
        .required_scopes
        .clone()
        .unwrap_or_else(|| default_required_scopes(check.auth_type));
    report.granted_scopes = sorted(granted.iter().cloned());
    let missing = missing_scopes(&required, granted);
    if !missing.is_empty() {
        report.problems.push(Problem {
            kind: ProblemKind::MissingScopes,
            subject: Subject::Secret,
            summary: format!("The credential for {} lacks required Bitbucket scopes.", check.username),
            detail: format!(
                "Missing: {}. Granted: {}. SEI needs read access to the account, workspaces, projects, repositories and pull requests; create a new token with these scopes (scopes of an existing token cannot be changed).",
                missing.join(", "),
                if granted.is_empty() { "none".to_string() } else { granted.join(", ") }
            ),
        });
    }
    true
}

/// The workspaces the account is a member of (`None`: not asked, or an
/// access token, which has no memberships and whose listings say what it
/// reads). `Err`: the check ends here, with the problem in the report.
fn members_of(
    report: &mut CredentialReport,
    check: &CredentialCheck,
    memberships: Option<Reply<Vec<WorkspaceAccess>>>,
    is_access_token: bool,
) -> Result<Option<BTreeSet<String>>, ()> {
    let Some(reply) = memberships else {
        return Ok(None);
    };
    match reply.result {
        Ok(access) => Ok(Some(access.iter().map(|a| a.workspace.slug.to_lowercase()).collect())),
        Err(BitbucketError::Forbidden { .. }) if is_access_token => Ok(None),
        // Already reported from the granted scopes.
        Err(BitbucketError::Forbidden { .. })
            if report.problems.iter().any(|p| p.kind == ProblemKind::MissingScopes) =>
        {
            Err(())
        }
        Err(e) => {
            report.problems.push(identity_problem(check, &e));
            Err(())
        }
    }
}

/// Checks the listed repositories of workspace `ws` against its listing;
/// returns one that is there.
fn check_listed_repositories(
    report: &mut CredentialReport,
    check: &CredentialCheck,
    ws: &str,
    repos: &[Repository],
) -> Option<(String, String)> {
    let who = &check.username;
    let mut first_repo = None;
    for (j, full) in check.repositories.iter().enumerate() {
        let Some((rws, slug)) = full.split_once('/') else {
            continue;
        };
        if rws.to_lowercase() != ws {
            continue;
        }
        if repo_listed(repos, full) {
            first_repo.get_or_insert_with(|| (rws.to_string(), slug.to_string()));
            continue;
        }
        // Only the first few are shown, so only they get a (quadratic)
        // search for a likely typo.
        let shown = report
            .problems
            .iter()
            .filter(|p| p.kind == ProblemKind::RepositoryNotFound)
            .count()
            < 5;
        let suggestion = shown
            .then(|| closest(repos.iter().map(|r| r.full_name.as_str()), full))
            .flatten()
            .map(|c| format!(" Did you mean {c}?"))
            .unwrap_or_default();
        report.problems.push(Problem {
            kind: ProblemKind::RepositoryNotFound,
            subject: Subject::Repository(j),
            summary: format!("Repository {full} is not visible to {who}."),
            detail: format!(
                "Bitbucket lists {} repositories in workspace {ws} for {who}, and {full} is not one of them.{suggestion} Check the name, or give this account access to it: SEI uses every credential of an integration in turn, so each one must see every listed repository.",
                repos.len()
            ),
        });
    }
    first_repo
}

/// The candidate within two edits of `wanted` (ignoring case), closest
/// first: a likely typo.
fn closest<'a>(candidates: impl Iterator<Item = &'a str>, wanted: &str) -> Option<&'a str> {
    let lower = wanted.to_lowercase();
    candidates
        .filter(|c| *c != wanted)
        // The same name in another case is the closest of all.
        .map(|c| {
            let d = if c.to_lowercase() == lower {
                0
            } else {
                strsim::levenshtein(&c.to_lowercase(), &lower)
            };
            (d, c)
        })
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Exactly as listed: SEI's preflight compares repository names as given,
/// so `ACME/API` would pass here and fail at apply.
fn repo_listed(repos: &[Repository], full: &str) -> bool {
    repos.iter().any(|r| r.full_name == full)
}

fn fill_identity(report: &mut CredentialReport, user: &User) {
    report.account_id = user.account_id.clone();
    report.account_uuid = user.uuid.clone();
    report.display_name = user.display_name.clone().or_else(|| user.nickname.clone());
}

fn sorted(items: impl Iterator<Item = String>) -> Vec<String> {
    let set: BTreeSet<String> = items.collect();
    set.into_iter().collect()
}

fn could_not_check(check: &CredentialCheck, e: &BitbucketError) -> Option<Problem> {
    let who = &check.username;
    match e {
        BitbucketError::RateLimited { attempts, reset_in } => Some(Problem {
            kind: ProblemKind::RateLimited,
            subject: Subject::Secret,
            summary: format!("Could not check the credential for {who}: rate limited."),
            detail: format!(
                "Bitbucket answered 429 Too Many Requests ({}){}. This does not mean the credential is invalid; SEI's own preflight checks it again at create. Bitbucket allows 1000 requests per hour per account.",
                crate::clients::http::attempts_note(*attempts),
                crate::clients::http::reset_note(*reset_in)
            ),
        }),
        BitbucketError::Transport(_) | BitbucketError::Server { .. } | BitbucketError::Decode(_) | BitbucketError::Gone { .. } => {
            Some(Problem {
                kind: ProblemKind::Unreachable,
                subject: Subject::Secret,
                summary: format!("Could not check the credential for {who}."),
                // A certificate problem says what to do itself (ca_cert_file).
                detail: if matches!(e, BitbucketError::Transport(t) if !matches!(t, TransportError::Tls { .. })) {
                    format!("{e}. This does not mean the credential is invalid. If Bitbucket cannot be reached at all, check the provider's `bitbucket_api_url` (BITBUCKET_API_URL).")
                } else {
                    format!("{e}. This does not mean the credential is invalid.")
                },
            })
        }
        _ => None,
    }
}

fn identity_problem(check: &CredentialCheck, e: &BitbucketError) -> Problem {
    if let Some(p) = could_not_check(check, e) {
        return p;
    }
    let who = &check.username;
    match e {
        BitbucketError::Unauthorized { message } => {
            let detail = match check.auth_type {
                AuthType::AppPassword => format!(
                    "Bitbucket answered 401 Unauthorized for {who} ({message}). Bitbucket removed App Passwords on 2026-07-28: every App Password now fails. {API_TOKEN_HELP}"
                ),
                AuthType::ApiToken => format!(
                    "Bitbucket answered 401 Unauthorized for {who} ({message}). The API token is wrong, revoked or expired, or was created without Bitbucket scopes. An API token signs in with the Atlassian account's email address, not the Bitbucket username."
                ),
            };
            Problem {
                kind: ProblemKind::InvalidCredential,
                subject: Subject::Secret,
                summary: format!("Bitbucket rejected the credential for {who}."),
                detail: format!("{detail} {SKIP_CHECK_HINT}"),
            }
        }
        BitbucketError::Forbidden {
            message,
            required,
            granted,
        } => Problem {
            kind: ProblemKind::MissingScopes,
            subject: Subject::Secret,
            summary: format!("The credential for {who} lacks required Bitbucket scopes."),
            detail: if required.is_empty() {
                format!("Bitbucket answered 403 Forbidden for {who}: {message}")
            } else {
                format!(
                    "Bitbucket answered 403 for {who}: {message} Missing: {}. Granted: {}.",
                    required.join(", "),
                    if granted.is_empty() {
                        "none".to_string()
                    } else {
                        granted.join(", ")
                    }
                )
            },
        },
        // A 404 for the signed-in user is not an answer about the
        // credential: the API base is wrong (most often without /2.0).
        BitbucketError::NotFound { .. } => Problem {
            kind: ProblemKind::Unreachable,
            subject: Subject::Secret,
            summary: format!("Could not check the credential for {who}: Bitbucket's API was not found there."),
            detail: format!("{e}, for the signed-in user (GET …/user). That says nothing about the credential: the provider's bitbucket_api_url (BITBUCKET_API_URL) is not Bitbucket Cloud's REST API base, which ends in /2.0 (https://api.bitbucket.org/2.0)."),
        },
        other => Problem {
            kind: ProblemKind::InvalidCredential,
            subject: Subject::Secret,
            summary: format!("Bitbucket refused the credential for {who}."),
            detail: other.to_string(),
        },
    }
}

/// Where a problem with workspace `ws` belongs: the first input that named
/// it, a listed workspace or a repository in it.
fn workspace_subject(check: &CredentialCheck, ws: &str) -> Subject {
    check
        .workspaces
        .iter()
        .position(|w| w.eq_ignore_ascii_case(ws))
        .map(Subject::Workspace)
        .or_else(|| {
            check
                .repositories
                .iter()
                .position(|r| r.split('/').next().is_some_and(|w| w.eq_ignore_ascii_case(ws)))
                .map(Subject::Repository)
        })
        .unwrap_or(Subject::Secret)
}

/// The account is not a member of `ws`. Bitbucket still lists the
/// workspace's public repositories to it, but SEI ingests nothing there.
fn not_a_member(check: &CredentialCheck, ws: &str) -> Problem {
    let who = &check.username;
    Problem {
        kind: ProblemKind::WorkspaceNotVisible,
        subject: workspace_subject(check, ws),
        summary: format!("{who} is not a member of workspace {ws}."),
        detail: format!(
            "Bitbucket does not list {ws} among the workspaces of {who} (GET /2.0/user/workspaces). Its public repositories are readable by anyone, but SEI ingests a workspace only for its members: add {who} to {ws}, or check the workspace slug."
        ),
    }
}

/// `member`: Bitbucket listed `ws` among the account's workspaces.
fn workspace_problem(check: &CredentialCheck, ws: &str, e: &BitbucketError, member: bool) -> Problem {
    if let Some(p) = could_not_check(check, e) {
        return p;
    }
    let who = &check.username;
    let subject = workspace_subject(check, ws);
    match e {
        BitbucketError::Forbidden { required, .. } if !required.is_empty() => identity_problem(check, e),
        // A member of the workspace, with the scopes, refused its private
        // repositories: not a scope problem.
        BitbucketError::Forbidden { .. } if member => restricted(check, ws, e),
        BitbucketError::NotFound { .. } | BitbucketError::Forbidden { .. } => Problem {
            kind: ProblemKind::WorkspaceNotVisible,
            subject,
            summary: format!("Workspace {ws} is not visible to {who}."),
            detail: format!("Bitbucket answered: {e}. Check the workspace slug, or add {who} to the workspace."),
        },
        other => identity_problem(check, other),
    }
}

/// A 403 on private content that names no scope.
fn restricted(check: &CredentialCheck, ws: &str, e: &BitbucketError) -> Problem {
    let who = &check.username;
    Problem {
        kind: ProblemKind::Restricted,
        subject: workspace_subject(check, ws),
        summary: format!("Bitbucket refused {who} access to the private repositories of {ws} from this machine."),
        detail: format!(
            "Bitbucket answered: {e}. It named no missing scope, so this is not a scope problem: workspace {ws} probably allows private content only from allowlisted IP addresses (IP allowlisting, a Premium access control) or only to accounts with two-step verification. This check ran from the machine that runs Terraform; SEI connects to Bitbucket from Harness's IP addresses, which must be on the allowlist too. SEI's own preflight at create (skip_preflight = false) is the check that runs from Harness's side."
        ),
    }
}

/// Failures that say nothing about the credential, and so are not cached:
/// the next check asks Bitbucket again.
pub(crate) fn is_transient(result: &Result<impl Sized, BitbucketError>) -> bool {
    matches!(
        result,
        Err(BitbucketError::RateLimited { .. } | BitbucketError::Transport(_) | BitbucketError::Server { .. })
    )
}

/// What the cache keeps per credential, and per credential and workspace.
pub(crate) type IdentityReply = crate::clients::bitbucket::Reply<User>;
pub(crate) type ListingReply = crate::clients::bitbucket::Reply<Vec<Repository>>;
pub(crate) type MembershipReply = crate::clients::bitbucket::Reply<Vec<crate::clients::bitbucket::WorkspaceAccess>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typo_within_two_edits_is_suggested() {
        let repos = ["acme/api", "acme/web", "acme/infra"];
        assert_eq!(closest(repos.iter().copied(), "acme/apu"), Some("acme/api"));
        assert_eq!(closest(repos.iter().copied(), "acme/infar"), Some("acme/infra"));
        assert_eq!(closest(repos.iter().copied(), "acme/billing"), None);
        assert_eq!(strsim::levenshtein("kitten", "sitting"), 3);
    }
}
