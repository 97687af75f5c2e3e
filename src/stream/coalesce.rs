//! Merges text deltas that arrive close together, so a fast stream crosses into
//! Python (and through Open WebUI's per-chunk handling) as a few larger chunks.
//!
//! Rules: a delta that arrives after a quiet period of at least `window` is sent at
//! once (the first token is never delayed); deltas arriving within `window` of the
//! last send are held until the window ends or `max_chars` accumulate. Any other emit
//! flushes held text first, so order is always preserved.

use std::time::{Duration, Instant};

use crate::emit::Emit;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Content,
    Reasoning,
}

/// Buffering policy plus the held text.
#[derive(Debug)]
pub struct Coalescer {
    window: Duration,
    max_chars: usize,
    held: Option<(Kind, String)>,
    last_sent: Option<Instant>,
    /// How late reads may be (the runtime's nap): a delta only counts as the first
    /// after a pause once the pause exceeds `window + read_delay`.
    read_delay: Duration,
}

impl Coalescer {
    /// Holds text for up to `window` (zero sends every delta at once) or `max_chars` (at least 1).
    pub fn new(window: Duration, max_chars: usize) -> Self {
        Self {
            window,
            max_chars: max_chars.max(1),
            held: None,
            last_sent: None,
            read_delay: Duration::ZERO,
        }
    }

    /// Sets how late the engine may read deltas (see `read_delay`).
    pub fn set_read_delay(&mut self, delay: Duration) {
        self.read_delay = delay;
    }

    /// How long text may be held.
    pub fn window(&self) -> Duration {
        self.window
    }

    /// Takes one emit and appends to `ready` whatever must be sent now.
    pub fn push(&mut self, emit: Emit, now: Instant, ready: &mut Vec<Emit>) {
        let (kind, text) = match emit {
            Emit::Content(t) => (Kind::Content, t),
            Emit::Reasoning(t) => (Kind::Reasoning, t),
            other => {
                self.flush(now, ready);
                ready.push(other);
                return;
            }
        };
        if text.is_empty() {
            return;
        }
        if let Some((held_kind, _)) = &self.held {
            if *held_kind != kind {
                self.flush(now, ready);
            }
        }
        let quiet = self
            .last_sent
            .is_none_or(|t| now.saturating_duration_since(t) >= self.window + self.read_delay);
        match &mut self.held {
            None if quiet || self.window.is_zero() => {
                self.last_sent = Some(now);
                ready.push(make(kind, text));
            }
            None => self.held = Some((kind, text)),
            Some((_, held)) => {
                held.push_str(&text);
                if held.len() >= self.max_chars {
                    self.flush(now, ready);
                }
            }
        }
    }

    /// When held text must go out at the latest.
    pub fn deadline(&self) -> Option<Instant> {
        self.held.as_ref()?;
        Some(
            self.last_sent
                .map_or_else(Instant::now, |t| t + self.window),
        )
    }

    /// Sends held text now.
    pub fn flush(&mut self, now: Instant, ready: &mut Vec<Emit>) {
        if let Some((kind, text)) = self.held.take() {
            self.last_sent = Some(now);
            ready.push(make(kind, text));
        }
    }
}

fn make(kind: Kind, text: String) -> Emit {
    match kind {
        Kind::Content => Emit::Content(text),
        Kind::Reasoning => Emit::Reasoning(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(e: &Emit) -> &str {
        match e {
            Emit::Content(t) | Emit::Reasoning(t) => t,
            _ => "",
        }
    }

    #[test]
    fn first_token_goes_out_at_once_and_a_burst_is_merged() {
        let mut c = Coalescer::new(Duration::from_millis(40), 10_000);
        let t0 = Instant::now();
        let mut ready = Vec::new();
        c.push(Emit::Content("a".into()), t0, &mut ready);
        assert_eq!(ready.len(), 1);
        for i in 0..100 {
            c.push(
                Emit::Content("b".into()),
                t0 + Duration::from_micros(i),
                &mut ready,
            );
        }
        assert_eq!(ready.len(), 1);
        assert_eq!(c.deadline(), Some(t0 + Duration::from_millis(40)));
        c.flush(t0 + Duration::from_millis(40), &mut ready);
        assert_eq!(ready.len(), 2);
        assert_eq!(text(&ready[1]).len(), 100);
    }

    #[test]
    fn other_emits_flush_held_text_first_and_kinds_never_mix() {
        let mut c = Coalescer::new(Duration::from_millis(40), 10_000);
        let t0 = Instant::now();
        let mut ready = Vec::new();
        c.push(Emit::Reasoning("r1".into()), t0, &mut ready);
        c.push(Emit::Reasoning("r2".into()), t0, &mut ready);
        c.push(Emit::Content("c1".into()), t0, &mut ready);
        c.push(Emit::status("s", true), t0, &mut ready);
        let kinds: Vec<String> = ready.iter().map(|e| format!("{e:?}")).collect();
        assert_eq!(ready.len(), 4, "{kinds:?}");
        assert_eq!(ready[1], Emit::Reasoning("r2".into()));
        assert_eq!(ready[2], Emit::Content("c1".into()));
    }

    #[test]
    fn deltas_read_late_in_batches_are_held_together() {
        let mut c = Coalescer::new(Duration::from_millis(40), 10_000);
        c.set_read_delay(Duration::from_millis(40));
        let t0 = Instant::now();
        let mut ready = Vec::new();
        c.push(Emit::Content("a".into()), t0, &mut ready);
        let round = t0 + Duration::from_millis(41);
        c.push(Emit::Content("b".into()), round, &mut ready);
        c.push(Emit::Content("c".into()), round, &mut ready);
        assert_eq!(
            ready.len(),
            1,
            "the first delta of a round is not a new burst"
        );
        let pause = t0 + Duration::from_millis(200);
        c.flush(round, &mut ready);
        c.push(Emit::Content("d".into()), pause, &mut ready);
        assert_eq!(ready.len(), 3, "a real pause still sends at once");
    }

    #[test]
    fn size_limit_flushes_early_and_zero_window_disables_merging() {
        let mut c = Coalescer::new(Duration::from_secs(10), 4);
        let t0 = Instant::now();
        let mut ready = Vec::new();
        for _ in 0..5 {
            c.push(Emit::Content("ab".into()), t0, &mut ready);
        }
        assert_eq!(ready.len(), 3);
        let mut z = Coalescer::new(Duration::ZERO, 4);
        let mut ready = Vec::new();
        for _ in 0..5 {
            z.push(Emit::Content("ab".into()), t0, &mut ready);
        }
        assert_eq!(ready.len(), 5);
    }
}
