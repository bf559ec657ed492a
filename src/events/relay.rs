//! Relays events between instances over Redis pub/sub, so a subscriber on one instance sees a
//! comment added through another.

use std::time::Duration;

use futures_util::StreamExt;

use super::event::Event;
use crate::redis_link::RedisLink;
use crate::telemetry;

/// How long a publish may wait for Redis before the event is delivered locally only.
const PUBLISH_TIMEOUT: Duration = Duration::from_millis(200);

/// The Redis side of the bus: one shared connection to publish, one subscriber task.
#[derive(Clone)]
pub struct Relay {
    publisher: RedisLink,
    channel: String,
}

impl Relay {
    pub fn new(publisher: RedisLink, prefix: &str) -> Self {
        Self {
            publisher,
            channel: format!("{prefix}events"),
        }
    }

    /// Publishes to every instance; false when Redis could not take it.
    pub async fn publish(&self, event: &Event) -> bool {
        let Ok(payload) = serde_json::to_string(event) else {
            return false;
        };
        let mut conn = self.publisher.clone();
        let mut command = redis::cmd("PUBLISH");
        command.arg(&self.channel).arg(payload);
        let publish = telemetry::redis("PUBLISH", command.query_async::<i64>(&mut conn));
        match tokio::time::timeout(PUBLISH_TIMEOUT, publish).await {
            Ok(Ok(_)) => true,
            Ok(Err(error)) => {
                tracing::warn!(%error, "event relay: publish failed, delivering locally only");
                false
            }
            Err(_) => {
                tracing::warn!("event relay: publish timed out, delivering locally only");
                false
            }
        }
    }

    /// Forwards events from Redis to this process' subscribers, reconnecting after failures.
    pub fn spawn_listener(&self, deliver: impl Fn(Event) + Send + 'static) {
        let link = self.publisher.clone();
        let channel = self.channel.clone();
        tokio::spawn(async move {
            loop {
                match link.pubsub().await {
                    Ok(mut pubsub) => {
                        if let Err(error) = pubsub.subscribe(&channel).await {
                            tracing::warn!(%error, "event relay: subscribe failed");
                        } else {
                            let mut messages = pubsub.on_message();
                            while let Some(message) = messages.next().await {
                                let Ok(payload) = message.get_payload::<String>() else {
                                    continue;
                                };
                                match serde_json::from_str::<Event>(&payload) {
                                    Ok(event) => deliver(event),
                                    Err(error) => tracing::warn!(%error, "event relay: unreadable event"),
                                }
                            }
                            tracing::warn!("event relay: connection to Redis lost");
                        }
                    }
                    Err(error) => tracing::debug!(%error, "event relay: cannot connect to Redis"),
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
    }
}
