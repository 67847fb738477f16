//! The live check of a Bitbucket Data Center credential, from the machine
//! that runs Terraform, before SEI is asked to create anything.
//!
//! Calls, per provider process:
//! - one `GET {url}/rest/api/1.0/application-properties` per `url`, without
//!   credentials: is this Data Center, and which version;
//! - one paged `GET /projects` per (url, username, secret): identity from
//!   `X-AUSERNAME`, and the projects the user can see;
//! - when repositories are listed, the repositories the user can read: one
//!   paged `GET /projects/{key}/repos` per listed project, or one paged
//!   `GET /repos` when no project is listed;
//! - for a listed repository the user cannot read, `GET
//!   /projects/{key}/repos/{slug}` in the projects it may be in, which tells
//!   "exists, no permission" (401 with `X-AUSERNAME`) from "no such
//!   repository" (404). For the first few missing ones only.
//! - after a 401 without identity, one Bearer probe with the same secret:
//!   a project or repository token works only as Bearer, and SEI sends Basic.
//!
//! Every answer is cached for the process and shared in flight (see
//! [`super::cache`]), so twenty integrations on one server and one
//! credential cost the same calls as one. The secret is part of the cache
//! key (as an HMAC), so a changed password is checked again.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Mutex;

use tokio_util::sync::CancellationToken;
use url::Url;

use super::cache::{keyed, single_flight, Slots};
use super::{Problem, ProblemKind, Subject};
use crate::clients::datacenter::{
    project_repos_path, DataCenterAuth, DataCenterClient, DataCenterError, DcReply, ProbeError, Project, Repository,
    ServerInfo,
};
use crate::clients::TransportError;
use crate::secret::Secret;

/// Repositories not readable by the user that get a permission probe; the
/// rest are reported without one.
const PROBED_REPOSITORIES: usize = 5;
/// Projects probed per such repository.
const PROBED_PROJECTS: usize = 10;

/// One Data Center credential and what it must be able to read.
#[derive(Debug, Clone)]
pub struct ServerCheck {
    pub url: Url,
    pub username: String,
    pub secret: Secret,
    /// Project names, as SEI filters them (case-insensitive).
    pub projects: Vec<String>,
    /// Repository names, as SEI filters them (case-insensitive).
    pub repositories: Vec<String>,
}

