//! The thread page's WebSocket (browser only): JSON frames in and out, and automatic
//! reconnection with backoff (1 s doubling to 30 s) after a drop, plus a
//! "Reconnect now". The session cookie authenticates it; the page's own origin
//! passes the server's Origin check.

use std::{cell::RefCell, rc::Rc, time::Duration};

use kiln_types::{ClientCommand, ServerFrame};
use leptos::prelude::set_timeout;
use wasm_bindgen::{JsCast, closure::Closure};
use web_sys::{CloseEvent, MessageEvent, WebSocket};

/// Where the socket is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connection {
    Connecting,
    Open,
    /// Dropped; trying again in this many seconds.
    Retrying(u64),
    /// The thread was deleted (the server closed with 4404): no reconnecting.
    Deleted,
}

/// The close code the server ends a deleted thread's sockets with.
const THREAD_DELETED: u16 = 4404;

type FrameHandler = Rc<dyn Fn(ServerFrame)>;
type StateHandler = Rc<dyn Fn(Connection)>;

struct Inner {
    url: String,
    socket: Option<WebSocket>,
    attempts: u32,
    closing: bool,
    on_frame: FrameHandler,
    on_state: StateHandler,
    /// Kept alive as long as the socket uses them.
    handlers: Vec<Box<dyn std::any::Any>>,
}

#[derive(Clone)]
pub struct ChatSocket {
    inner: Rc<RefCell<Inner>>,
}

impl ChatSocket {
    pub fn connect(
        thread_id: &str,
        on_frame: impl Fn(ServerFrame) + 'static,
        on_state: impl Fn(Connection) + 'static,
    ) -> Self {
        let location = web_sys::window().map(|w| w.location());
        let host = location
            .as_ref()
            .and_then(|l| l.host().ok())
            .unwrap_or_default();
        let scheme = match location.and_then(|l| l.protocol().ok()).as_deref() {
            Some("https:") => "wss",
            _ => "ws",
        };
        let socket = Self {
            inner: Rc::new(RefCell::new(Inner {
                url: format!("{scheme}://{host}/api/threads/{thread_id}/ws"),
                socket: None,
                attempts: 0,
                closing: false,
                on_frame: Rc::new(on_frame),
                on_state: Rc::new(on_state),
                handlers: Vec::new(),
            })),
        };
        socket.open();
        socket
    }

    fn open(&self) {
        let on_state = self.inner.borrow().on_state.clone();
        on_state(Connection::Connecting);
        let url = self.inner.borrow().url.clone();
        let Ok(ws) = WebSocket::new(&url) else {
            self.retry_later();
            return;
        };
        let on_frame = self.inner.borrow().on_frame.clone();
        let message = Closure::<dyn Fn(MessageEvent)>::new(move |event: MessageEvent| {
            if let Some(text) = event.data().as_string()
                && let Ok(frame) = crate::json::from_text::<ServerFrame>(&text)
            {
                on_frame(frame);
            }
        });
        let opened = {
            let this = self.clone();
            Closure::<dyn Fn()>::new(move || {
                this.inner.borrow_mut().attempts = 0;
                let on_state = this.inner.borrow().on_state.clone();
                on_state(Connection::Open);
            })
        };
        let closed = {
            let this = self.clone();
            Closure::<dyn Fn(CloseEvent)>::new(move |event: CloseEvent| {
                if event.code() == THREAD_DELETED {
                    let on_state = {
                        let mut inner = this.inner.borrow_mut();
                        inner.closing = true;
                        inner.socket = None;
                        inner.on_state.clone()
                    };
                    on_state(Connection::Deleted);
                } else if !this.inner.borrow().closing {
                    this.retry_later();
                }
            })
        };
        ws.set_onmessage(Some(message.as_ref().unchecked_ref()));
        ws.set_onopen(Some(opened.as_ref().unchecked_ref()));
        ws.set_onclose(Some(closed.as_ref().unchecked_ref()));
        let mut inner = self.inner.borrow_mut();
        inner.handlers = vec![Box::new(message), Box::new(opened), Box::new(closed)];
        inner.socket = Some(ws);
    }

    fn retry_later(&self) {
        let attempts = {
            let mut inner = self.inner.borrow_mut();
            inner.socket = None;
            inner.attempts += 1;
            inner.attempts
        };
        let seconds = (1_u64 << attempts.min(5).saturating_sub(1)).min(30);
        let on_state = self.inner.borrow().on_state.clone();
        on_state(Connection::Retrying(seconds));
        let this = self.clone();
        set_timeout(
            move || {
                let idle = this.inner.borrow().socket.is_none() && !this.inner.borrow().closing;
                if idle {
                    this.open();
                }
            },
            Duration::from_secs(seconds),
        );
    }

    /// Reconnects at once (the "Reconnect" button).
    pub fn reconnect_now(&self) {
        if self.inner.borrow().socket.is_none() {
            self.open();
        }
    }

    /// Sends `command`; `false` when the socket is not open.
    pub fn send(&self, command: &ClientCommand) -> bool {
        let inner = self.inner.borrow();
        let Some(socket) = inner.socket.as_ref() else {
            return false;
        };
        socket.ready_state() == WebSocket::OPEN
            && serde_json::to_string(command)
                .ok()
                .is_some_and(|text| socket.send_with_str(&text).is_ok())
    }

    /// Closes for good (the page is left).
    pub fn close(&self) {
        let mut inner = self.inner.borrow_mut();
        inner.closing = true;
        if let Some(socket) = inner.socket.take() {
            let _ = socket.close();
        }
    }
}
