//! What the server writes to a client, between pgwire's encoder and the
//! socket: counted (the bytes-out metric), and cleaned of the one message
//! pgwire 0.41 sends that PostgreSQL's server never does.
//!
//! When a COPY's rows fail mid-stream (a cancel, the statement timeout, a
//! row limit, a division by zero), pgwire sends a `CopyFail` before the
//! ErrorResponse. CopyFail is a frontend message; clients reading it from
//! a server lose the protocol (tokio-postgres: "error parsing response",
//! psql: "unexpected message type"). PostgreSQL sends only the
//! ErrorResponse, which ends the COPY; so the CopyFail is dropped here.

use bytes::{Buf, BytesMut};
use prometheus_client::metrics::counter::Counter;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The backend message type pgwire must not send (see the module doc).
const COPY_FAIL: u8 = b'f';

/// Output kept before the socket is asked to take it.
const HIGH_WATER: usize = 64 * 1024;

/// A client socket whose output is read message by message (type byte,
/// 4-byte length, body) as it passes.
pub(crate) struct WireOut<IO> {
    inner: IO,
    /// Bytes accepted from the encoder, not yet written to the socket.
    out: BytesMut,
    /// The current message's header, while it is being read.
    header: [u8; 5],
    have: usize,
    /// Body bytes of the current message still to come.
    remaining: usize,
    /// Whether the current message is dropped.
    dropping: bool,
    /// Bytes written to clients, server-wide.
    sent: Counter,
}

impl<IO> WireOut<IO> {
    pub(crate) fn new(inner: IO, sent: Counter) -> Self {
        WireOut {
            inner,
            out: BytesMut::with_capacity(8 * 1024),
            header: [0; 5],
            have: 0,
            remaining: 0,
            dropping: false,
            sent,
        }
    }

    /// Takes `buf` from the encoder: every message but a CopyFail goes on.
    fn accept(&mut self, buf: &[u8]) {
        let mut i = 0;
        while i < buf.len() {
            if self.remaining == 0 {
                let k = (5 - self.have).min(buf.len() - i);
                self.header[self.have..self.have + k].copy_from_slice(&buf[i..i + k]);
                self.have += k;
                i += k;
                if self.have == 5 {
                    let len = u32::from_be_bytes(self.header[1..5].try_into().expect("4 bytes"));
                    self.dropping = self.header[0] == COPY_FAIL;
                    if !self.dropping {
                        self.out.extend_from_slice(&self.header);
                    }
                    self.remaining = (len as usize).saturating_sub(4);
                    self.have = 0;
                }
            } else {
                let k = self.remaining.min(buf.len() - i);
                if !self.dropping {
                    self.out.extend_from_slice(&buf[i..i + k]);
                }
                self.remaining -= k;
                i += k;
            }
        }
    }
}

impl<IO: AsyncWrite + Unpin> WireOut<IO> {
    /// Writes what is kept until at most `keep` bytes are left.
    fn drain(&mut self, cx: &mut Context<'_>, keep: usize) -> Poll<io::Result<()>> {
        while self.out.len() > keep {
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &self.out))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.out.advance(n);
            self.sent.inc_by(n as u64);
        }
        Poll::Ready(Ok(()))
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for WireOut<IO> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for WireOut<IO> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.drain(cx, HIGH_WATER))?;
        this.accept(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.drain(cx, 0))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.drain(cx, 0))?;
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(kind: u8, body: &[u8]) -> Vec<u8> {
        let mut m = vec![kind];
        m.extend_from_slice(&((body.len() + 4) as u32).to_be_bytes());
        m.extend_from_slice(body);
        m
    }

    #[test]
    fn copy_fail_is_dropped_whatever_the_chunks() {
        let stream = [
            message(b'H', &[0, 0, 1, 0, 0]),
            message(b'd', b"a\n"),
            message(COPY_FAIL, b"row limit\0"),
            message(b'E', b"SERROR\0C54000\0\0"),
            message(b'Z', b"I"),
            message(b'c', b""),
        ]
        .concat();
        let expected: Vec<u8> = [
            message(b'H', &[0, 0, 1, 0, 0]),
            message(b'd', b"a\n"),
            message(b'E', b"SERROR\0C54000\0\0"),
            message(b'Z', b"I"),
            message(b'c', b""),
        ]
        .concat();
        for chunk in [1, 2, 3, 5, 7, stream.len()] {
            let mut w = WireOut::new((), Counter::default());
            for piece in stream.chunks(chunk) {
                w.accept(piece);
            }
            assert_eq!(&w.out[..], &expected[..], "chunks of {chunk}");
        }
    }
}
