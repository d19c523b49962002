//! What the thread page knows: every message it has seen (a tree by `parent_id`),
//! which branch the user is looking at, and the sends waiting for their `ack`. Frames
//! from the socket are applied here; the page only renders it. Plain Rust, so the
//! rules are tested without a browser.
// Frames arrive only in the browser: the server build renders, never applies.
#![cfg_attr(not(feature = "hydrate"), allow(dead_code))]

use std::collections::HashMap;

use kiln_types::{ApiError, ChatMessage, Message, MessageRole, MessageStatus, ServerFrame, Thread};

/// One message as the page holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub message: Message,
    /// The server's rendering of the final text; `None` while streaming or until
    /// fetched.
    pub html: Option<String>,
    /// The next chunk expected while the reply streams.
    pub next_seq: u64,
    /// A send that failed: why, so the user can retry it.
    pub send_failed: Option<String>,
}

/// What the page should do after a frame.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Fetch the finished message's rendering.
    Render(String),
    /// Say this in the polite status region ("Assistant is replying…").
    Status(String),
    /// Announce a finished reply, once.
    Announce(String),
    Failed(ApiError),
    Thread(Thread),
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Conversation {
    entries: HashMap<String, Entry>,
    /// The child shown under each parent (`None`: the thread's start).
    chosen: HashMap<Option<String>, String>,
    /// Sends not yet acknowledged: command id → the placeholder's id.
    pending: HashMap<String, String>,
}

/// One step of the branch on screen: the entry, its position among its siblings
/// (from 1) and how many siblings there are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub entry: Entry,
    pub position: usize,
    pub siblings: Vec<String>,
}

const PENDING_PREFIX: &str = "pending-";

impl Step {
    /// Changes whenever what the step shows changes (the list re-renders it then) —
    /// but not with each chunk of a streaming reply, whose text is read reactively:
    /// re-rendering it 20 times a second took its Stop button away from under the
    /// pointer and the keyboard focus.
    pub fn key(&self) -> String {
        let message = &self.entry.message;
        format!(
            "{}|{}|{}|{}|{}|{}|{}",
            message.id,
            message.status.as_str(),
            self.entry.html.is_some(),
            message.edited_at.as_deref().unwrap_or_default(),
            self.entry.send_failed.is_some(),
            self.position,
            self.siblings.len()
        )
    }
}

impl Conversation {
    pub fn new(messages: Vec<ChatMessage>) -> Self {
        let mut conversation = Self::default();
        conversation.refresh(messages);
        conversation
    }

    /// Takes the server's view of `messages` (a first load, or after a reconnect, when
    /// frames may have been missed). A reply still streaming starts empty: the resume
    /// that follows replays it from its first chunk.
    pub fn refresh(&mut self, messages: Vec<ChatMessage>) {
        for ChatMessage { mut message, html } in messages {
            let streaming = message.status == MessageStatus::Streaming;
            if streaming {
                message.content.clear();
            }
            let id = message.id.clone();
            self.upsert(message, (!streaming).then_some(html));
            if let Some(entry) = self.entries.get_mut(&id).filter(|_| streaming) {
                entry.next_seq = 0;
            }
        }
        self.settle_unacknowledged();
    }

    /// Sends whose `ack` was lost with the connection: the question is in the server's
    /// view if it was stored (the placeholder goes), else the send failed and can be
    /// retried — never left waiting forever, never shown twice.
    fn settle_unacknowledged(&mut self) {
        let unacknowledged: Vec<(String, String)> = self
            .pending
            .iter()
            .filter(|(_, id)| id.starts_with(PENDING_PREFIX))
            .map(|(command, id)| (command.clone(), id.clone()))
            .collect();
        for (command, placeholder) in unacknowledged {
            let Some(waiting) = self.entries.get(&placeholder).map(|e| e.message.clone()) else {
                continue;
            };
            let stored = self.entries.values().any(|entry| {
                let m = &entry.message;
                !m.id.starts_with(PENDING_PREFIX)
                    && m.role == MessageRole::User
                    && m.content == waiting.content
                    && m.parent_id == waiting.parent_id
            });
            self.pending.remove(&command);
            if stored {
                self.entries.remove(&placeholder);
            } else if let Some(entry) = self.entries.get_mut(&placeholder) {
                entry.send_failed = Some("the connection dropped before the server had it".into());
            }
        }
    }

