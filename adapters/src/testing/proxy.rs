//! A TCP proxy that a test puts between an adapter (or a whole server) and its real
//! database, then cuts: the dependency going away, without stopping a server other
//! tests share.

use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// A TCP proxy on a free local port in front of `target` (a real PostgreSQL,
/// MongoDB or Redis): a test points the server at [`Proxy::address`] and then [`Proxy::cut`]s
/// it to make that dependency go away.
pub struct Proxy {
    /// Where the proxy listens.
    pub address: SocketAddr,
    accept: JoinHandle<()>,
    connections: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Proxy {
    /// Starts forwarding every connection to `target`.
    pub async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binding the proxy");
        let address = listener.local_addr().expect("the proxy's address");
        let connections: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let held = connections.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let connection = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                held.lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .push(connection);
            }
        });
        Self {
            address,
            accept,
            connections,
        }
    }

    /// The dependency goes away: the listener closes (new connections are refused)
    /// and every open connection drops.
    pub fn cut(&self) {
        self.accept.abort();
        for connection in self
            .connections
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .drain(..)
        {
            connection.abort();
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.cut();
    }
}

/// The socket address of a URL such as `postgres://user@127.0.0.1:5432/db?…` or
/// `redis://localhost` (`default_port` when it names none), preferring IPv4 when its
/// host has several addresses.
pub fn address_of(url: &str, default_port: u16) -> SocketAddr {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let has_port = !host_port.ends_with(']')
        && host_port
            .rsplit_once(':')
            .is_some_and(|(_, port)| port.parse::<u16>().is_ok());
    let host_port = if has_port {
        host_port.to_owned()
    } else {
        format!("{host_port}:{default_port}")
    };
    let addresses: Vec<SocketAddr> = host_port
        .to_socket_addrs()
        .unwrap_or_else(|e| panic!("cannot resolve {host_port}: {e}"))
        .collect();
    addresses
        .iter()
        .find(|address| address.is_ipv4())
        .or(addresses.first())
        .copied()
        .unwrap_or_else(|| panic!("{host_port} has no address"))
}

/// `url` with its host and port replaced by `address`; user, path and query kept.
pub fn through(url: &str, address: SocketAddr) -> String {
    let (scheme, rest) = url
        .split_once("://")
        .unwrap_or_else(|| panic!("{url} has no scheme"));
    let (authority, tail) = rest.split_at(rest.find(['/', '?', '#']).unwrap_or(rest.len()));
    let user = authority
        .rsplit_once('@')
        .map(|(user, _)| format!("{user}@"));
    format!("{scheme}://{}{address}{tail}", user.unwrap_or_default())
}
