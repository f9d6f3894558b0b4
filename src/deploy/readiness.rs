//! The readiness check after a live verdict: a refused connection or a 4xx fails at once; a
//! timeout or a 5xx (503 while warming up, 502 from a proxy mid-swap) is retried with exponential
//! backoff and full jitter, inside a total budget that no request outlasts.

use std::time::Duration;

use super::http::{self, Client};
use crate::clock::{Clock, Jitter};
use crate::time::show;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readiness {
    /// Ready, this long after the check began.
    Ready {
        after: Duration,
    },
    NotReady {
        reason: String,
    },
}

/// Checks `url` until it answers 2xx, fails for good, or `budget` is spent.
pub fn check(
    client: &Client,
    url: &str,
    budget: Duration,
    clock: &dyn Clock,
    jitter: &mut Jitter,
) -> Readiness {
    let start = clock.elapsed();
    // The first retry waits up to a fortieth of the budget (750ms of 30s); each one doubles it.
    let base = budget / 40;
    let not_ready = |reason: String| Readiness::NotReady {
        reason: format!("{}: {reason}", http::redact(url)),
    };
    for attempt in 0u32.. {
        let left = budget.saturating_sub(clock.elapsed() - start);
        let last = match client.get_within(url, left) {
            Ok(r) if (200..300).contains(&r.status) => {
                return Readiness::Ready {
                    after: clock.elapsed() - start,
                };
            }
            Ok(r) if r.status >= 500 => format!("HTTP {}", r.status),
            Ok(r) => return not_ready(format!("HTTP {}", r.status)),
            Err(http::Error::Timeout { limit, .. }) => format!("no answer within {}", show(limit)),
            Err(http::Error::Refused { .. }) => return not_ready("connection refused".to_owned()),
            Err(http::Error::Other { message, .. }) => return not_ready(message),
            Err(e @ http::Error::Untrusted { .. }) => return not_ready(e.to_string()),
        };
        let ceiling = base.saturating_mul(1 << attempt.min(16));
        let delay = jitter.up_to(ceiling.min(budget / 4));
        let spent = clock.elapsed() - start;
        if spent + delay >= budget {
            return not_ready(format!(
                "not ready within {} ({} attempts; last: {last})",
                show(budget),
                attempt + 1
            ));
        }
        clock.sleep(delay);
    }
    unreachable!("the loop returns once the budget is spent")
}
