//! The options of `flaneur serve` naming the peers (the other instances it harvests) and the
//! limits of their harvests, checked into a [`FederationConfig`].
//!
//! Each address is checked alone as the command line is read, so that a bad one is named with
//! the configuration file's other problems; whether one points at this very instance needs the
//! listening address, so that is checked when the whole configuration is.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use flaneur_service::harvest::HarvestLimits;

use crate::Misuse;

/// Options of `flaneur serve` for harvesting other instances.
#[derive(Debug, Clone, clap::Args)]
pub struct FederationArgs {
    /// API root of another instance to harvest (`https://host/api`); repeat it for each one.
    /// `FLANEUR_PEERS` lists them separated by commas.
    #[arg(
        long = "peer",
        value_name = "URL",
        env = "FLANEUR_PEERS",
        value_delimiter = ',',
        value_parser = new_peer_url
    )]
    peers: Vec<String>,
    #[command(flatten)]
    limits: HarvestLimitArgs,
}

/// The pace and bounds of harvests, shared by `serve` and `flaneur harvest`.
#[derive(Debug, Clone, clap::Args)]
pub struct HarvestLimitArgs {
    /// Time between two harvests of a peer: a whole number with its unit, `s`, `m` or `h`
    /// (`15m`), from one minute to a week.
    #[arg(
        long,
        env = "FLANEUR_HARVEST_INTERVAL",
        default_value = "15m",
        value_parser = harvest_interval
    )]
    harvest_interval: Duration,
    /// Largest answer taken from a peer, in MiB; a larger one fails that harvest.
    #[arg(
        long,
        env = "FLANEUR_HARVEST_MAX_ANSWER_MB",
        default_value_t = 32,
        value_parser = clap::value_parser!(u64).range(1..=1024)
    )]
    harvest_max_answer_mb: u64,
    /// Seconds a peer has to answer one request of a harvest.
    #[arg(
        long,
        env = "FLANEUR_HARVEST_TIMEOUT_SECS",
        default_value_t = 30,
        value_parser = clap::value_parser!(u64).range(1..=600)
    )]
    harvest_timeout_secs: u64,
    /// Pages read at most in one listing of a peer; a longer listing fails that harvest, so a
    /// peer paging without end costs this many requests per pass.
    #[arg(
        long,
        env = "FLANEUR_HARVEST_MAX_PAGES",
        default_value_t = 10_000,
        value_parser = clap::value_parser!(u32).range(1..=1_000_000)
    )]
    harvest_max_pages: u32,
}

impl HarvestLimitArgs {
    /// The harvester's limits with these bounds.
    pub fn limits(&self) -> HarvestLimits {
        HarvestLimits {
            interval: self.harvest_interval,
            max_response_bytes: self.harvest_max_answer_mb << 20,
            request_timeout: Duration::from_secs(self.harvest_timeout_secs),
            max_pages: self.harvest_max_pages,
            ..HarvestLimits::default()
        }
    }
}

/// The peers and how they are harvested, as `serve` runs with them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FederationConfig {
    /// API roots of the peers, without a trailing slash and without repeats, in the order
    /// given.
    pub peers: Vec<String>,
    /// Time between two harvests of one peer.
    pub harvest_interval: Duration,
    /// Largest answer taken from a peer.
    pub max_answer_bytes: u64,
    /// Time a peer has to answer one request.
    pub request_timeout: Duration,
    /// Pages read at most in one listing.
    pub max_pages: u32,
}

impl FederationConfig {
    /// The harvester's limits for this configuration.
    pub fn limits(&self) -> HarvestLimits {
        HarvestLimits {
            interval: self.harvest_interval,
            max_response_bytes: self.max_answer_bytes,
            request_timeout: self.request_timeout,
            max_pages: self.max_pages,
            ..HarvestLimits::default()
        }
    }
}

impl FederationArgs {
    /// The checked configuration of the federation, for an instance listening on `listen`.
    ///
    /// # Errors
    /// [`Misuse`] naming every peer address that reaches this very instance.
    pub fn to_config(&self, listen: SocketAddr) -> Result<FederationConfig, Misuse> {
        let mut peers: Vec<String> = Vec::new();
        let mut problems = Vec::new();
        for peer in &self.peers {
            if is_this_instance(peer, listen) {
                problems.push(format!(
                    "peer {peer} is this instance itself (listening on {listen}): an instance \
                     does not harvest itself"
                ));
            } else if !peers.contains(peer) {
                peers.push(peer.clone());
            }
        }
        if !problems.is_empty() {
            return Err(Misuse(problems.join("; ")));
        }
        Ok(FederationConfig {
            peers,
            harvest_interval: self.limits.harvest_interval,
            max_answer_bytes: self.limits.harvest_max_answer_mb << 20,
            request_timeout: Duration::from_secs(self.limits.harvest_timeout_secs),
            max_pages: self.limits.harvest_max_pages,
        })
    }
}

