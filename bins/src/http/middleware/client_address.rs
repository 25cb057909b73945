//! The client's address: the peer of the connection, unless that peer is one of the
//! trusted proxies (`EMPORIUM_TRUSTED_PROXIES`, e.g. the gateway), in which case the
//! address the proxies recorded in `X-Forwarded-For`. The header is read from the
//! right: each trusted proxy appends the address it received from, so the right-most
//! address that is not a trusted proxy is the client (anything left of it was sent by
//! the client and proves nothing). A peer that is not trusted is the client, whatever
//! header it sends.

use std::net::IpAddr;

use ipnet::IpNet;
use poem::Request;

/// The proxies whose `X-Forwarded-For` is believed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Proxies at these addresses or networks.
    pub fn new(networks: Vec<IpNet>) -> Self {
        Self(networks)
    }

    fn trusts(&self, address: IpAddr) -> bool {
        self.0.iter().any(|network| network.contains(&address))
    }

    /// The client address of `request` (`None` when the peer has no IP address).
    pub fn client_of(&self, request: &Request) -> Option<IpAddr> {
        let peer = request.remote_addr().as_socket_addr()?.ip();
        let forwarded: Vec<&str> = request
            .headers()
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .collect();
        Some(self.client(peer, &forwarded))
    }

    /// The client behind `peer`, given the `X-Forwarded-For` header values.
    pub fn client(&self, peer: IpAddr, forwarded: &[&str]) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        let hops = forwarded
            .iter()
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .rev();
        let mut client = peer;
        for hop in hops {
            match hop.parse::<IpAddr>() {
                Ok(address) => {
                    client = address;
                    if !self.trusts(address) {
                        break;
                    }
                }
                // Garbage: the hop before it is the last one a trusted proxy vouched for.
                Err(_) => break,
            }
        }
        client
    }
}

/// A trusted proxy: an address (`10.0.0.7`) or a network (`10.0.0.0/8`).
pub fn parse_network(text: &str) -> Result<IpNet, String> {
    let text = text.trim();
    text.parse::<IpNet>()
        .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| format!("{text:?} is not an IP address or network (e.g. 10.0.0.0/8)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proxies(list: &[&str]) -> TrustedProxies {
        TrustedProxies::new(list.iter().map(|n| parse_network(n).unwrap()).collect())
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn only_trusted_peers_are_believed() {
        let gateway = proxies(&["10.0.0.0/8"]);
        // An untrusted peer is the client, whatever it claims.
        assert_eq!(
            gateway.client(ip("203.0.113.9"), &["1.2.3.4"]),
            ip("203.0.113.9")
        );
        // Through the gateway: the address the gateway recorded.
        assert_eq!(
            gateway.client(ip("10.0.0.7"), &["198.51.100.2"]),
            ip("198.51.100.2")
        );
        // A client that sends its own header cannot hide behind it: the gateway
        // appended the real address on the right.
        assert_eq!(
            gateway.client(ip("10.0.0.7"), &["6.6.6.6, 198.51.100.2"]),
            ip("198.51.100.2")
        );
        // Two trusted hops.
        assert_eq!(
            gateway.client(ip("10.0.0.7"), &["198.51.100.2", "10.1.1.1"]),
            ip("198.51.100.2")
        );
        // Garbage after a trusted hop: the last address vouched for.
        assert_eq!(
            gateway.client(ip("10.0.0.7"), &["nonsense"]),
            ip("10.0.0.7")
        );
        assert_eq!(gateway.client(ip("10.0.0.7"), &[]), ip("10.0.0.7"));
        // No trusted proxies: the peer, always.
        assert_eq!(
            proxies(&[]).client(ip("10.0.0.7"), &["1.2.3.4"]),
            ip("10.0.0.7")
        );
    }

    #[test]
    fn networks_and_addresses_parse() {
        assert!(parse_network("127.0.0.1").is_ok());
        assert!(parse_network("::1").is_ok());
        assert!(parse_network("192.168.0.0/16").is_ok());
        assert!(parse_network("nope").is_err());
        assert!(parse_network("10.0.0.0/33").is_err());
    }
}
