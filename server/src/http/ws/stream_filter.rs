//! Per socket, per reply: chunks leave in `seq` order, each once. Live chunks and a
//! resume's replay can overlap or cross in the socket's queue; this puts them back in
//! order and drops repeats, so a reconnecting client gets exactly what it missed.

use std::collections::{BTreeMap, HashMap};

/// Chunks held per socket while their predecessors are missing; beyond this the
/// socket stops buffering (the reply's final message still brings the whole text).
const MAX_HELD: usize = 10_000;

#[derive(Default)]
pub(crate) struct StreamFilter {
    /// Per reply the socket follows: the next `seq` it should get.
    next: HashMap<String, u64>,
    /// Chunks that came before their turn (or before the client resumed), by reply.
    held: HashMap<String, BTreeMap<u64, String>>,
    held_count: usize,
}

impl StreamFilter {
    /// A live chunk: the frames to send now (it, and held ones it unblocks).
    pub(crate) fn live(&mut self, message_id: &str, seq: u64, frame: &str) -> Vec<String> {
        match self.next.get(message_id) {
            // A reply that started while the socket was open: follow it.
            None if seq == 0 => {
                self.next.insert(message_id.to_owned(), 0);
            }
            // Started before: held until the client resumes it (or forever).
            None => {
                self.hold(message_id, seq, frame);
                return Vec::new();
            }
            Some(_) => {}
        }
        self.offer(message_id, seq, frame)
    }

    /// A resume: the client had everything up to `after_seq`; `chunks` are what the
    /// server had after it when asked.
    pub(crate) fn replay(
        &mut self,
        message_id: &str,
        after_seq: Option<u64>,
        chunks: Vec<(u64, String)>,
    ) -> Vec<String> {
        // Never back: what this socket sent already is not sent again (the client
        // drops repeats anyway), and live chunks sent since the snapshot stay sent.
        let asked = after_seq.map_or(0, |seq| seq.saturating_add(1));
        let next = self
            .next
            .get(message_id)
            .map_or(asked, |&sent| sent.max(asked));
        self.next.insert(message_id.to_owned(), next);
        let mut out = Vec::new();
        for (seq, frame) in chunks {
            out.extend(self.offer(message_id, seq, &frame));
        }
        out.extend(self.release(message_id));
        out
    }

    fn offer(&mut self, message_id: &str, seq: u64, frame: &str) -> Vec<String> {
        let Some(next) = self.next.get_mut(message_id) else {
            return Vec::new();
        };
        if seq < *next {
            return Vec::new(); // sent already
        }
        if seq > *next {
            self.hold(message_id, seq, frame);
            return Vec::new();
        }
        *next += 1;
        let mut out = vec![frame.to_owned()];
        out.extend(self.release(message_id));
        out
    }

    /// Held chunks that are now in turn.
    fn release(&mut self, message_id: &str) -> Vec<String> {
        let mut out = Vec::new();
        let (Some(next), Some(held)) =
            (self.next.get_mut(message_id), self.held.get_mut(message_id))
        else {
            return out;
        };
        while let Some(entry) = held.first_entry() {
            let seq = *entry.key();
            if seq > *next {
                break;
            }
            let frame = entry.remove();
            self.held_count -= 1;
            if seq == *next {
                *next += 1;
                out.push(frame);
            }
        }
        if held.is_empty() {
            self.held.remove(message_id);
        }
        out
    }

    fn hold(&mut self, message_id: &str, seq: u64, frame: &str) {
        if self.held_count >= MAX_HELD {
            self.held.clear();
            self.held_count = 0;
        }
        let held = self.held.entry(message_id.to_owned()).or_default();
        if held.insert(seq, frame.to_owned()).is_none() {
            self.held_count += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(range: std::ops::Range<u64>) -> Vec<(u64, String)> {
        range.map(|seq| (seq, seq.to_string())).collect()
    }

    #[test]
    fn a_reply_started_while_connected_passes_in_order() {
        let mut filter = StreamFilter::default();
        let out: Vec<String> = (0..3)
            .flat_map(|s| filter.live("m", s, &s.to_string()))
            .collect();
        assert_eq!(out, ["0", "1", "2"]);
        assert!(filter.live("m", 1, "1").is_empty(), "a repeat is dropped");
    }

    #[test]
    fn live_chunks_that_overtake_a_resume_wait_for_it() {
        let mut filter = StreamFilter::default();
        // Connected mid-reply: 6 and 7 arrive live before the replay of 3..=7.
        assert!(filter.live("m", 6, "6").is_empty());
        assert!(filter.live("m", 7, "7").is_empty());
        let out = filter.replay("m", Some(2), chunks(3..8));
        assert_eq!(out, ["3", "4", "5", "6", "7"]);
        assert_eq!(filter.live("m", 8, "8"), ["8"]);
        assert!(filter.live("m", 7, "7").is_empty());
    }

    #[test]
    fn a_resume_never_moves_a_followed_reply_back() {
        let mut filter = StreamFilter::default();
        let out: Vec<String> = (0..5)
            .flat_map(|s| filter.live("m", s, &s.to_string()))
            .collect();
        assert_eq!(out.len(), 5);
        // Asked from the start, with a snapshot taken when 0..=3 existed.
        assert!(filter.replay("m", None, chunks(0..4)).is_empty());
        assert_eq!(filter.live("m", 5, "5"), ["5"]);
    }

    #[test]
    fn a_replay_shorter_than_what_arrived_live_is_completed_by_the_held_chunks() {
        let mut filter = StreamFilter::default();
        assert!(filter.live("m", 4, "4").is_empty());
        // The snapshot was taken before 4 was published.
        let out = filter.replay("m", None, chunks(0..4));
        assert_eq!(out, ["0", "1", "2", "3", "4"]);
    }
}
