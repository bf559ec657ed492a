//! Deterministic DataLoader batching without a timer.
//!
//! Measured gain: a nested page (q2) in 3 statements instead of 4, whatever the page size or the
//! worker count (`cargo test --test it execution` asserts the statement counts).
//!
//! A loader does not spawn its fetch onto the runtime (where another worker could run it before
//! the rest of the resolver tree has enqueued its keys); it hands it to this request's queue.
//! [`BatchQueue::drive`] polls the GraphQL execution first, so that every resolver ready in this
//! tick enqueues its keys, and only then polls the queued fetches: one statement per relation
//! and tick, whatever the page size or the number of worker threads. When the execution yields
//! on its own (large lists are polled in slices), the fetches wait for the next slice.
//!
//! Fetches of a deferred loader (users: every other row names some; the viewer's likes) start
//! only when no other fetch is running, so the rows those fetches return add their keys to the
//! same batch: a page of posts with their comments looks up post and comment authors in one
//! statement, not two. Deferred fetches then run together, in one round.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

use futures_util::future::BoxFuture;
use futures_util::stream::{FuturesUnordered, StreamExt};

type Fetches = Arc<Mutex<Vec<BoxFuture<'static, ()>>>>;

/// The fetches waiting to run for one request.
#[derive(Clone, Default)]
pub struct BatchQueue {
    ready: Fetches,
    deferred: Fetches,
}

impl BatchQueue {
    /// The spawner given to each DataLoader of the request.
    pub fn spawner(&self) -> impl Fn(BoxFuture<'static, ()>) + Send + Sync + 'static {
        Self::push_to(self.ready.clone())
    }

    /// The spawner of a deferred loader: its fetches wait until no other fetch is running.
    pub fn deferred_spawner(&self) -> impl Fn(BoxFuture<'static, ()>) + Send + Sync + 'static {
        Self::push_to(self.deferred.clone())
    }

    fn push_to(fetches: Fetches) -> impl Fn(BoxFuture<'static, ()>) + Send + Sync + 'static {
        move |task| fetches.lock().unwrap_or_else(|e| e.into_inner()).push(task)
    }

    fn take(fetches: &Fetches) -> Vec<BoxFuture<'static, ()>> {
        std::mem::take(&mut *fetches.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Runs `main` (the execution) together with the fetches its loaders queue.
    pub async fn drive<F: Future>(self, main: F) -> F::Output {
        let mut main = std::pin::pin!(main);
        let mut fetches: FuturesUnordered<BoxFuture<'static, ()>> = FuturesUnordered::new();
        std::future::poll_fn(move |cx: &mut Context<'_>| {
            loop {
                let probe = Arc::new(WakeProbe {
                    woken: AtomicBool::new(false),
                    inner: cx.waker().clone(),
                });
                let waker = Waker::from(probe.clone());
                if let Poll::Ready(output) = Pin::as_mut(&mut main).poll(&mut Context::from_waker(&waker)) {
                    return Poll::Ready(output);
                }
                // The execution yielded with work left: let it finish enqueueing keys first.
                if probe.woken.load(Ordering::Acquire) {
                    return Poll::Pending;
                }
                fetches.extend(Self::take(&self.ready));
                if fetches.is_empty() {
                    fetches.extend(Self::take(&self.deferred));
                }
                let mut finished_any = false;
                while let Poll::Ready(Some(())) = fetches.poll_next_unpin(cx) {
                    finished_any = true;
                }
                // A finished fetch has answered some resolvers: run them now, in the same poll.
                if !finished_any {
                    return Poll::Pending;
                }
            }
        })
        .await
    }
}

/// Forwards wake-ups and records that one happened during a poll.
struct WakeProbe {
    woken: AtomicBool,
    inner: Waker,
}

impl Wake for WakeProbe {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        self.inner.wake_by_ref();
    }
}
