//! The connection manager: per thread, the set of open sockets (a map by connection
//! id under one lock — no list, no duplicates) and one hub subscription that hands
//! each event, serialised once, to every socket's bounded queue with `try_send`. A
//! socket whose queue is full is dropped (told why), never waited for.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError, Weak},
};

use kiln_core::hub::{EventHub, HubMessage, Topic};
use tokio::sync::{broadcast::error::RecvError, mpsc};
use tokio_util::sync::CancellationToken;

use super::close;

/// What a socket's writer sends, in order.
#[derive(Debug)]
pub(crate) enum Outbound {
    /// An event of the thread, shared by every socket.
    Hub(Arc<HubMessage>),
    /// A frame for this socket only (an ack, an error).
    Own(String),
    /// A resumed reply's chunks `(seq, frame)` after `after_seq`; live ones follow.
    Replay {
        message_id: Arc<str>,
        after_seq: Option<u64>,
        chunks: Vec<(u64, String)>,
    },
}

/// Tells one socket to close, with a code and a reason (the first reason wins).
#[derive(Debug, Clone, Default)]
pub(crate) struct Kick {
    token: CancellationToken,
    reason: Arc<OnceLock<(u16, &'static str)>>,
}

impl Kick {
    pub(crate) fn kick(&self, code: u16, reason: &'static str) {
        let _ = self.reason.set((code, reason));
        self.token.cancel();
    }

