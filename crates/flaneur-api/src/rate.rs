//! How often one client may call the routes that write a row for anyone asking: starting a
//! login (`GET /api/auth/login`) and generating a token (`POST /api/auth/tokens/generate`).
//!
//! Each client address has a bucket of as many requests as a minute allows, refilled evenly
//! over the minute; a request finding it empty is answered 429 with the seconds to wait in
//! `Retry-After`. IPv6 clients are counted by their /64 network, since one machine usually
//! holds a whole one. Buckets live in the memory of each process: behind several processes a
//! client gets the limit of each. The catalog caps the rows these routes write as well (the
//! oldest go first), so the limit only keeps one client from pushing others' out.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::StatusCode;
use axum::http::header::RETRY_AFTER;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::{ApiError, AppState};

/// Clients whose buckets are kept before full ones (those of clients quiet for a minute) are
/// dropped; when all are in use, every bucket is dropped rather than memory grown further.
const MAX_CLIENTS: usize = 10_000;

/// The buckets of one kind of request.
#[derive(Debug, Default)]
pub struct RateLimit {
    /// Requests allowed per minute and client; `0` for no limit.
    per_minute: u32,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    /// Requests still allowed, refilled since `at`.
    left: f64,
    at: Instant,
}

impl RateLimit {
    /// `per_minute` requests per minute and client, in bursts of as many; `0`: no limit.
    pub fn per_minute(per_minute: u32) -> RateLimit {
        RateLimit {
            per_minute,
            buckets: Mutex::default(),
        }
    }

    /// Counts a request of `client` at `now`: `Err` with how long to wait when its bucket is
    /// empty.
    fn take(&self, client: IpAddr, now: Instant) -> Result<(), Duration> {
        if self.per_minute == 0 {
            return Ok(());
        }
        let capacity = f64::from(self.per_minute);
        let per_sec = capacity / 60.0;
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if buckets.len() >= MAX_CLIENTS {
            buckets.retain(|_, b| b.refilled(now, per_sec, capacity) < capacity);
            if buckets.len() >= MAX_CLIENTS {
                buckets.clear();
            }
        }
        let bucket = buckets.entry(network(client)).or_insert(Bucket {
            left: capacity,
            at: now,
        });
        bucket.left = bucket.refilled(now, per_sec, capacity);
        bucket.at = now;
        if bucket.left >= 1.0 {
            bucket.left -= 1.0;
            return Ok(());
        }
        Err(Duration::from_secs_f64((1.0 - bucket.left) / per_sec))
    }
}

impl Bucket {
    fn refilled(&self, now: Instant, per_sec: f64, capacity: f64) -> f64 {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        (self.left + elapsed * per_sec).min(capacity)
    }
}

/// What a client is counted as: its address, or for IPv6 its /64 network.
fn network(client: IpAddr) -> IpAddr {
    match client.to_canonical() {
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !u128::from(u64::MAX))),
        v4 => v4,
    }
}

/// The address of a request's client: the connection's peer, or behind a reverse proxy whose
/// forwarded headers are trusted, the last address of `X-Forwarded-For` (the one the proxy
/// saw, which the client cannot forge).
fn client(parts: &Parts, state: &AppState) -> Option<IpAddr> {
    if state.trust_forwarded_headers {
        let forwarded = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .last()
            .and_then(|a| a.trim().parse().ok());
        if forwarded.is_some() {
            return forwarded;
        }
    }
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(peer)| peer.ip())
}

/// A request of a route limited by [`crate::AuthSettings::login_rate`]: extracting it counts
/// the request, and refuses it with a 429 when its client has used up its minute.
#[derive(Debug, Clone, Copy)]
pub struct LoginRate;

impl FromRequestParts<AppState> for LoginRate {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        // Without a known address (a request made in-process), nothing is counted.
        let Some(address) = client(parts, state) else {
            return Ok(LoginRate);
        };
        let Err(wait) = state.auth.login_rate.take(address, Instant::now()) else {
            return Ok(LoginRate);
        };
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        let secs = secs.max(1);
        let body = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "Too many logins or token generations from your address; try again in {secs} s"
            ),
        )
        .with("retry_after_secs", json!(secs));
        let mut response = body.into_response();
        response.headers_mut().insert(RETRY_AFTER, secs.into());
        Err(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("address")
    }

    #[test]
    fn a_client_gets_its_minute_in_a_burst_then_one_request_at_a_time() {
        let limit = RateLimit::per_minute(3);
        let start = Instant::now();
        for _ in 0..3 {
            assert_eq!(limit.take(ip("192.0.2.1"), start), Ok(()));
        }
        let wait = limit.take(ip("192.0.2.1"), start).expect_err("limited");
        assert_eq!(wait.as_secs(), 20, "one request every 20 s");
        assert_eq!(limit.take(ip("192.0.2.2"), start), Ok(()), "another client");
        let later = start + Duration::from_secs(20);
        assert_eq!(limit.take(ip("192.0.2.1"), later), Ok(()));
        assert!(limit.take(ip("192.0.2.1"), later).is_err());
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_network() {
        let limit = RateLimit::per_minute(1);
        let now = Instant::now();
        assert_eq!(limit.take(ip("2001:db8:1:2::1"), now), Ok(()));
        assert!(limit.take(ip("2001:db8:1:2:ffff::9"), now).is_err());
        assert_eq!(limit.take(ip("2001:db8:1:3::1"), now), Ok(()));
        assert_eq!(limit.take(ip("::ffff:192.0.2.7"), now), Ok(()));
        assert!(
            limit.take(ip("192.0.2.7"), now).is_err(),
            "the same IPv4 client"
        );
    }

    #[test]
    fn no_limit_when_set_to_zero_and_quiet_clients_are_dropped_when_many() {
        let unlimited = RateLimit::per_minute(0);
        let now = Instant::now();
        for _ in 0..100 {
            assert_eq!(unlimited.take(ip("192.0.2.1"), now), Ok(()));
        }

        let limit = RateLimit::per_minute(60);
        for n in 0..MAX_CLIENTS {
            let octets = u32::try_from(n).expect("small").to_be_bytes();
            let address = IpAddr::from([10, octets[1], octets[2], octets[3]]);
            assert_eq!(limit.take(address, now), Ok(()));
        }
        let later = now + Duration::from_secs(60);
        assert_eq!(limit.take(ip("192.0.2.1"), later), Ok(()));
        let kept = limit.buckets.lock().expect("buckets").len();
        assert_eq!(kept, 1, "every earlier client was quiet for a minute");
    }
}
