//! The accept loop: plain or TLS connections served by hyper (HTTP/1.1 and HTTP/2), with
//! graceful shutdown and the one thing axum cannot express — dropping a connection
//! without an answer, which the `reset` fault needs.
//!
//! `axum::serve` was rejected because it offers neither TLS nor a way to abort a
//! connection from a handler. Here a response carrying [`DropConnection`] becomes a
//! service error, and hyper closes the connection without writing a response.

use super::gate::DropConnection;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

/// How long shutdown waits for open connections to finish their requests.
const GRACE: Duration = Duration::from_secs(5);
/// How long a client may take to complete the TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Pause after a failed accept (e.g. out of file descriptors) before trying again.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(20);

/// The error a service returns to make hyper drop the connection.
#[derive(Debug, thiserror::Error)]
#[error("connection dropped by an injected fault")]
struct ConnectionDropped;

/// Accepts and serves connections until `shutdown` fires, then drains them for up to [`GRACE`].
pub async fn serve(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    app: Router,
    shutdown: CancellationToken,
) {
    let graceful = GracefulShutdown::new();
    let builder = Builder::new(TokioExecutor::new());
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
            () = shutdown.cancelled() => break,
        };
        // Latency matters more than packet count on loopback.
        let _ = stream.set_nodelay(true);
        let (watcher, builder, app, tls) = (
            graceful.watcher(),
            builder.clone(),
            app.clone(),
            tls.clone(),
        );
        tokio::spawn(async move {
            match tls {
                None => serve_connection(stream, builder, watcher, app).await,
                Some(acceptor) => {
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                        Ok(Ok(stream)) => serve_connection(stream, builder, watcher, app).await,
                        Ok(Err(error)) => tracing::debug!(%error, "TLS handshake failed"),
                        Err(_) => tracing::debug!("TLS handshake timed out"),
                    }
                }
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("connections still open after the shutdown grace period");
    }
}

async fn serve_connection<I>(io: I, builder: Builder<TokioExecutor>, watcher: Watcher, app: Router)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        let app = app.clone();
        async move {
            let response = app
                .oneshot(request)
                .await
                .unwrap_or_else(|never| match never {});
            if response.extensions().get::<DropConnection>().is_some() {
                Err(ConnectionDropped)
            } else {
                Ok(response)
            }
        }
    });
    let connection = builder
        .serve_connection(TokioIo::new(io), service)
        .into_owned();
    if let Err(error) = watcher.watch(connection).await {
        tracing::debug!(error = %error, "connection ended with an error");
    }
}
