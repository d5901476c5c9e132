//! Plumbing shared by the HTTP sources: the client, backoff, `Retry-After`.

use editgroups_core::SourceError;
use std::time::Duration;

/// Exponential backoff with full jitter, capped.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BackoffConfig {
    /// The delay before the first retry (before jitter).
    pub initial: Duration,
    /// The longest delay.
    pub max: Duration,
    /// The factor between consecutive delays.
    pub multiplier: u32,
}

impl Default for BackoffConfig {
    fn default() -> Self {
        Self {
            initial: Duration::from_millis(500),
            max: Duration::from_secs(60),
            multiplier: 2,
        }
    }
}

impl BackoffConfig {
    /// A backoff with these bounds.
    pub fn new(initial: Duration, max: Duration) -> Self {
        // A zero delay would retry in a tight loop.
        let initial = initial.max(Duration::from_millis(1));
        Self {
            initial,
            max: max.max(initial),
            multiplier: 2,
        }
    }
}

/// The state of a backoff: how many failures in a row.
#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    config: BackoffConfig,
    failures: u32,
}

impl Backoff {
    pub(crate) fn new(mut config: BackoffConfig) -> Self {
        config.initial = config.initial.max(Duration::from_millis(1));
        config.max = config.max.max(config.initial);
        Self {
            config,
            failures: 0,
        }
    }

    /// The delay before the next attempt: a random duration between half and all
    /// of the capped exponential delay, at least `floor` (a server's
    /// `Retry-After`).
    pub(crate) fn next_delay(&mut self, floor: Option<Duration>) -> Duration {
        let factor = self
            .config
            .multiplier
            .max(1)
            .checked_pow(self.failures.min(30))
            .unwrap_or(u32::MAX);
        self.failures = self.failures.saturating_add(1);
        let base = self
            .config
            .initial
            .checked_mul(factor)
            .unwrap_or(self.config.max)
            .min(self.config.max);
        let jittered = base.mul_f64(0.5 + fastrand::f64() * 0.5);
        floor.map_or(jittered, |f| jittered.max(f))
    }

    /// Forgets past failures after a success.
    pub(crate) fn reset(&mut self) {
        self.failures = 0;
    }

    /// Failures in a row so far.
    pub(crate) fn failures(&self) -> u32 {
        self.failures
    }
}

/// Reads a `Retry-After` header given in seconds (the HTTP-date form is rare from
/// MediaWiki and EventStreams, and is ignored).
pub(crate) fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    let seconds: u64 = value.trim().parse().ok()?;
    // A hostile or broken server must not park the source for days.
    Some(Duration::from_secs(seconds.min(3600)))
}

/// Checks a User-Agent: Wikimedia blocks generic agents, so a descriptive one
/// (`tool/version (contact)`) is required.
pub(crate) fn check_user_agent(user_agent: Option<&str>) -> Result<String, SourceError> {
    let agent = user_agent.map(str::trim).unwrap_or("");
    if agent.is_empty() {
        return Err(SourceError::Config(
            "a User-Agent is required (e.g. \"my-tool/1.0 (https://example.org; me@example.org)\"): Wikimedia blocks generic agents".into(),
        ));
    }
    if reqwest::header::HeaderValue::from_str(agent).is_err() {
        return Err(SourceError::Config(format!(
            "the User-Agent {agent:?} is not a valid header value"
        )));
    }
    Ok(agent.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_is_capped_and_honours_retry_after() {
        let mut backoff = Backoff::new(BackoffConfig::new(
            Duration::from_millis(100),
            Duration::from_secs(1),
        ));
        let delays: Vec<_> = (0..8).map(|_| backoff.next_delay(None)).collect();
        assert!(delays[0] >= Duration::from_millis(50) && delays[0] <= Duration::from_millis(100));
        assert!(delays.iter().all(|d| *d <= Duration::from_secs(1)));
        assert!(delays[7] >= Duration::from_millis(500), "{delays:?}");
        assert!(backoff.next_delay(Some(Duration::from_secs(5))) >= Duration::from_secs(5));
        backoff.reset();
        assert_eq!(backoff.failures(), 0);
    }

    #[test]
    fn retry_after_is_read_in_seconds_and_bounded() {
        let mut headers = reqwest::header::HeaderMap::new();
        assert_eq!(retry_after(&headers), None);
        headers.insert(reqwest::header::RETRY_AFTER, "7".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(7)));
        headers.insert(reqwest::header::RETRY_AFTER, "99999999".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(3600)));
        headers.insert(reqwest::header::RETRY_AFTER, "soon".parse().unwrap());
        assert_eq!(retry_after(&headers), None);
    }

    #[test]
    fn a_user_agent_is_required() {
        assert!(check_user_agent(None).is_err());
        assert!(check_user_agent(Some("  ")).is_err());
        assert!(check_user_agent(Some("bad\nagent")).is_err());
        assert_eq!(
            check_user_agent(Some("tool/1 (me)")).unwrap(),
            "tool/1 (me)"
        );
    }
}
