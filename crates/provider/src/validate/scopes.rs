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