    /// The children of `parent`; at the top (`None`), also the messages whose parent
    /// is not loaded (a long thread shows its newest part first).
    fn children(&self, parent: Option<&str>) -> Vec<&Entry> {
        let mut children: Vec<&Entry> = self
            .entries
            .values()
            .filter(|entry| match (parent, entry.message.parent_id.as_deref()) {
                (None, Some(up)) => !self.entries.contains_key(up),
                (wanted, up) => up == wanted,
            })
            .collect();
        children.sort_by(|a, b| {
            (&a.message.created_at, &a.message.id).cmp(&(&b.message.created_at, &b.message.id))
        });
        children
    }

    /// The branch on screen, from the start: at each level the chosen child, or the
    /// newest one.
    pub fn path(&self) -> Vec<Step> {
        let mut path = Vec::new();
        let mut parent: Option<String> = None;
        loop {
            let children = self.children(parent.as_deref());
            if children.is_empty() || path.len() > self.entries.len() {
                return path;
            }
            let wanted = self.chosen.get(&parent);
            let index = wanted
                .and_then(|id| children.iter().position(|c| &c.message.id == id))
                .unwrap_or(children.len() - 1);
            let entry = children[index].clone();
            parent = Some(entry.message.id.clone());
            path.push(Step {
                siblings: children.iter().map(|c| c.message.id.clone()).collect(),
                position: index + 1,
                entry,
            });
        }
    }

    /// Shows `id` (one of its siblings) instead of the sibling shown now.
    pub fn choose(&mut self, id: &str) {
        if let Some(entry) = self.entries.get(id) {
            self.chosen
                .insert(entry.message.parent_id.clone(), id.to_owned());
        }
    }

    /// The message a new question follows: the end of the branch on screen.
    pub fn tip(&self) -> Option<String> {
        self.path()
            .last()
            .map(|step| step.entry.message.id.clone())
            .filter(|id| !id.starts_with(PENDING_PREFIX))
    }

    /// Replies still streaming, with the last chunk seen (for `resume`).
    pub fn streaming(&self) -> Vec<(String, Option<u64>)> {
        self.entries
            .values()
            .filter(|e| {
                e.message.status == MessageStatus::Streaming
                    && e.message.role == MessageRole::Assistant
            })
            .map(|e| (e.message.id.clone(), e.next_seq.checked_sub(1)))
            .collect()
    }

    pub fn is_replying(&self) -> bool {
        !self.streaming().is_empty()
    }

    /// The text of message `id` as it is now (a streaming reply's grows).
    pub fn content(&self, id: &str) -> String {
        self.entries
            .get(id)
            .map(|entry| entry.message.content.clone())
            .unwrap_or_default()
    }

    /// Whether a reply to message `id` is being generated (the question is then
    /// neither edited nor deleted).
    pub fn is_answering(&self, id: &str) -> bool {
        self.entries.values().any(|entry| {
            entry.message.parent_id.as_deref() == Some(id)
                && entry.message.status == MessageStatus::Streaming
        })
    }

    /// Shows a question at once, before the server has it.
    pub fn add_pending(
        &mut self,
        command_id: &str,
        content: &str,
        parent_id: Option<String>,
        author: &str,
    ) {
        let id = format!("{PENDING_PREFIX}{command_id}");
        let message = Message {
            id: id.clone(),
            thread_id: String::new(),
            parent_id,
            role: MessageRole::User,
            author_id: Some(author.to_owned()),
            content: content.to_owned(),
            status: MessageStatus::Complete,
            model: None,
            error: None,
            citations: Vec::new(),
            snippets: Vec::new(),
            created_at: "9999".into(),
            edited_at: None,
        };
        self.upsert(message, None);
        self.choose(&id);
        self.pending.insert(command_id.to_owned(), id);
    }

