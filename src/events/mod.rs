//! Domain events for subscriptions. Events carry ids only: each subscriber loads the row when it
//! delivers it, with its own viewer's visibility rules. Published in process here; with Redis the
//! bus also relays them between instances (see `relay`).

use tokio::sync::broadcast;

mod event;
mod relay;
pub use event::{CategoryLabel, Event};
pub use relay::Relay;

/// How many events a slow subscriber may lag behind before it skips some.
const CAPACITY: usize = 1024;

/// Fans events out to the subscribers of this process.
#[derive(Clone)]
pub struct EventBus {
    local: broadcast::Sender<Event>,
    relay: Option<Relay>,
}

impl EventBus {
    pub fn new(relay: Option<Relay>) -> Self {
        let (local, _) = broadcast::channel(CAPACITY);
        Self { local, relay }
    }

    /// Publishes an event after the write that caused it committed. With Redis the event goes
    /// through the shared channel (every instance, this one included, receives it from there);
    /// if Redis fails it is still delivered to this instance's subscribers.
    pub async fn publish(&self, event: Event) {
        if let Some(relay) = &self.relay
            && relay.publish(&event).await
        {
            return;
        }
        self.deliver_locally(event);
    }

    /// Hands an event to this process' subscribers (no receivers is fine).
    pub fn deliver_locally(&self, event: Event) {
        let _ = self.local.send(event);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.local.subscribe()
    }

    /// Subscribers currently connected to this process.
    pub fn subscriber_count(&self) -> usize {
        self.local.receiver_count()
    }
}
