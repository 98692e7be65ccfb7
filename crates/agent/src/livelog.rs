//! Streams a running event's log to the server while the event runs (`POST /agent/v1/logs`), so that
//! `cutover deploy logs -f` shows hook output as it is produced.
//!
//! - **Bounded:** only the part of the log that the event log keeps whole is streamed: its first lines, up to
//!   `eventlog::HEAD_CAP` bytes (the same rule, so the streamed text is always an exact prefix of the log sent with
//!   the result). Unsent text is buffered, never more than that.
//! - **Batched:** a line wakes the sender, which waits [`COALESCE`] for more, then sends what has accumulated in
//!   pieces of whole lines of at most [`MAX_PIECE`] bytes; lines that arrive meanwhile go in the next request.
//! - **Ordered and exactly once:** each piece carries its byte offset in the log; the server appends only where its
//!   copy ends and answers with its new end, so a retried piece is never stored twice. A failed request is retried
//!   with backoff while the event runs. A refusal (the command no longer runs) or a gap stops streaming the event.
//! - **Complete:** after the event, one last flush is tried (one attempt per piece) before the result is reported;
//!   whatever did not get through arrives with the result, and the server appends the part of the log it lacks.

use std::convert::Infallible;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use cutover_api_types::agent::LogChunkRequest;
use cutover_client::agent::{AgentClient, AgentClientError};
use tokio::sync::Notify;

use crate::eventlog::{HEAD_CAP, LineObserver};
use crate::util::Backoff;

/// How long the sender waits after a line for more before sending.
pub(crate) const COALESCE: Duration = Duration::from_millis(50);
/// Largest piece sent in one request.
pub(crate) const MAX_PIECE: usize = 64 * 1024;

/// The streamed part of one event's log.
#[derive(Debug, Default)]
pub(crate) struct LiveLog {
    state: Mutex<State>,
    ready: Notify,
}

#[derive(Debug, Default)]
struct State {
    /// Lines accepted but not acknowledged by the server, starting at byte `acked` of the log.
    pending: String,
    acked: u64,
    /// Bytes of the log accepted for streaming so far.
    accepted: usize,
    /// No more lines are accepted (the head is full).
    full: bool,
    /// Streaming stopped for good (refused by the server, or a gap).
    stopped: bool,
}

/// What one send did.
enum Sent {
    Piece,
    Nothing,
}

impl LiveLog {
    pub(crate) fn new() -> Arc<Self> {
        Arc::default()
    }

    /// The observer that feeds this stream; give it to the event's log.
    pub(crate) fn observer(self: &Arc<Self>) -> LineObserver {
        let live = self.clone();
        Arc::new(move |line: &str| live.accept(line))
    }

    fn accept(&self, line: &str) {
        let mut state = self.lock();
        // The event log's head rule: a line joins while it fits, and never once one did not.
        if state.full || state.accepted + line.len() > HEAD_CAP {
            state.full = true;
            return;
        }
        state.accepted += line.len();
        if !state.stopped {
            state.pending.push_str(line);
            drop(state);
            self.ready.notify_one();
        }
    }

    /// Sends lines as they come, until dropped (when the event ends).
    pub(crate) async fn stream(&self, client: &AgentClient, instance_name: &str, command_id: &str) -> Infallible {
        let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(2));
        loop {
            self.ready.notified().await;
            tokio::time::sleep(COALESCE).await;
            loop {
                match self.send_next(client, instance_name, command_id).await {
                    Ok(Sent::Piece) => backoff.reset(),
                    Ok(Sent::Nothing) => break,
                    Err(error) if error.is_retryable() => {
                        tracing::debug!(%command_id, %error, "streaming the log failed; retrying");
                        tokio::time::sleep(backoff.next_delay()).await;
                    }
                    Err(error) => {
                        tracing::warn!(%command_id, %error, "the server refused the log stream; the log is sent with the result");
                        self.lock().stopped = true;
                        break;
                    }
                }
            }
        }
    }

    /// Sends what is left, one attempt per piece (the event has ended; its result follows).
    pub(crate) async fn flush(&self, client: &AgentClient, instance_name: &str, command_id: &str) {
        while let Ok(Sent::Piece) = self.send_next(client, instance_name, command_id).await {}
    }

    async fn send_next(
        &self,
        client: &AgentClient,
        instance_name: &str,
        command_id: &str,
    ) -> Result<Sent, AgentClientError> {
        let (offset, text) = {
            let state = self.lock();
            if state.stopped || state.pending.is_empty() {
                return Ok(Sent::Nothing);
            }
            (state.acked, piece(&state.pending).to_owned())
        };
        let request = LogChunkRequest {
            instance_name: instance_name.to_owned(),
            command_id: command_id.to_owned(),
            offset,
            text,
        };
        let response = client.log_chunk(&request).await?;
        let mut state = self.lock();
        let stored = response.next_offset.checked_sub(state.acked).and_then(|n| usize::try_from(n).ok());
        match stored {
            Some(n) if response.accepted && n > 0 && n <= state.pending.len() && state.pending.is_char_boundary(n) => {
                state.pending.drain(..n);
                state.acked = response.next_offset;
                metrics::counter!(crate::monitoring::LOG_CHUNKS).increment(1);
                Ok(Sent::Piece)
            }
            _ => {
                // Refused (the command no longer runs) or out of step: stop; the result carries the whole log.
                state.stopped = true;
                state.pending = String::new();
                Ok(Sent::Nothing)
            }
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The next piece of `pending`: whole lines, at most [`MAX_PIECE`] bytes (one longer line is cut on a char boundary).
fn piece(pending: &str) -> &str {
    if pending.len() <= MAX_PIECE {
        return pending;
    }
    let mut cut = MAX_PIECE;
    while !pending.is_char_boundary(cut) {
        cut -= 1;
    }
    match pending[..cut].rfind('\n') {
        Some(newline) => &pending[..=newline],
        None => &pending[..cut],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_streamed_text_is_the_head_the_event_log_keeps() {
        let live = LiveLog::new();
        let observer = live.observer();
        let line = format!("{}\n", "x".repeat(999));
        for _ in 0..(HEAD_CAP / 1000) {
            observer(&line);
        }
        let accepted = live.lock().accepted;
        assert_eq!(accepted, HEAD_CAP / 1000 * 1000);
        // A line that does not fit stops the stream for good, even if a shorter one would fit.
        observer(&format!("{}\n", "y".repeat(HEAD_CAP - accepted)));
        observer("z\n");
        let state = live.lock();
        assert!(state.full);
        assert_eq!(state.pending.len(), accepted);
        assert!(!state.pending.contains('z'));
    }

    #[test]
    fn pieces_are_whole_lines() {
        let text = format!("{}\n{}\n", "a".repeat(MAX_PIECE - 10), "b".repeat(100));
        assert_eq!(piece(&text), format!("{}\n", "a".repeat(MAX_PIECE - 10)));
        let long = "c".repeat(MAX_PIECE + 5);
        assert_eq!(piece(&long).len(), MAX_PIECE);
        assert_eq!(piece("short\n"), "short\n");
    }
}
