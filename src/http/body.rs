//! Reading OpenRouter's response bodies: capped reads (error pages and documents can be
//! huge), telling a whole document from an event stream, and handing a finished
//! stream's connection back to the pool.

use std::time::Duration;

use futures_util::{Stream, StreamExt};

/// The byte stream of a response body.
pub trait BodyStream: Stream<Item = reqwest::Result<bytes::Bytes>> + Unpin + Send {}
impl<B: Stream<Item = reqwest::Result<bytes::Bytes>> + Unpin + Send> BodyStream for B {}

/// Reads at most `cap` bytes of a body; lossy UTF-8.
pub async fn read_capped(response: reqwest::Response, cap: usize) -> String {
    collect_capped(&mut response.bytes_stream(), Vec::new(), cap).await
}

/// Appends the rest of `body` to `buf`, up to `cap` bytes in all; lossy UTF-8.
pub async fn collect_capped<B: BodyStream>(body: &mut B, mut buf: Vec<u8>, cap: usize) -> String {
    buf.truncate(cap);
    while buf.len() < cap {
        let Some(Ok(chunk)) = body.next().await else {
            break;
        };
        let room = cap - buf.len();
        buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
    }
    String::from_utf8_lossy(&buf).into_owned()
}

/// Whether a chunk holds only whitespace (keep-alive newlines before the first event).
pub fn is_blank(bytes: &[u8]) -> bool {
    bytes.iter().all(u8::is_ascii_whitespace)
}

/// A streamed request answered with a whole JSON document or an HTML page instead of
/// events (a proxy that ignores `stream`, an error envelope sent with 200, a gateway's
/// error page): an event stream starts with a field name or a comment, never `{` or `<`.
pub fn is_document(first: &[u8]) -> bool {
    let first = first.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(first);
    matches!(
        first.iter().find(|b| !b.is_ascii_whitespace()),
        Some(b'{' | b'<' | b'[')
    )
}

/// Reads what is left of a finished answer's body (`[DONE]`, the chunk terminator) so
/// the connection goes back to the pool; it usually is already there. A server that keeps
/// the stream open after the terminal event would hold the chat open until the read
/// timeout, so after a short wait the rest is read in the background, within limits.
pub async fn release_connection<B: BodyStream + 'static>(mut body: B) {
    const PROMPT: Duration = Duration::from_millis(50);
    const PATIENT: Duration = Duration::from_secs(10);
    if tokio::time::timeout(PROMPT, read_to_end(&mut body))
        .await
        .is_err()
    {
        crate::sessionlog::spawn(async move {
            let _ = tokio::time::timeout(PATIENT, read_to_end(&mut body)).await;
        });
    }
}

/// Reads a body to its end, giving up (and so closing the connection) after 1 MiB.
async fn read_to_end<B: BodyStream>(body: &mut B) {
    const LIMIT: usize = 1024 * 1024;
    let mut read = 0;
    while let Some(Ok(chunk)) = body.next().await {
        read += chunk.len();
        if read > LIMIT {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_told_apart_from_event_streams() {
        assert!(is_document(b"{\"error\":{}}"));
        assert!(is_document(b"\r\n  <html>"));
        assert!(is_document(b"\xEF\xBB\xBF{}"));
        assert!(!is_document(b"data: {\"type\":\"x\"}\n\n"));
        assert!(!is_document(b": OPENROUTER PROCESSING\n\n"));
        assert!(!is_document(b"event: x\n"));
        assert!(is_blank(b" \r\n") && !is_blank(b"\n:"));
    }
}