    /// A failed send's text, to retry it (and the placeholder goes).
    pub fn take_failed(&mut self, placeholder: &str) -> Option<(String, Option<String>)> {
        let entry = self.entries.remove(placeholder)?;
        Some((entry.message.content, entry.message.parent_id))
    }

    fn upsert(&mut self, message: Message, html: Option<String>) {
        let next_seq = self
            .entries
            .get(&message.id)
            .map_or(0, |entry| entry.next_seq);
        let html = html.or_else(|| {
            self.entries
                .get(&message.id)
                .filter(|e| {
                    e.message.content == message.content
                        && message.status != MessageStatus::Streaming
                })
                .and_then(|e| e.html.clone())
        });
        self.entries.insert(
            message.id.clone(),
            Entry {
                message,
                html,
                next_seq,
                send_failed: None,
            },
        );
    }

    /// A new message shown at the end of its branch; a user's own question replaces
    /// its placeholder. Its rendering is to be fetched when it is new here and
    /// finished (a question: its Markdown shows at once, not after a reload).
    fn arrived(&mut self, message: Message) -> Option<Outcome> {
        let placeholder = self
            .pending
            .iter()
            .find(|(_, id)| {
                self.entries.get(*id).is_some_and(|p| {
                    p.message.content == message.content && p.message.parent_id == message.parent_id
                })
            })
            .map(|(command, id)| (command.clone(), id.clone()));
        if message.role == MessageRole::User
            && let Some((command, id)) = placeholder
        {
            self.entries.remove(&id);
            self.pending.insert(command, message.id.clone());
        }
        let id = message.id.clone();
        let render = (!self.entries.contains_key(&id)
            && message.status != MessageStatus::Streaming)
            .then(|| Outcome::Render(id.clone()));
        if !self.entries.contains_key(&id) {
            self.upsert(message, None);
        }
        self.choose(&id);
        render
    }

    /// Older messages loaded on demand: added where the page has not seen them.
    pub fn merge_older(&mut self, messages: Vec<ChatMessage>) {
        let unseen = messages
            .into_iter()
            .filter(|m| !self.entries.contains_key(&m.message.id))
            .collect();
        self.refresh(unseen);
    }

    pub fn set_html(&mut self, id: &str, html: String) {
        if let Some(entry) = self.entries.get_mut(id) {
            entry.html = Some(html);
        }
    }

