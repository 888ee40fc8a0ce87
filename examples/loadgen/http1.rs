//! A minimal HTTP/1.1 client over one keep-alive TCP connection: enough for Engine.IO
//! long-polling (GET and POST, `Content-Length` or chunked bodies).

use std::io;

use bytes::Bytes;
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::TcpStream;

/// One HTTP/1.1 connection.
pub(crate) struct HttpConn {
    stream: BufReader<TcpStream>,
    host: String,
    line: String,
}

fn bad(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_owned())
}

impl HttpConn {
    /// Connects to `addr` (closed with a reset when dropped, so no TIME_WAIT is left).
    pub(crate) async fn connect(addr: std::net::SocketAddr) -> io::Result<Self> {
        let tcp = TcpStream::connect(addr).await?;
        tcp.set_nodelay(true)?;
        tcp.set_zero_linger()?;
        Ok(Self {
            stream: BufReader::with_capacity(16 * 1024, tcp),
            host: addr.to_string(),
            line: String::new(),
        })
    }

    /// Sends one request and reads the whole response: (status, body).
    pub(crate) async fn request(
        &mut self,
        method: &str,
        target: &str,
        body: &[u8],
    ) -> io::Result<(u16, Bytes)> {
        let mut req = Vec::with_capacity(160 + body.len());
        req.extend_from_slice(format!("{method} {target} HTTP/1.1\r\nHost: {}\r\n", self.host).as_bytes());
        if method == "POST" {
            req.extend_from_slice(
                format!("Content-Type: text/plain;charset=UTF-8\r\nContent-Length: {}\r\n", body.len())
                    .as_bytes(),
            );
        }
        req.extend_from_slice(b"\r\n");
        req.extend_from_slice(body);
        self.stream.get_mut().write_all(&req).await?;

        self.line.clear();
        if self.stream.read_line(&mut self.line).await? == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "connection closed"));
        }
        let status: u16 = self
            .line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad("status line"))?;
        let mut length = None;
        let mut chunked = false;
        loop {
            self.line.clear();
            if self.stream.read_line(&mut self.line).await? == 0 {
                return Err(bad("headers cut short"));
            }
            let l = self.line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':') {
                let v = v.trim();
                if k.eq_ignore_ascii_case("content-length") {
                    length = Some(v.parse::<usize>().map_err(|_| bad("content-length"))?);
                } else if k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked") {
                    chunked = true;
                }
            }
        }
        let body = if chunked {
            let mut out = Vec::new();
            loop {
                self.line.clear();
                self.stream.read_line(&mut self.line).await?;
                let size = usize::from_str_radix(self.line.trim().split(';').next().unwrap_or(""), 16)
                    .map_err(|_| bad("chunk size"))?;
                let start = out.len();
                out.resize(start + size + 2, 0);
                self.stream.read_exact(&mut out[start..]).await?;
                out.truncate(start + size);
                if size == 0 {
                    break;
                }
            }
            out
        } else {
            let mut out = vec![0; length.unwrap_or(0)];
            self.stream.read_exact(&mut out).await?;
            out
        };
        Ok((status, Bytes::from(body)))
    }
}