impl ServerCheck {
    fn basic(&self) -> DataCenterAuth {
        DataCenterAuth::Basic {
            username: self.username.clone(),
            secret: self.secret.clone(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerReport {
    /// The version `application-properties` gave, when `url` is Data Center.
    pub server_version: Option<String>,
    pub problems: Vec<Problem>,
}

impl ServerReport {
    pub fn is_invalid(&self) -> bool {
        self.problems.iter().any(Problem::is_invalid)
    }
}

type InfoReply = Result<ServerInfo, ProbeError>;

pub struct ServerValidator {
    client: DataCenterClient,
    hmac_key: [u8; 32],
    infos: Slots<InfoReply>,
    projects: Slots<DcReply<Vec<Project>>>,
    repos: Slots<DcReply<Vec<Repository>>>,
    probes: Slots<DcReply<Repository>>,
    bearer: Slots<DcReply<Vec<Project>>>,
}

impl fmt::Debug for ServerValidator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerValidator").finish_non_exhaustive()
    }
}

fn slots<V>() -> Slots<V> {
    Mutex::new(std::collections::HashMap::new())
}

fn transient<T>(reply: &DcReply<T>) -> bool {
    reply.result.as_ref().err().is_some_and(DataCenterError::is_transient)
}

impl ServerValidator {
    pub fn new(client: DataCenterClient) -> Self {
        ServerValidator {
            client,
            hmac_key: rand::random(),
            infos: slots(),
            projects: slots(),
            repos: slots(),
            probes: slots(),
            bearer: slots(),
        }
    }

    fn credential_key(&self, check: &ServerCheck, extra: &[&[u8]]) -> [u8; 32] {
        let mut parts: Vec<&[u8]> = vec![
            check.url.as_str().as_bytes(),
            check.username.as_bytes(),
            check.secret.expose().as_bytes(),
        ];
        parts.extend_from_slice(extra);
        keyed(&self.hmac_key, &parts)
    }

    /// The version probe alone, cached per `url`: what refresh uses to keep
    /// `server_version` current.
    pub async fn server_info(&self, url: &Url, cancel: &CancellationToken) -> InfoReply {
        let key = keyed(&self.hmac_key, &[b"info", url.as_str().as_bytes()]);
        single_flight(
            &self.infos,
            key,
            || self.client.server_info(url, cancel),
            |r| matches!(r, Err(ProbeError::Unreachable { .. })),
        )
        .await
    }

    async fn projects(&self, check: &ServerCheck, cancel: &CancellationToken) -> DcReply<Vec<Project>> {
        let key = self.credential_key(check, &[b"projects"]);
        let auth = check.basic();
        single_flight(
            &self.projects,
            key,
            || async { self.client.paged(&check.url, "/projects", &auth, cancel).await },
            transient,
        )
        .await
    }

    /// Readable repositories: of the listed projects (`keys`) when there are
    /// any, since SEI ingests nothing outside them and a large server's
    /// full listing costs a call per 1000 repositories; else of the server.
    async fn repos(
        &self,
        check: &ServerCheck,
        keys: &[String],
        cancel: &CancellationToken,
    ) -> DcReply<Vec<Repository>> {
        let auth = check.basic();
        let tails: Vec<String> = if keys.is_empty() {
            vec!["/repos".to_string()]
        } else {
            keys.iter().map(|k| project_repos_path(k)).collect()
        };
        let mut out = Vec::new();
        let mut identity = None;
        for tail in tails {
            let key = self.credential_key(check, &[b"repos", tail.as_bytes()]);
            let reply = single_flight(
                &self.repos,
                key,
                || async { self.client.paged(&check.url, &tail, &auth, cancel).await },
                transient,
            )
            .await;
            identity = reply.identity.or(identity);
            match reply.result {
                Ok(list) => out.extend(list),
                Err(e) => {
                    return DcReply {
                        identity,
                        result: Err(e),
                    }
                }
            }
        }
        DcReply {
            identity,
            result: Ok(out),
        }
    }

    async fn probe(
        &self,
        check: &ServerCheck,
        project: &str,
        slug: &str,
        cancel: &CancellationToken,
    ) -> DcReply<Repository> {
        let key = self.credential_key(check, &[b"probe", project.as_bytes(), slug.as_bytes()]);
        let auth = check.basic();
        single_flight(
            &self.probes,
            key,
            || async { self.client.repository(&check.url, project, slug, &auth, cancel).await },
            transient,
        )
        .await
    }

    /// The same secret as a Bearer token: how a project or repository
    /// token shows itself.
    async fn as_bearer(&self, check: &ServerCheck, cancel: &CancellationToken) -> DcReply<Vec<Project>> {
        let key = keyed(
            &self.hmac_key,
            &[
                b"bearer",
                check.url.as_str().as_bytes(),
                check.secret.expose().as_bytes(),
            ],
        );
        let auth = DataCenterAuth::Bearer(check.secret.clone());
        single_flight(
            &self.bearer,
            key,
            || async { self.client.paged(&check.url, "/projects", &auth, cancel).await },
            transient,
        )
        .await
    }

    /// Whether the secret signs in with Basic auth as `owner`: a user's own
    /// token given with another user's username. Asked only after Basic
    /// auth failed and Bearer named `owner`, so once per bad credential.
    async fn owned_by(&self, check: &ServerCheck, owner: &str, cancel: &CancellationToken) -> bool {
        let auth = DataCenterAuth::Basic {
            username: owner.to_string(),
            secret: check.secret.clone(),
        };
        self.client
            .paged::<Project>(&check.url, "/projects", &auth, cancel)
            .await
            .result
            .is_ok()
    }

    /// Checks one credential. Never fails: every outcome is in the report.
    pub async fn check(&self, check: &ServerCheck, cancel: &CancellationToken) -> ServerReport {
        let mut report = ServerReport::default();
        match self.server_info(&check.url, cancel).await {
            Ok(info) => report.server_version = Some(info.version),
            Err(e) => {
                report.problems.push(probe_problem(&e));
                return report;
            }
        }
        let projects = self.projects(check, cancel).await;
        let visible = match projects.result {
            Ok(list) => list,
            Err(e) => {
                report.problems.push(self.credential_problem(check, &e, cancel).await);
                return report;
            }
        };
        let who = &check.username;
        if let Some(identity) = projects.identity.as_deref().filter(|i| !i.eq_ignore_ascii_case(who)) {
            report.problems.push(Problem {
                kind: ProblemKind::InvalidCredential,
                subject: Subject::Username,
                summary: format!("This credential signs in as {identity}, not {who}."),
                detail: format!(
                    "Bitbucket Data Center answered with X-AUSERNAME {identity:?}. SEI sends the username with the password or token, so set username = {identity:?}."
                ),
            });
        }
        report.problems.extend(missing_projects(check, &visible));
        if !check.repositories.is_empty() {
            self.check_repositories(&mut report, check, &visible, cancel).await;
        }
        report
    }

    /// Checks the listed repositories against those the user can read in
    /// the listed projects (or on the whole server without projects).
    async fn check_repositories(
        &self,
        report: &mut ServerReport,
        check: &ServerCheck,
        visible: &[Project],
        cancel: &CancellationToken,
    ) {
        // The listed projects that exist for this user: their repositories
        // are what SEI can ingest.
        let listed: Vec<&Project> = visible
            .iter()
            .filter(|p| check.projects.iter().any(|n| n.eq_ignore_ascii_case(&p.name)))
            .collect();
        let keys: Vec<String> = listed.iter().map(|p| p.key.clone()).collect();
        let readable = match self.repos(check, &keys, cancel).await.result {
            Ok(list) => list,
            Err(e) => {
                report.problems.push(self.credential_problem(check, &e, cancel).await);
                return;
            }
        };
        let mut probed = 0;
        for (j, name) in check.repositories.iter().enumerate() {
            if readable.iter().any(|r| r.name.eq_ignore_ascii_case(name)) {
                continue;
            }
            let denied = if probed < PROBED_REPOSITORIES {
                probed += 1;
                self.denied_in(check, visible, name, cancel).await
            } else {
                None
            };
            report.problems.push(match denied {
                Some(project) => unreadable_repository(check, j, name, &project),
                None => missing_repository(check, j, name, &readable, &listed),
            });
        }
    }

    /// The name of a project in which `name` exists but is not readable by
    /// the user (Data Center's 401 with identity), if any.
    async fn denied_in(
        &self,
        check: &ServerCheck,
        visible: &[Project],
        name: &str,
        cancel: &CancellationToken,
    ) -> Option<String> {
        let wanted: BTreeSet<String> = check.projects.iter().map(|p| p.to_lowercase()).collect();
        let candidates = visible
            .iter()
            .filter(|p| wanted.is_empty() || wanted.contains(&p.name.to_lowercase()))
            .take(PROBED_PROJECTS);
        let slug = slug_of(name);
        for p in candidates {
            let reply = self.probe(check, &p.key, &slug, cancel).await;
            if let Err(DataCenterError::Unauthorized { identity: Some(_), .. }) = reply.result {
                return Some(p.name.clone());
            }
        }
        None
    }

    /// A failure of the user's own listing: a refused credential, a missing
    /// permission, or a reason the check could not run.
    async fn credential_problem(
        &self,
        check: &ServerCheck,
        e: &DataCenterError,
        cancel: &CancellationToken,
    ) -> Problem {
        let who = &check.username;
        match e {
            DataCenterError::RateLimited { attempts, reset_in } => Problem {
                kind: ProblemKind::RateLimited,
                subject: Subject::Secret,
                summary: format!("Could not check the Bitbucket Data Center credential for {who}: rate limited."),
                detail: format!(
                    "Bitbucket Data Center answered 429 Too Many Requests ({}){}. This does not mean the credential is invalid; SEI's own preflight checks it again at create.",
                    crate::clients::http::attempts_note(*attempts),
                crate::clients::http::reset_note(*reset_in)
                ),
            },
            DataCenterError::Transport(_) | DataCenterError::Server { .. } | DataCenterError::Decode(_) | DataCenterError::NotFound { .. } => {
                Problem {
                    kind: ProblemKind::Unreachable,
                    subject: Subject::Secret,
                    summary: format!("Could not check the Bitbucket Data Center credential for {who}."),
                    detail: format!("{e}. This does not mean the credential is invalid."),
                }
            }
            DataCenterError::Unauthorized { identity: Some(identity), message, .. } => Problem {
                kind: ProblemKind::InvalidCredential,
                subject: Subject::Secret,
                summary: format!("{identity} may not list projects on this Bitbucket Data Center."),
                detail: format!("Bitbucket Data Center answered 401 with X-AUSERNAME {identity:?} ({message}): the credential is valid, but the user lacks the permission to read projects."),
            },
            DataCenterError::Unauthorized { identity: None, message, .. } => {
                let bearer = self.as_bearer(check, cancel).await;
                let owner = match (&bearer.result, &bearer.identity) {
                    (Ok(_), Some(i)) if !i.eq_ignore_ascii_case(who) => self.owned_by(check, i, cancel).await.then(|| i.clone()),
                    _ => None,
                };
                let detail = match (owner, bearer.result, bearer.identity) {
                    (Some(owner), _, _) => format!(
                        "This secret is an HTTP access token (or the password) of the Data Center user {owner:?}, not of {who:?}: Data Center accepts a user's token only with its owner's username, and SEI signs in with the configured `username`. Set `username = \"{owner}\"`, or use a password or HTTP access token of {who:?}."
                    ),
                    (None, Ok(_), identity) => format!(
                        "Bitbucket Data Center refused {who:?} with this secret in Basic auth, but accepts the same secret as a Bearer token{}: it is a project or repository HTTP access token. Such tokens work only as Bearer tokens, and SEI sends Basic credentials (username and password). Use a user's password, or an HTTP access token of that user (Profile → Manage account → HTTP access tokens), with that user's username.",
                        identity.map(|i| format!(" (as {i:?})")).unwrap_or_default()
                    ),
                    _ => format!(
                        "Bitbucket Data Center answered 401 without a user ({message}): the username or the password or token is wrong, revoked or expired. Use the user's password, or an HTTP access token of that same user, with that user's username; project and repository tokens do not work, because they are Bearer-only and SEI sends Basic credentials. {}",
                        super::SKIP_CHECK_HINT
                    ),
                };
                Problem {
                    kind: ProblemKind::InvalidCredential,
                    subject: Subject::Secret,
                    summary: format!("Bitbucket Data Center rejected the credential for {who}."),
                    detail,
                }
            }
        }
    }
}

/// The slug Data Center derives from a repository name.
fn slug_of(name: &str) -> String {
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

/// Why the url is not a Data Center this machine can check.
fn probe_problem(e: &ProbeError) -> Problem {
    match e {
        ProbeError::NotDataCenter { .. } => Problem {
            kind: ProblemKind::InvalidCredential,
            subject: Subject::Url,
            summary: "This url is not a Bitbucket Data Center.".into(),
            detail: format!(
                "{e}, not Bitbucket Data Center's version JSON. Set url to the server's base URL, including any context path, without a trailing \"/\" and without \"/rest\": the URL people open Bitbucket at, such as https://bitbucket.acme.internal or https://git.acme.internal/bitbucket."
            ),
        },
        ProbeError::Unreachable {
            source: TransportError::Tls { .. },
            ..
        } => Problem {
            kind: ProblemKind::Unreachable,
            subject: Subject::Url,
            summary: "Could not check the Bitbucket Data Center credential: its TLS certificate is not trusted.".into(),
            detail: format!("{e}. This does not mean the credential is invalid."),
        },
        ProbeError::Unreachable { .. } => Problem {
            kind: ProblemKind::Unreachable,
            subject: Subject::Url,
            summary: "Could not check the Bitbucket Data Center credential.".into(),
            detail: format!("{e}. This does not mean the credential is invalid. A server that only SEI's ingestion satellite can reach is declared with satellite = true, which checks nothing."),
        },
    }
}

/// The listed projects the user cannot see, each with a hint (a key where
/// a name belongs, a near name).
fn missing_projects(check: &ServerCheck, visible: &[Project]) -> Vec<Problem> {
    let who = &check.username;
    let mut problems = Vec::new();
    for (i, name) in check.projects.iter().enumerate() {
        if visible.iter().any(|p| p.name.eq_ignore_ascii_case(name)) {
            continue;
        }
        let by_key = visible.iter().find(|p| p.key.eq_ignore_ascii_case(name));
        let hint = match by_key {
            Some(p) => format!(
                " {name:?} is the key of project {:?}: projects takes project names, not keys.",
                p.name
            ),
            None => match super::closest(visible.iter().map(|p| p.name.as_str()), name) {
                Some(c) => format!(" Did you mean {c:?}?"),
                None => String::new(),
            },
        };
        problems.push(Problem {
            kind: ProblemKind::RepositoryNotFound,
            subject: Subject::Project(i),
            summary: format!("Project {name:?} is not visible to {who}."),
            detail: format!(
                "Bitbucket Data Center lists {} project(s) for {who}, and none is named {name:?}: it does not exist, or {who} has no permission on it or on any of its repositories.{hint} SEI needs PROJECT_READ (or REPO_READ on each repository) for this user.",
                visible.len()
            ),
        });
    }
    problems
}

/// Listed repository `j` exists in `project`, and the user may not read it.
fn unreadable_repository(check: &ServerCheck, j: usize, name: &str, project: &str) -> Problem {
    let who = &check.username;
    Problem {
        kind: ProblemKind::RepositoryNotFound,
        subject: Subject::Repository(j),
        summary: format!("{who} cannot read repository {name:?} in project {project:?}."),
        detail: format!(
            "Bitbucket Data Center answered 401 for {name:?} with X-AUSERNAME {who:?}: the repository exists and the credential is valid, but {who} lacks REPO_READ on it. Grant {who} REPO_READ on the repository (or PROJECT_READ on {project:?}), or remove it from repositories."
        ),
    }
}

/// Listed repository `j` is not among those the user can read where SEI
/// looks (`listed` projects, or the whole server).
fn missing_repository(
    check: &ServerCheck,
    j: usize,
    name: &str,
    readable: &[Repository],
    listed: &[&Project],
) -> Problem {
    let who = &check.username;
    let scope = if listed.is_empty() {
        "on this server".to_string()
    } else {
        format!(
            "in the listed projects ({})",
            listed.iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join(", ")
        )
    };
    // SEI streams the listed projects and filters their repositories by
    // name, so a repository elsewhere is never ingested.
    let outside = if listed.is_empty() {
        ""
    } else {
        " SEI ingests only repositories inside the listed projects: add the repository's project to projects, or remove it from repositories."
    };
    let suggestion = super::closest(readable.iter().map(|r| r.name.as_str()), name)
        .map(|c| format!(" Did you mean {c:?}?"))
        .unwrap_or_default();
    Problem {
        kind: ProblemKind::RepositoryNotFound,
        subject: Subject::Repository(j),
        summary: format!("Repository {name:?} is not visible to {who}."),
        detail: format!(
            "{who} can read {} repositories {scope}, and none is named {name:?}.{suggestion} repositories takes repository names (as SEI filters them), not \"PROJECT/slug\".{outside}",
            readable.len()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_derived_as_data_center_does() {
        assert_eq!(slug_of("Infra Tools"), "infra-tools");
        assert_eq!(slug_of("api"), "api");
    }
}