const PEER_FORM: &str = "a peer is the API root of a Panoramax instance, such as \
     https://panoramax.example.org/api: http or https, without user, query or fragment";

/// Checks one peer address and gives it without its trailing slashes.
pub fn peer_url(text: &str) -> Result<String, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err(format!(
            "an empty address (a comma too many in FLANEUR_PEERS?); {PEER_FORM}"
        ));
    }
    let url = url::Url::parse(text).map_err(|e| format!("not an address ({e}); {PEER_FORM}"))?;
    let problem = if !matches!(url.scheme(), "http" | "https") {
        Some("its scheme is not http or https")
    } else if url.host_str().is_none_or(str::is_empty) {
        Some("it names no host")
    } else if !url.username().is_empty() || url.password().is_some() {
        Some("it holds a user name or password")
    } else if url.query().is_some() {
        Some("it has a query")
    } else if url.fragment().is_some() {
        Some("it has a fragment")
    } else {
        None
    };
    if let Some(problem) = problem {
        return Err(format!("{problem}; {PEER_FORM}"));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// Checks the address of a peer being declared, as [`peer_url`] does, and refuses the bare
/// address of a site: an instance's API lives under a path of its site, and the site's own
/// address would only fail at the first harvest, with a 404 that does not say why. Peers
/// declared before are still found by [`peer_url`], to be removed.
pub fn new_peer_url(text: &str) -> Result<String, String> {
    let url = peer_url(text)?;
    let has_path = url::Url::parse(&url).is_ok_and(|u| !u.path().trim_matches('/').is_empty());
    if has_path {
        return Ok(url);
    }
    Err(format!(
        "{url} is the address of a site, not of its API: the address should be the \
         instance's API root, such as {url}/api"
    ))
}

/// Whether a checked peer address reaches the instance listening on `listen`: the same port
/// on a loopback host, or on the very address listened on. Other names of this machine cannot
/// be told from here.
fn is_this_instance(peer: &str, listen: SocketAddr) -> bool {
    let Ok(url) = url::Url::parse(peer) else {
        return false;
    };
    if url.port_or_known_default() != Some(listen.port()) {
        return false;
    }
    match url.host() {
        Some(url::Host::Domain(name)) => {
            let name = name.trim_end_matches('.');
            name.eq_ignore_ascii_case("localhost")
                || name.to_ascii_lowercase().ends_with(".localhost")
        }
        Some(url::Host::Ipv4(ip)) => is_listened(IpAddr::V4(ip), listen),
        Some(url::Host::Ipv6(ip)) => is_listened(IpAddr::V6(ip), listen),
        None => false,
    }
}

/// Whether the instance listening on `listen` answers at `ip` (on the same port).
fn is_listened(ip: IpAddr, listen: SocketAddr) -> bool {
    ip.is_loopback() || ip == listen.ip() || (listen.ip().is_unspecified() && ip.is_unspecified())
}

/// Reads a harvest interval: a whole number and its unit.
fn harvest_interval(text: &str) -> Result<Duration, String> {
    const FORM: &str = "write a whole number and its unit, s, m or h (900s, 15m, 1h), from one \
         minute to a week";
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let unit_secs = match unit.trim() {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        _ => return Err(format!("not a duration: {FORM}")),
    };
    let secs = number
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(unit_secs))
        .ok_or_else(|| format!("not a duration: {FORM}"))?;
    if !(60..=7 * 24 * 3600).contains(&secs) {
        return Err(format!("out of range: {FORM}"));
    }
    Ok(Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_peer_loses_its_trailing_slashes_and_keeps_its_path() {
        assert_eq!(
            peer_url(" https://panoramax.example.org/api/ ").as_deref(),
            Ok("https://panoramax.example.org/api")
        );
        assert_eq!(
            peer_url("http://127.0.0.1:5001/api//").as_deref(),
            Ok("http://127.0.0.1:5001/api")
        );
        assert_eq!(
            peer_url("https://Example.ORG:443/api").as_deref(),
            Ok("https://example.org/api")
        );
    }

    #[test]
    fn a_peer_that_is_not_a_plain_web_address_is_refused_saying_why() {
        for (text, why) in [
            ("panoramax.example.org/api", "not an address"),
            ("ftp://example.org/api", "not http or https"),
            (
                "https://user:secret@example.org/api",
                "user name or password",
            ),
            ("https://user@example.org/api", "user name or password"),
            ("https://example.org/api?limit=1", "query"),
            ("https://example.org/api#top", "fragment"),
            ("file:///srv/api", "not http or https"),
            ("", "a comma too many"),
            (" ", "an empty address"),
        ] {
            let err = peer_url(text).expect_err(text);
            assert!(err.contains(why), "{text}: {err}");
            assert!(err.contains("https://panoramax.example.org/api"), "{err}");
        }
    }

    #[test]
    fn a_new_peer_at_a_site_address_is_refused_naming_its_api_root() {
        for text in [
            "http://127.0.0.1:5001",
            "https://example.org/",
            "https://example.org//",
        ] {
            let err = new_peer_url(text).expect_err(text);
            let root = text.trim_end_matches('/');
            assert!(err.contains(&format!("such as {root}/api")), "{err}");
            assert!(err.contains("API root"), "{err}");
            // One declared before is still named, to be removed.
            assert_eq!(peer_url(text).as_deref(), Ok(root));
        }
        assert_eq!(
            new_peer_url("https://example.org/panoramax/api/").as_deref(),
            Ok("https://example.org/panoramax/api")
        );
        assert!(new_peer_url("ftp://example.org/api").is_err());
    }

    fn args(peers: &[&str]) -> FederationArgs {
        FederationArgs {
            peers: peers.iter().map(|p| peer_url(p).expect("valid")).collect(),
            limits: HarvestLimitArgs {
                harvest_interval: Duration::from_secs(900),
                harvest_max_answer_mb: 2,
                harvest_timeout_secs: 7,
                harvest_max_pages: 10,
            },
        }
    }

    #[test]
    fn a_peer_reaching_this_instance_is_refused() {
        let listen: SocketAddr = "127.0.0.1:5000".parse().expect("address");
        for peer in [
            "http://127.0.0.1:5000/api",
            "http://localhost:5000/api",
            "http://[::1]:5000/api",
            "http://127.0.0.2:5000/api",
        ] {
            let err = args(&[peer]).to_config(listen).expect_err(peer);
            assert!(err.0.contains(peer) && err.0.contains("itself"), "{err}");
        }
        let all = "0.0.0.0:80".parse().expect("address");
        assert!(args(&["http://0.0.0.0/api"]).to_config(all).is_err());
        assert!(args(&["http://localhost/api"]).to_config(all).is_err());
    }

    #[test]
    fn peers_elsewhere_are_kept_once_in_order_with_the_limits() {
        let listen: SocketAddr = "127.0.0.1:5000".parse().expect("address");
        let config = args(&[
            "http://127.0.0.1:5001/api",
            "https://b.example.org/api",
            "http://127.0.0.1:5001/api/",
        ])
        .to_config(listen)
        .expect("valid");
        assert_eq!(
            config,
            FederationConfig {
                peers: vec![
                    "http://127.0.0.1:5001/api".to_owned(),
                    "https://b.example.org/api".to_owned(),
                ],
                harvest_interval: Duration::from_secs(900),
                max_answer_bytes: 2 << 20,
                request_timeout: Duration::from_secs(7),
                max_pages: 10,
            }
        );
        assert_eq!(config.limits().max_pages, 10);
        assert_eq!(args(&[]).limits.limits().max_pages, 10);
    }

    #[test]
    fn an_interval_needs_its_unit_and_a_sensible_length() {
        assert_eq!(harvest_interval("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(harvest_interval("900s"), Ok(Duration::from_secs(900)));
        assert_eq!(harvest_interval("2h"), Ok(Duration::from_secs(7200)));
        for bad in [
            "900",
            "15 min",
            "m",
            "-5m",
            "1.5h",
            "30s",
            "8000h",
            "99999999999999999999h",
        ] {
            let err = harvest_interval(bad).expect_err(bad);
            assert!(err.contains("15m"), "{bad}: {err}");
        }
    }
}
