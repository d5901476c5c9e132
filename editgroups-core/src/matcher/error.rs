use std::fmt;

/// A rule set that cannot be used, found when it is loaded rather than on each edit.
#[derive(Debug)]
pub struct RuleError {
    rule: Option<String>,
    kind: RuleErrorKind,
}

/// What is wrong with a rule set.
#[derive(Debug)]
#[non_exhaustive]
pub enum RuleErrorKind {
    /// A pattern does not compile.
    InvalidPattern {
        /// The pattern.
        pattern: String,
        /// The regex engine's message.
        error: regex::Error,
    },
    /// A group index names no group of its pattern.
    MissingGroup {
        /// Which field (`id_group`, `summary_group`, ...).
        field: &'static str,
        /// The index given.
        group: usize,
        /// How many groups the pattern has (group 0 included).
        available: usize,
    },
    /// A rule has neither a short id nor a group that gives one.
    NoShortId,
    /// The rules file could not be read or parsed.
    File(String),
}

impl RuleError {
    pub(crate) fn new(rule: Option<&str>, kind: RuleErrorKind) -> Self {
        Self {
            rule: rule.map(str::to_owned),
            kind,
        }
    }

    /// What is wrong.
    pub fn kind(&self) -> &RuleErrorKind {
        &self.kind
    }
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(rule) = &self.rule {
            write!(f, "tool rule {rule:?}: ")?;
        }
        match &self.kind {
            RuleErrorKind::InvalidPattern { pattern, error } => {
                write!(f, "invalid pattern {pattern:?}: {error}")
            }
            RuleErrorKind::MissingGroup {
                field,
                group,
                available,
            } => write!(
                f,
                "{field} is {group} but the pattern has only groups 0 to {}",
                available.saturating_sub(1)
            ),
            RuleErrorKind::NoShortId => {
                f.write_str("a rule needs a shortid or a tool_group that captures one")
            }
            RuleErrorKind::File(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for RuleError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            RuleErrorKind::InvalidPattern { error, .. } => Some(error),
            _ => None,
        }
    }
}
