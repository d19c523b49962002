//! Domain events: what services announce after they change something. One dispatcher
//! hands each event to the synchronous subscribers (the timeline, so a client sees its
//! change there at once), then to the [`EventHub`] by topic for everyone else (push
//! channels, metrics) off the request path. Services never write to each other's
//! tables.

use std::{future::Future, pin::Pin, sync::Arc};

use kiln_types::{EventType, ProjectStatus};
use serde::Serialize;

use crate::{
    ServiceError,
    hub::{EventHub, Topic},
};

/// The project an event is about, as it was when the event happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProjectRef {
    pub id: String,
    pub name: String,
    pub owner_id: String,
}

/// One field's change: `{"from": …, "to": …}`.
pub type FieldChanges = serde_json::Map<String, serde_json::Value>;

/// On the hub each event is a JSON object tagged with its timeline type
/// (`{"type": "file_updated", …}`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
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
    #[serde(rename = "file_uploaded")]
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
    ThreadCreated {
        project: ProjectRef,
        actor_id: String,
        thread_id: String,
        title: String,
    },
    /// Archived, or (`archived: false`) un-archived.
    ThreadArchived {
        project: ProjectRef,
        actor_id: String,
        thread_id: String,
        title: String,
        archived: bool,
    },
    ThreadDeleted {
        project: ProjectRef,
        actor_id: String,
        thread_id: String,
        title: String,
    },
}

/// How a file came to its new version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "how", rename_all = "snake_case")]
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
    /// The timeline type, also the `type` of its JSON.
    pub fn kind(&self) -> EventType {
        match self {
            Self::ProjectCreated { .. } => EventType::ProjectCreated,
            Self::ProjectUpdated { .. } => EventType::ProjectUpdated,
            Self::StatusChanged { .. } => EventType::StatusChanged,
            Self::ProjectDeleted { .. } => EventType::ProjectDeleted,
            Self::FilesUploaded { .. } => EventType::FileUploaded,
            Self::FileUpdated { .. } => EventType::FileUpdated,
            Self::FileDeleted { .. } => EventType::FileDeleted,
            Self::ThreadCreated { .. } => EventType::ThreadCreated,
            Self::ThreadArchived { .. } => EventType::ThreadArchived,
            Self::ThreadDeleted { .. } => EventType::ThreadDeleted,
        }
    }

    /// Who hears about it: the project, and its owner across their projects.
    pub fn topics(&self) -> Vec<Topic> {
        let project = self.project();
        vec![
            Topic::Project(project.id.clone()),
            Topic::User(project.owner_id.clone()),
        ]
    }

    pub fn project(&self) -> &ProjectRef {
        match self {
            Self::ProjectCreated { project, .. }
            | Self::ProjectUpdated { project, .. }
            | Self::StatusChanged { project, .. }
            | Self::ProjectDeleted { project, .. }
            | Self::FilesUploaded { project, .. }
            | Self::FileUpdated { project, .. }
            | Self::FileDeleted { project, .. }
            | Self::ThreadCreated { project, .. }
            | Self::ThreadArchived { project, .. }
            | Self::ThreadDeleted { project, .. } => project,
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

/// Delivers every event to every synchronous subscriber, in order, before `publish`
/// returns (so a client that changed something sees it on the timeline at once), then
/// to the hub's topics without waiting for anyone.
#[derive(Clone)]
pub struct EventDispatcher {
    subscribers: Arc<[Arc<dyn EventSubscriber>]>,
    hub: EventHub,
}

impl EventDispatcher {
    pub fn new(subscribers: Vec<Arc<dyn EventSubscriber>>, hub: EventHub) -> Self {
        Self {
            subscribers: subscribers.into(),
            hub,
        }
    }

    /// The hub events go to, for push channels: subscribe by [`Topic`].
    pub fn hub(&self) -> &EventHub {
        &self.hub
    }

    /// The change is already committed when this runs: a subscriber that fails is
    /// logged and does not undo it or stop the others.
    pub async fn publish(&self, event: DomainEvent) {
        for subscriber in self.subscribers.iter() {
            if let Err(error) = subscriber.handle(&event).await {
                tracing::error!(subscriber = subscriber.name(), %error, ?event, "event subscriber failed");
            }
        }
        self.hub
            .publish(event.kind().as_str(), event.topics(), &event);
    }
}