    pub fn apply(&mut self, frame: ServerFrame) -> Vec<Outcome> {
        match frame {
            ServerFrame::MessageCreated { message } => {
                let replying = message.role == MessageRole::Assistant
                    && message.status == MessageStatus::Streaming;
                let render = self.arrived(message);
                replying
                    .then(|| Outcome::Status("Assistant is replying…".into()))
                    .into_iter()
                    .chain(render)
                    .collect()
            }
            ServerFrame::MessageUpdated { message } => {
                let id = message.id.clone();
                let status = message.status;
                let error = message.error.clone();
                let is_reply = message.role == MessageRole::Assistant;
                let was_streaming = self
                    .entries
                    .get(&id)
                    .is_some_and(|e| e.message.status == MessageStatus::Streaming);
                self.upsert(message, None);
                let mut out = Vec::new();
                if status != MessageStatus::Streaming {
                    out.push(Outcome::Render(id));
                }
                if is_reply && was_streaming {
                    match status {
                        MessageStatus::Complete => {
                            out.push(Outcome::Status(String::new()));
                            out.push(Outcome::Announce("The assistant has replied.".into()));
                        }
                        MessageStatus::Stopped => {
                            out.push(Outcome::Status("Reply stopped.".into()))
                        }
                        MessageStatus::Failed => out.push(Outcome::Status(format!(
                            "The reply failed: {}",
                            error.unwrap_or_default()
                        ))),
                        MessageStatus::Streaming => {}
                    }
                }
                out
            }
            ServerFrame::MessageDeleted { message_id, .. } => {
                if let Some(gone) = self.entries.remove(&message_id) {
                    for entry in self.entries.values_mut() {
                        if entry.message.parent_id.as_deref() == Some(message_id.as_str()) {
                            entry.message.parent_id = gone.message.parent_id.clone();
                        }
                    }
                    self.chosen.retain(|_, chosen| *chosen != message_id);
                }
                Vec::new()
            }
            ServerFrame::StreamChunk {
                message_id,
                seq,
                delta,
                ..
            } => {
                if let Some(entry) = self.entries.get_mut(&message_id)
                    && seq == entry.next_seq
                {
                    entry.message.content.push_str(&delta);
                    entry.next_seq += 1;
                }
                Vec::new()
            }
            ServerFrame::ThreadUpdated { thread } => vec![Outcome::Thread(thread)],
            // The socket's close (code 4404) tells the page; nothing to change here.
            ServerFrame::ThreadDeleted { .. } => Vec::new(),
            ServerFrame::Typing { .. } => Vec::new(),
            ServerFrame::Ack {
                command_id,
                message,
                reply,
            } => {
                let placeholder = self.pending.remove(&command_id);
                if let Some(id) = placeholder.filter(|id| id.starts_with(PENDING_PREFIX)) {
                    self.entries.remove(&id);
                }
                message
                    .into_iter()
                    .chain(reply)
                    .filter_map(|message| self.arrived(*message))
                    .collect()
            }
            ServerFrame::Error { command_id, error } => {
                if let Some(id) = command_id.and_then(|c| self.pending.remove(&c))
                    && let Some(entry) = self.entries.get_mut(&id)
                {
                    entry.send_failed = Some(error.detail.clone());
                }
                vec![Outcome::Failed(error)]
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(id: &str, parent: Option<&str>, role: MessageRole, at: &str) -> Message {
        Message {
            id: id.into(),
            thread_id: "t".into(),
            parent_id: parent.map(str::to_owned),
            role,
            author_id: None,
            content: format!("text of {id}"),
            status: MessageStatus::Complete,
            model: None,
            error: None,
            citations: vec![],
            snippets: vec![],
            created_at: at.into(),
            edited_at: None,
        }
    }

    fn ids(conversation: &Conversation) -> Vec<String> {
        conversation
            .path()
            .into_iter()
            .map(|s| s.entry.message.id)
            .collect()
    }

    #[test]
    fn the_newest_branch_shows_and_siblings_can_be_switched() {
        let mut c = Conversation::default();
        for m in [
            message("q", None, MessageRole::User, "1"),
            message("a1", Some("q"), MessageRole::Assistant, "2"),
            message("a2", Some("q"), MessageRole::Assistant, "3"),
        ] {
            c.apply(ServerFrame::MessageCreated { message: m });
        }
        assert_eq!(ids(&c), ["q", "a2"]);
        let step = &c.path()[1];
        assert_eq!((step.position, step.siblings.len()), (2, 2));
        c.choose("a1");
        assert_eq!(ids(&c), ["q", "a1"]);
        assert_eq!(c.tip().as_deref(), Some("a1"));
    }

    #[test]
    fn chunks_append_in_order_once_and_the_end_is_announced() {
        let mut c = Conversation::default();
        c.apply(ServerFrame::MessageCreated {
            message: message("q", None, MessageRole::User, "0"),
        });
        let mut reply = message("r", Some("q"), MessageRole::Assistant, "1");
        reply.status = MessageStatus::Streaming;
        reply.content.clear();
        c.apply(ServerFrame::MessageCreated {
            message: reply.clone(),
        });
        let key = c.path()[1].key();
        assert!(c.is_answering("q") && !c.is_answering("r"));
        for (seq, delta) in [(0, "Hel"), (1, "lo"), (1, "lo"), (3, "?")] {
            c.apply(ServerFrame::StreamChunk {
                message_id: "r".into(),
                seq,
                delta: delta.into(),
                is_final: false,
            });
        }
        assert_eq!(c.content("r"), "Hello");
        assert_eq!(c.path()[1].key(), key, "chunks do not re-render the reply");
        assert_eq!(c.streaming(), [("r".to_owned(), Some(1))]);
        reply.status = MessageStatus::Complete;
        reply.content = "Hello".into();
        let out = c.apply(ServerFrame::MessageUpdated { message: reply });
        assert!(out.contains(&Outcome::Announce("The assistant has replied.".into())));
        assert!(out.contains(&Outcome::Render("r".into())));
        assert!(!c.is_replying() && !c.is_answering("q"));
        assert_ne!(
            c.path()[1].key(),
            key,
            "the finished reply is rendered anew"
        );
    }

    #[test]
    fn a_pending_question_is_replaced_by_the_stored_one_or_marked_failed() {
        let mut c = Conversation::default();
        c.add_pending("c1", "hi", None, "u");
        assert_eq!(ids(&c), ["pending-c1"]);
        let mut stored = message("m1", None, MessageRole::User, "1");
        stored.content = "hi".into();
        let out = c.apply(ServerFrame::MessageCreated {
            message: stored.clone(),
        });
        assert_eq!(
            out,
            [Outcome::Render("m1".into())],
            "the question's Markdown is fetched at once"
        );
        c.apply(ServerFrame::Ack {
            command_id: "c1".into(),
            message: Some(Box::new(stored)),
            reply: None,
        });
        assert_eq!(ids(&c), ["m1"]);

        c.add_pending("c2", "again", Some("m1".into()), "u");
        c.apply(ServerFrame::Error {
            command_id: Some("c2".into()),
            error: ApiError::new(kiln_types::ErrorKind::Conflict, "busy"),
        });
        let last = c.path().pop().unwrap();
        assert_eq!(last.entry.send_failed.as_deref(), Some("busy"));
        assert_eq!(
            c.take_failed("pending-c2"),
            Some(("again".into(), Some("m1".into())))
        );
    }

    #[test]
    fn sends_cut_off_by_a_reconnect_are_either_found_or_offered_again() {
        let mut c = Conversation::default();
        c.add_pending("c1", "stored", None, "u");
        c.add_pending("c2", "lost", None, "u");
        let mut stored = message("m1", None, MessageRole::User, "1");
        stored.content = "stored".into();
        c.refresh(vec![ChatMessage {
            message: stored,
            html: String::new(),
        }]);
        let shown: Vec<(String, Option<String>)> = c
            .entries
            .values()
            .map(|e| (e.message.content.clone(), e.send_failed.clone()))
            .collect();
        assert_eq!(shown.len(), 2, "{shown:?}");
        assert!(shown.contains(&("stored".into(), None)));
        assert!(shown.contains(&(
            "lost".into(),
            Some("the connection dropped before the server had it".into())
        )));
        assert!(c.pending.is_empty());
    }

    #[test]
    fn a_long_thread_shows_its_newest_part_and_a_streaming_reply_starts_over() {
        let mut streaming = message("r", Some("q"), MessageRole::Assistant, "3");
        streaming.status = MessageStatus::Streaming;
        // "q"'s parent is older than what was loaded.
        let c = Conversation::new(vec![
            ChatMessage {
                message: message("q", Some("older"), MessageRole::User, "2"),
                html: String::new(),
            },
            ChatMessage {
                message: streaming,
                html: String::new(),
            },
        ]);
        assert_eq!(ids(&c), ["q", "r"]);
        assert_eq!(
            c.path()[1].entry.message.content,
            "",
            "the resume replays it"
        );
        assert_eq!(c.streaming(), [("r".to_owned(), None)]);
    }

    #[test]
    fn deleting_a_message_keeps_what_followed_it_on_screen() {
        let mut c = Conversation::default();
        for m in [
            message("q", None, MessageRole::User, "1"),
            message("a", Some("q"), MessageRole::Assistant, "2"),
            message("q2", Some("a"), MessageRole::User, "3"),
        ] {
            c.apply(ServerFrame::MessageCreated { message: m });
        }
        c.apply(ServerFrame::MessageDeleted {
            thread_id: "t".into(),
            message_id: "a".into(),
        });
        assert_eq!(ids(&c), ["q", "q2"]);
    }
}
