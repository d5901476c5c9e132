//! What an EventStreams answer means for the connection: stream it, retry
//! later, or stop for good.

use crate::http::retry_after;
use editgroups_core::SourceError;
use reqwest::StatusCode;
use std::time::Duration;

/// The most bytes of an error body read for the error message.
const MAX_ERROR_BODY: usize = 16 * 1024;
/// The most characters of the server's message kept in an error.
const MAX_MESSAGE_CHARS: usize = 500;

/// What to do after a response other than a stream.
#[derive(Debug)]
pub(crate) enum Refusal {
    /// Try again after at least `floor` (the server's `Retry-After`).
    Retry {
        /// Why, for the log.
        reason: String,
        /// The server's `Retry-After`, if any.
        floor: Option<Duration>,
    },
    /// Retrying cannot help.
    Fatal(SourceError),
}

/// Classifies a status other than 200. EventStreams answers 400 for a bad
/// `Last-Event-ID` or `since` or an unknown stream, 403 to blocked agents and
/// 404 for a missing topic: retrying changes nothing. 429 (too many
/// connections), 408 and 5xx are transient.
/// Reading the body for the message takes at most `patience`.
pub(crate) async fn refusal(url: &str, response: reqwest::Response, patience: Duration) -> Refusal {
    let status = response.status();
    let floor = retry_after(response.headers());
    if status == StatusCode::TOO_MANY_REQUESTS
        || status == StatusCode::REQUEST_TIMEOUT
        || status.is_server_error()
    {
        return Refusal::Retry {
            reason: format!("HTTP {status}"),
            floor,
        };
    }
    if status.is_client_error() {
        let status_text = status.canonical_reason().unwrap_or("no message");
        let message = tokio::time::timeout(patience, server_message(response))
            .await
            .unwrap_or_else(|_| format!("{status_text} (the server sent no explanation in time)"));
        return Refusal::Fatal(SourceError::Http {
            url: url.to_owned(),
            status: status.as_u16(),
            message,
        });
    }
    // 1xx or 3xx the client did not follow: odd, but not the server saying no.
    Refusal::Retry {
        reason: format!("unexpected HTTP {status}"),
        floor,
    }
}

/// The server's explanation: the `title` and `detail` of an RFC 7807 problem
/// (what EventStreams sends), else the start of the body.
async fn server_message(mut response: reqwest::Response) -> String {
    let mut body = Vec::new();
    // A body that fails half-way still says something; the rest is not needed.
    while body.len() < MAX_ERROR_BODY {
        match response.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            Ok(None) | Err(_) => break,
        }
    }
    body.truncate(MAX_ERROR_BODY);
    let text = String::from_utf8_lossy(&body);
    let message = problem_message(&text).unwrap_or_else(|| text.trim().to_owned());
    let message = if message.is_empty() {
        response
            .status()
            .canonical_reason()
            .unwrap_or("no message")
            .to_owned()
    } else {
        message
    };
    message.chars().take(MAX_MESSAGE_CHARS).collect()
}

fn problem_message(text: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    let field = |name: &str| value.get(name).and_then(|v| v.as_str()).map(str::to_owned);
    let parts: Vec<String> = [field("type"), field("title"), field("detail")]
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .collect();
    (!parts.is_empty()).then(|| parts.join(": "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problem_bodies_name_the_cause() {
        let body = r#"{"type":"invalid_timestamp","title":"Invalid since","detail":"since=yesterday is not a timestamp","status":400}"#;
        assert_eq!(
            problem_message(body).unwrap(),
            "invalid_timestamp: Invalid since: since=yesterday is not a timestamp"
        );
        assert_eq!(problem_message("<html>"), None);
        assert_eq!(problem_message("{}"), None);
    }
}
