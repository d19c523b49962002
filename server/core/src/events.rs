//! Domain events: what services announce after they change something. One dispatcher
//! hands each event to every subscriber (the timeline now; the WebSocket broadcast and
//! metrics later), so services never write to each other's tables.

use std::{future::Future, pin::Pin, sync::Arc};

use kiln_types::ProjectStatus;
use tokio::sync::broadcast;

use crate::ServiceError;

/// The project an event is about, as it was when the event happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectRef {
    pub id: String,
    pub name: String,
    pub owner_id: String,
}

/// One field's change: `{"from": …, "to": …}`.
pub type FieldChanges = serde_json::Map<String, serde_json::Value>;

#[derive(Debug, Clone, PartialEq)]
pub enum DomainEvent {
    ProjectCreated {
        project: ProjectRef,
        actor_id: String,
    },
    ProjectUpdated {
        project: ProjectRef,
        actor_id: String,
        changes: FieldChanges,
    },
    StatusChanged {
        project: ProjectRef,
        actor_id: String,
        from: ProjectStatus,
        to: ProjectStatus,
    },
    ProjectDeleted {
        project: ProjectRef,
        actor_id: String,
    },
    /// One upload or import: the paths it created and the ones it gave a new version.
    FilesUploaded {
        project: ProjectRef,
        actor_id: String,
        created: Vec<String>,
        updated: Vec<String>,
    },
    FileUpdated {
        project: ProjectRef,
        actor_id: String,
        file_id: String,
        path: String,
        version: u64,
        change: FileChange,
    },
    FileDeleted {
        project: ProjectRef,
        actor_id: String,
        file_id: String,
        path: String,
    },
}

/// How a file came to its new version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileChange {
    Edited,
    Renamed {
        from: String,
    },
    /// An older version's content brought back.
    Restored {
        version: u64,
    },
    Undeleted,
}

impl DomainEvent {
    pub fn project(&self) -> &ProjectRef {
        match self {
            Self::ProjectCreated { project, .. }
            | Self::ProjectUpdated { project, .. }
            | Self::StatusChanged { project, .. }
            | Self::ProjectDeleted { project, .. }
            | Self::FilesUploaded { project, .. }
            | Self::FileUpdated { project, .. }
            | Self::FileDeleted { project, .. } => project,
        }
    }
}

pub type HandlerFuture<'a> = Pin<Box<dyn Future<Output = Result<(), ServiceError>> + Send + 'a>>;

/// Something that reacts to domain events.
pub trait EventSubscriber: Send + Sync {
    /// For logs when handling fails.
    fn name(&self) -> &'static str;
    fn handle<'a>(&'a self, event: &'a DomainEvent) -> HandlerFuture<'a>;
}

/// Delivers every event to every subscriber, in order, before `publish` returns (so a
/// client that changed something sees it on the timeline at once), then to live
/// listeners.
#[derive(Clone)]
pub struct EventDispatcher {
    subscribers: Arc<[Arc<dyn EventSubscriber>]>,
    live: broadcast::Sender<Arc<DomainEvent>>,
}

impl EventDispatcher {
    pub fn new(subscribers: Vec<Arc<dyn EventSubscriber>>) -> Self {
        let (live, _) = broadcast::channel(1024);
        Self {
            subscribers: subscribers.into(),
            live,
        }
    }

    /// Events as they happen, for push channels. A receiver that falls behind misses
    /// events (and is told so) instead of slowing anyone down.
    pub fn listen(&self) -> broadcast::Receiver<Arc<DomainEvent>> {
        self.live.subscribe()
    }

    /// The change is already committed when this runs: a subscriber that fails is
    /// logged and does not undo it or stop the others.
    pub async fn publish(&self, event: DomainEvent) {
        for subscriber in self.subscribers.iter() {
            if let Err(error) = subscriber.handle(&event).await {
                tracing::error!(subscriber = subscriber.name(), %error, ?event, "event subscriber failed");
            }
        }
        // No live listener is not an error.
        let _ = self.live.send(Arc::new(event));
    }
}
