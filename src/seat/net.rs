//! Where a classroom reaches the seat server: `--bind 0.0.0.0` listens everywhere, but
//! students need an address of this machine, not `0.0.0.0`.

use std::net::{IpAddr, SocketAddr};

/// The addresses to print for a server listening on `bound`: itself when it is a
/// specific address; else every address of this machine's interfaces of the same
/// family (non-loopback first, so the first is the one to hand out), with loopback last.
pub fn reachable(bound: SocketAddr) -> Vec<SocketAddr> {
    if !bound.ip().is_unspecified() {
        return vec![bound];
    }
    let mut found: Vec<IpAddr> = if_addrs::get_if_addrs()
        .map(|ifaces| ifaces.into_iter().map(|i| i.ip()).collect())
        .unwrap_or_default();
    found.retain(|ip| ip.is_ipv4() == bound.is_ipv4());
    // IPv6 link-local addresses need a zone to be usable in a URL: left out.
    found.retain(|ip| match ip {
        IpAddr::V6(v6) => (v6.segments()[0] & 0xffc0) != 0xfe80,
        IpAddr::V4(_) => true,
    });
    found.sort_by_key(|ip| (ip.is_loopback(), *ip));
    found.dedup();
    if found.is_empty() {
        found.push(if bound.is_ipv4() {
            IpAddr::from([127, 0, 0, 1])
        } else {
            IpAddr::from([0u16, 0, 0, 0, 0, 0, 0, 1])
        });
    }
    found
        .into_iter()
        .map(|ip| SocketAddr::new(ip, bound.port()))
        .collect()
}

/// `http://addr` with IPv6 addresses bracketed.
pub fn http(addr: SocketAddr) -> String {
    format!("http://{addr}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_specific_address_is_itself_and_any_address_becomes_real_ones() {
        let one: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        assert_eq!(reachable(one), vec![one]);
        let any: SocketAddr = "0.0.0.0:8080".parse().unwrap();
        let found = reachable(any);
        assert!(!found.is_empty());
        assert!(found
            .iter()
            .all(|a| !a.ip().is_unspecified() && a.port() == 8080));
        // Loopback, if listed, comes last: the first is the one students can use.
        let last_non_loopback = found.iter().rposition(|a| !a.ip().is_loopback());
        let first_loopback = found.iter().position(|a| a.ip().is_loopback());
        if let (Some(l), Some(f)) = (last_non_loopback, first_loopback) {
            assert!(l < f);
        }
        assert_eq!(http("[::1]:80".parse().unwrap()), "http://[::1]:80");
    }
}
