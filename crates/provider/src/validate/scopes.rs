//! Which Bitbucket scopes SEI needs, and whether a grant covers them.

use super::AuthType;

/// SEI's minimum: read access to account, workspaces, projects, repositories
/// and pull requests. API tokens name scopes differently from the legacy
/// scopes of App Passwords and OAuth consumers.
pub fn default_required_scopes(auth: AuthType) -> Vec<String> {
    let names: &[&str] = match auth {
        AuthType::ApiToken => &[
            "read:user:bitbucket",
            "read:workspace:bitbucket",
            "read:project:bitbucket",
            "read:repository:bitbucket",
            "read:pullrequest:bitbucket",
        ],
        AuthType::AppPassword => &["account", "team", "project", "repository", "pullrequest"],
    };
    names.iter().map(|s| s.to_string()).collect()
}

/// Bitbucket's legacy scope names (App Passwords, OAuth consumers, access
/// tokens).
const LEGACY_SCOPES: &[&str] = &[
    "account",
    "account:write",
    "email",
    "team",
    "team:write",
    "project",
    "project:write",
    "project:admin",
    "repository",
    "repository:write",
    "repository:admin",
    "repository:delete",
    "pullrequest",
    "pullrequest:write",
    "issue",
    "issue:write",
    "wiki",
    "snippet",
    "snippet:write",
    "webhook",
    "pipeline",
    "pipeline:write",
    "pipeline:variable",
    "runner",
    "runner:write",
];

/// The resources of API-token scopes, `{read|write|admin|delete}:{resource}:bitbucket`.
const TOKEN_RESOURCES: &[&str] = &[
    "repository",
    "pullrequest",
    "project",
    "workspace",
    "user",
    "pipeline",
    "runner",
    "issue",
    "webhook",
    "snippet",
    "ssh-key",
    "gpg-key",
    "permission",
];

fn is_known_scope(scope: &str) -> bool {
    if LEGACY_SCOPES.contains(&scope) || matches!(scope, "read:account" | "read:me") {
        return true;
    }
    let mut parts = scope.split(':');
    matches!(
        (parts.next(), parts.next(), parts.next(), parts.next()),
        (Some("read" | "write" | "admin" | "delete"), Some(resource), Some("bitbucket"), None)
            if TOKEN_RESOURCES.contains(&resource)
    )
}

/// A scope name Bitbucket does not know, with the nearest one it does.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct UnknownScope(String);

/// A scope name Bitbucket knows, or why not, with the nearest known name: a
/// typo'd scope can never be granted, so the check would fail for ever.
pub fn check_scope_name(scope: &str) -> Result<(), UnknownScope> {
    if is_known_scope(scope) {
        return Ok(());
    }
    let known = LEGACY_SCOPES.iter().map(|s| s.to_string()).chain(
        ["read", "write", "admin", "delete"]
            .iter()
            .flat_map(|level| TOKEN_RESOURCES.iter().map(move |r| format!("{level}:{r}:bitbucket"))),
    );
    let nearest = known
        .map(|k| (strsim::levenshtein(&k, scope), k))
        .min()
        .filter(|(distance, _)| *distance <= 3)
        .map(|(_, k)| format!(" Did you mean {k:?}?"))
        .unwrap_or_default();
    Err(UnknownScope(format!(
        "{scope:?} is not a Bitbucket scope: API tokens use `read:repository:bitbucket` and the like, App Passwords `repository` and the like.{nearest}"
    )))
}

/// Required scopes the grant does not cover, in the order required.
///
/// API-token scopes are checked literally: Atlassian documents that write
/// does not imply read for them. Legacy scopes follow Bitbucket's
/// implications: `x:write`/`x:admin` imply `x`, and `pullrequest` implies
/// `repository`.
pub fn missing_scopes(required: &[String], granted: &[String]) -> Vec<String> {
    required.iter().filter(|r| !covers(granted, r)).cloned().collect()
}

fn covers(granted: &[String], wanted: &str) -> bool {
    if granted.iter().any(|g| g == wanted) {
        return true;
    }
    if wanted.contains(":bitbucket") || wanted.starts_with("read:") {
        return false;
    }
    granted.iter().any(|g| {
        let base = g.split(':').next().unwrap_or(g);
        base == wanted || (wanted == "repository" && base == "pullrequest")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_scope_names_are_refused_with_the_nearest_one() {
        for ok in [
            "read:repository:bitbucket",
            "repository",
            "pullrequest:write",
            "read:me",
            "delete:ssh-key:bitbucket",
        ] {
            assert_eq!(check_scope_name(ok), Ok(()), "{ok}");
        }
        let err = check_scope_name("read:repositories:bitbucket").unwrap_err();
        assert!(err.0.contains("Did you mean \"read:repository:bitbucket\"?"), "{err}");
        assert!(check_scope_name("admin:everything").is_err());
        assert!(check_scope_name("read:repository:github").is_err());
    }

    fn v(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn api_token_scopes_are_literal() {
        let required = default_required_scopes(AuthType::ApiToken);
        let granted = v(&["read:user:bitbucket", "write:repository:bitbucket"]);
        assert_eq!(
            missing_scopes(&required, &granted),
            v(&[
                "read:workspace:bitbucket",
                "read:project:bitbucket",
                "read:repository:bitbucket",
                "read:pullrequest:bitbucket"
            ])
        );
    }

    #[test]
    fn legacy_scopes_follow_implications() {
        let required = default_required_scopes(AuthType::AppPassword);
        let granted = v(&["account", "team:write", "project", "pullrequest"]);
        assert!(missing_scopes(&required, &granted).is_empty());
    }
}
