//! The event hub: serialisable messages routed by topic, so a push channel (a
//! WebSocket, another Kiln instance) receives exactly what concerns it, serialised
//! once however many listen.
//!
//! Publishing never waits for subscribers: a subscriber that falls behind misses
//! messages (its receiver says how many) instead of slowing the request that
//! published. The [`Broker`] moves messages; [`InProcessBroker`] does it inside one
//! process, and a broker for several instances (Redis pub/sub) fits behind the same
//! trait without touching services.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
};

use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

/// Messages a topic buffers for a slow subscriber before it starts missing them.
const TOPIC_CAPACITY: usize = 256;

/// What a message is about. Subscribers listen to topics.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Topic {
    /// Everything a user should hear about (their projects' events).
    User(String),
    /// One project's events.
    Project(String),
    /// One chat thread's messages (used by chat).
    Thread(String),
    /// One login session: `session_ended` closes its push channels.
    Session(String),
}

/// One message: its kind (`project_updated`, `session_ended`, …), the topics it goes
/// to, and its JSON, serialised once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubMessage {
    pub kind: String,
    pub topics: Vec<Topic>,
    /// A JSON object whose `type` is `kind`.
    pub json: Arc<str>,
    /// For pieces of a stream (a reply's chunks): the stream's id and the piece's
    /// number, so a push channel that replayed some pieces can skip them live.
    pub position: Option<(Arc<str>, u64)>,
    /// The push channel whose client caused it (a `typing` from one socket), which
    /// does not need it echoed back.
    pub origin: Option<Arc<str>>,
}

/// Moves messages from publishers to the subscribers of their topics.
pub trait Broker: Send + Sync + 'static {
    /// Hands `message` to every current subscriber of each of its topics (a receiver
    /// per topic: whoever follows two of them gets it twice). Never blocks.
    fn publish(&self, message: Arc<HubMessage>);
    /// Messages published to `topic` from now on.
    fn subscribe(&self, topic: &Topic) -> broadcast::Receiver<Arc<HubMessage>>;
}

/// The broker of a single Kiln process: one broadcast channel per followed topic,
/// dropped when its last subscriber goes.
#[derive(Default)]
pub struct InProcessBroker {
    topics: Mutex<HashMap<Topic, broadcast::Sender<Arc<HubMessage>>>>,
}

impl Broker for InProcessBroker {
    fn publish(&self, message: Arc<HubMessage>) {
        let mut topics = self.topics.lock().unwrap_or_else(PoisonError::into_inner);
        for topic in &message.topics {
            let Some(sender) = topics.get(topic) else {
                continue;
            };
            if sender.send(message.clone()).is_err() {
                // Nobody listens any more.
                topics.remove(topic);
            }
        }
    }

    fn subscribe(&self, topic: &Topic) -> broadcast::Receiver<Arc<HubMessage>> {
        let mut topics = self.topics.lock().unwrap_or_else(PoisonError::into_inner);
        topics
            .entry(topic.clone())
            .or_insert_with(|| broadcast::channel(TOPIC_CAPACITY).0)
            .subscribe()
    }
}

/// Publishes and subscribes by topic, through a [`Broker`]. Cheap to clone.
#[derive(Clone)]
pub struct EventHub {
    broker: Arc<dyn Broker>,
}

impl Default for EventHub {
    fn default() -> Self {
        Self::new(Arc::new(InProcessBroker::default()))
    }
}

impl EventHub {
    pub fn new(broker: Arc<dyn Broker>) -> Self {
        Self { broker }
    }

    /// Serialises `payload` (an object tagged with `"type": kind`) once and publishes it.
    pub fn publish(&self, kind: &str, topics: Vec<Topic>, payload: &impl Serialize) {
        self.publish_at(kind, topics, payload, None);
    }

    /// [`publish`](Self::publish) for the piece `position.1` of stream `position.0`.
    pub fn publish_at(
        &self,
        kind: &str,
        topics: Vec<Topic>,
        payload: &impl Serialize,
        position: Option<(Arc<str>, u64)>,
    ) {
        self.send(kind, topics, payload, position, None);
    }

    /// [`publish`](Self::publish) on behalf of the push channel `origin`, which does
    /// not hear it back.
    pub fn publish_from(
        &self,
        kind: &str,
        topics: Vec<Topic>,
        payload: &impl Serialize,
        origin: &str,
    ) {
        self.send(kind, topics, payload, None, Some(origin.into()));
    }

    fn send(
        &self,
        kind: &str,
        topics: Vec<Topic>,
        payload: &impl Serialize,
        position: Option<(Arc<str>, u64)>,
        origin: Option<Arc<str>>,
    ) {
        match serde_json::to_string(payload) {
            Ok(json) => self.broker.publish(Arc::new(HubMessage {
                kind: kind.to_owned(),
                topics,
                json: json.into(),
                position,
                origin,
            })),
            Err(error) => tracing::error!(kind, %error, "an event could not be serialised"),
        }
    }

    /// Messages to `topic` from now on.
    pub fn subscribe(&self, topic: &Topic) -> broadcast::Receiver<Arc<HubMessage>> {
        self.broker.subscribe(topic)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use tokio::sync::broadcast::error::TryRecvError;

    use super::*;

    #[test]
    fn messages_reach_the_subscribers_of_their_topics_only_once_each() {
        let hub = EventHub::default();
        let project = Topic::Project("p1".into());
        let user = Topic::User("u1".into());
        let mut of_project = hub.subscribe(&project);
        let mut of_user = hub.subscribe(&user);
        let mut elsewhere = hub.subscribe(&Topic::Project("p2".into()));

        let event = json!({"type": "project_updated", "project_id": "p1"});
        hub.publish("project_updated", vec![project, user], &event);

        let received = of_project.try_recv().unwrap();
        assert_eq!(received.kind, "project_updated");
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&received.json).unwrap(),
            event
        );
        // One serialisation for everyone.
        assert!(Arc::ptr_eq(&received, &of_user.try_recv().unwrap()));
        assert_eq!(elsewhere.try_recv(), Err(TryRecvError::Empty));
        assert_eq!(of_project.try_recv(), Err(TryRecvError::Empty));
    }

    #[test]
    fn a_topic_nobody_follows_any_more_is_forgotten() {
        let broker = InProcessBroker::default();
        let topic = Topic::Thread("t".into());
        drop(broker.subscribe(&topic));
        let message = HubMessage {
            kind: "x".into(),
            topics: vec![topic],
            json: "{}".into(),
            position: None,
            origin: None,
        };
        broker.publish(Arc::new(message));
        assert!(broker.topics.lock().unwrap().is_empty());
    }
}
