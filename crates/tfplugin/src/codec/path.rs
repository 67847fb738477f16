use std::fmt;

/// One step into a value: an attribute, a map key or a list index.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PathStep {
    Attribute(String),
    Key(String),
    Index(i64),
}

/// A path to a value inside a resource's configuration, as Terraform shows it
/// in diagnostics: `credential[1].password_wo`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AttributePath {
    pub steps: Vec<PathStep>,
}

impl AttributePath {
    pub fn root() -> Self {
        AttributePath::default()
    }

    /// A path of a single top-level attribute.
    pub fn attr(name: &str) -> Self {
        AttributePath::root().push_attr(name)
    }

    pub fn push_attr(&self, name: &str) -> Self {
        let mut steps = self.steps.clone();
        steps.push(PathStep::Attribute(name.to_string()));
        AttributePath { steps }
    }

    pub fn push_index(&self, index: usize) -> Self {
        let mut steps = self.steps.clone();
        steps.push(PathStep::Index(i64::try_from(index).unwrap_or(i64::MAX)));
        AttributePath { steps }
    }

    pub fn push_key(&self, key: &str) -> Self {
        let mut steps = self.steps.clone();
        steps.push(PathStep::Key(key.to_string()));
        AttributePath { steps }
    }

    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }
}

impl fmt::Display for AttributePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, step) in self.steps.iter().enumerate() {
            match step {
                PathStep::Attribute(name) if i == 0 => write!(f, "{name}")?,
                PathStep::Attribute(name) => write!(f, ".{name}")?,
                PathStep::Key(key) => write!(f, "[{key:?}]")?,
                PathStep::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_like_terraform() {
        let path = AttributePath::attr("credential").push_index(1).push_attr("password_wo");
        assert_eq!(path.to_string(), "credential[1].password_wo");
        assert_eq!(AttributePath::attr("tags").push_key("a").to_string(), "tags[\"a\"]");
    }
}