    pub(crate) async fn kicked(&self) -> (u16, &'static str) {
        self.token.cancelled().await;
        self.reason
            .get()
            .copied()
            .unwrap_or((close::GOING_AWAY, "closing"))
    }
}

struct Member {
    /// The socket's id on the hub ([`HubMessage::origin`]).
    socket_id: Arc<str>,
    queue: mpsc::Sender<Outbound>,
    kick: Kick,
}

struct Room {
    members: HashMap<u64, Member>,
    forwarder: tokio::task::AbortHandle,
}

#[derive(Default)]
struct Inner {
    rooms: HashMap<String, Room>,
    sockets_per_user: HashMap<String, usize>,
    next_id: u64,
}

/// Every open chat socket of this process.
pub struct Connections {
    hub: EventHub,
    inner: Mutex<Inner>,
    me: Weak<Connections>,
}

impl Connections {
    pub fn new(hub: EventHub) -> Arc<Self> {
        Arc::new_cyclic(|me| Self {
            hub,
            inner: Mutex::default(),
            me: me.clone(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Room for one more socket of `user`, or `None` at `max`.
    pub(crate) fn reserve(&self, user: &str, max: usize) -> Option<Slot> {
        let mut inner = self.lock();
        let count = inner.sockets_per_user.entry(user.to_owned()).or_default();
        if *count >= max {
            return None;
        }
        *count += 1;
        Some(Slot {
            connections: self.me.upgrade()?,
            user: user.to_owned(),
        })
    }

    /// Adds a socket to `thread_id`'s room; events flow into `queue` until the
    /// returned membership is dropped.
    pub(crate) fn join(
        &self,
        thread_id: &str,
        socket_id: &str,
        queue: mpsc::Sender<Outbound>,
        kick: Kick,
    ) -> Membership {
        let mut inner = self.lock();
        inner.next_id += 1;
        let id = inner.next_id;
        let room = inner.rooms.entry(thread_id.to_owned()).or_insert_with(|| {
            // Subscribed under the lock, before the socket is a member: nothing
            // published after the join can be missed.
            let events = self.hub.subscribe(&Topic::Thread(thread_id.to_owned()));
            let forwarder = tokio::spawn(forward(self.me.clone(), thread_id.to_owned(), events));
            Room {
                members: HashMap::new(),
                forwarder: forwarder.abort_handle(),
            }
        });
        room.members.insert(
            id,
            Member {
                socket_id: socket_id.into(),
                queue,
                kick,
            },
        );
        Membership {
            connections: self.me.clone(),
            thread_id: thread_id.to_owned(),
            id,
        }
    }

    /// Open sockets on `thread_id`.
    pub fn sockets(&self, thread_id: &str) -> usize {
        self.lock()
            .rooms
            .get(thread_id)
            .map_or(0, |room| room.members.len())
    }

    fn leave(&self, thread_id: &str, id: u64) {
        let mut inner = self.lock();
        let Some(room) = inner.rooms.get_mut(thread_id) else {
            return;
        };
        room.members.remove(&id);
        if room.members.is_empty() {
            room.forwarder.abort();
            inner.rooms.remove(thread_id);
        }
    }

    /// Hands `message` to every socket of the room (but the one that caused it)
    /// without waiting for any.
    fn deliver(&self, thread_id: &str, message: &Arc<HubMessage>) {
        let mut inner = self.lock();
        let Some(room) = inner.rooms.get_mut(thread_id) else {
            return;
        };
        room.members.retain(|_, member| {
            if message.origin.as_ref() == Some(&member.socket_id) {
                return true;
            }
            match member.queue.try_send(Outbound::Hub(message.clone())) {
                Ok(()) => true,
                Err(mpsc::error::TrySendError::Full(_)) => {
                    tracing::info!("chat socket dropped: it did not read its frames");
                    member
                        .kick
                        .kick(close::TRY_AGAIN_LATER, "too slow: frames were not read");
                    false
                }
                Err(mpsc::error::TrySendError::Closed(_)) => false,
            }
        });
    }

    fn kick_room(&self, thread_id: &str, code: u16, reason: &'static str) {
        let mut inner = self.lock();
        if let Some(room) = inner.rooms.get_mut(thread_id) {
            for member in room.members.values() {
                member.kick.kick(code, reason);
            }
            room.members.clear();
        }
    }
}

async fn forward(
    connections: Weak<Connections>,
    thread_id: String,
    mut events: tokio::sync::broadcast::Receiver<Arc<HubMessage>>,
) {
    loop {
        let event = events.recv().await;
        let Some(connections) = connections.upgrade() else {
            return;
        };
        match event {
            Ok(message) => connections.deliver(&thread_id, &message),
            Err(RecvError::Lagged(missed)) => {
                // Cannot happen unless this task starves; the sockets must resume.
                tracing::warn!(missed, "chat events missed; closing the thread's sockets");
                connections.kick_room(
                    &thread_id,
                    close::TRY_AGAIN_LATER,
                    "events were missed; reconnect",
                );
            }
            Err(RecvError::Closed) => return,
        }
    }
}

/// One socket's place in its user's allowance; given back when dropped.
pub(crate) struct Slot {
    connections: Arc<Connections>,
    user: String,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut inner = self.connections.lock();
        if let Some(count) = inner.sockets_per_user.get_mut(&self.user) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                inner.sockets_per_user.remove(&self.user);
            }
        }
    }
}

/// A socket's membership of a room; leaving is dropping it.
pub(crate) struct Membership {
    connections: Weak<Connections>,
    thread_id: String,
    id: u64,
}

impl Drop for Membership {
    fn drop(&mut self) {
        if let Some(connections) = self.connections.upgrade() {
            connections.leave(&self.thread_id, self.id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(n: u64) -> serde_json::Value {
        serde_json::json!({ "type": "typing", "n": n })
    }

    #[tokio::test]
    async fn a_full_queue_drops_that_socket_only_and_an_empty_room_is_forgotten() {
        let hub = EventHub::default();
        let connections = Connections::new(hub.clone());
        let (fast_tx, mut fast_rx) = mpsc::channel(8);
        let (slow_tx, _slow_rx) = mpsc::channel(1);
        let slow_kick = Kick::default();
        let fast = connections.join("t", "fast", fast_tx, Kick::default());
        let slow = connections.join("t", "slow", slow_tx, slow_kick.clone());
        assert_eq!(connections.sockets("t"), 2);
        for n in 0..3 {
            hub.publish("typing", vec![Topic::Thread("t".into())], &frame(n));
        }
        for _ in 0..3 {
            assert!(matches!(fast_rx.recv().await, Some(Outbound::Hub(_))));
        }
        assert_eq!(slow_kick.kicked().await.0, close::TRY_AGAIN_LATER);
        assert_eq!(connections.sockets("t"), 1);
        drop(slow);
        drop(fast);
        assert_eq!(connections.sockets("t"), 0);
        assert!(connections.lock().rooms.is_empty());
    }

    #[test]
    fn sockets_per_user_are_capped_and_given_back() {
        let connections = Connections::new(EventHub::default());
        let first = connections.reserve("u", 2).unwrap();
        let _second = connections.reserve("u", 2).unwrap();
        assert!(connections.reserve("u", 2).is_none());
        assert!(connections.reserve("v", 2).is_some());
        drop(first);
        assert!(connections.reserve("u", 2).is_some());
    }
}
