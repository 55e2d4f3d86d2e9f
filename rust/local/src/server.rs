//! The server's life: bind, accept connections (HTTP/1.1, keep-alive), route each request to the admin API,
//! the control plane or the runtime, flush the stores in the background, and shut down cleanly (stop
//! accepting, let in-flight requests finish, flush everything).

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::{Method, Request, Response};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use crate::admin;
use crate::app::App;
use crate::config::{Faults, ServerConfig};
use crate::control_plane;
use crate::error::{Error, ErrorCode, Plane, ServiceError};
use crate::faults::{FaultInjector, Verdict};
use crate::http::{self as wire, Body};
use crate::model::operation::Operation;
use crate::runtime;
use crate::signature::{self, SignedRequest};
use crate::stats::{Stats, StatsCollector};
use crate::store::Store;

/// What both ways of running a store ([`Server`], [`BackgroundServer`]) offer their owner: where it listens,
/// its faults and its stats. Both dereference to it.
#[derive(Debug)]
pub struct RunningStore {
    address: SocketAddr,
    app: Arc<App>,
}

impl RunningStore {
    /// `http://host:port`, for `endpoint_url` and `AWS_ENDPOINT_URL_*`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.address)
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.address
    }

    /// Replaces every injected fault. Invalid faults (see `Faults::validate`) are refused.
    pub fn set_faults(&self, faults: Faults) -> Result<(), Error> {
        faults.validate().map_err(Error::Config)?;
        self.app.faults.set(faults);
        Ok(())
    }

    pub fn faults(&self) -> Faults {
        (*self.app.faults.faults()).clone()
    }

    pub fn stats(&self) -> Stats {
        self.app.stats.snapshot()
    }

    pub fn reset_stats(&self) {
        self.app.stats.reset();
    }
}

/// A running store on the caller's tokio runtime. Dropping it stops it without waiting for the stop: call
/// [`Server::shutdown`] before starting another store on the same port or data directory.
#[derive(Debug)]
pub struct Server {
    running: RunningStore,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<Result<(), Error>>>,
}

impl std::ops::Deref for Server {
    type Target = RunningStore;

    fn deref(&self) -> &RunningStore {
        &self.running
    }
}

impl Server {
    /// Opens the data directory (replaying the online logs), binds, and starts serving.
    pub async fn start(config: ServerConfig) -> Result<Server, Error> {
        if config.data_dir.as_os_str().is_empty() {
            return Err(Error::Config("data_dir must be set".to_owned()));
        }
        config.faults.validate().map_err(Error::Config)?;
        let address = SocketAddr::new(config.host, config.port);
        // tokio sets SO_REUSEADDR (on Unix): a store restarted on the port of one just stopped binds it though
        // that one's connections linger in TIME_WAIT (tests/sdk_runtime.rs restarts on the same port).
        let listener = TcpListener::bind(address)
            .await
            .map_err(|source| Error::Bind { address, source })?;
        let address = listener
            .local_addr()
            .map_err(|source| Error::Bind { address, source })?;
        let opened = {
            let config = config.clone();
            tokio::task::spawn_blocking(move || Store::open(&config)).await
        };
        let store = opened.map_err(|e| Error::Thread(e.to_string()))??;
        let app = Arc::new(App {
            store,
            faults: FaultInjector::new(config.faults.clone()),
            stats: StatsCollector::new(),
            max_body_bytes: config.max_body_bytes,
            offline_flush_rows: config.offline_flush_rows,
            flush_wanted: Notify::new(),
            credentials: config.credentials.clone(),
            region: config.region.clone(),
            describe_page_size: config.describe_page_size,
        });
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(serve(listener, Arc::clone(&app), config, stopped));
        ::log::info!("listening on http://{address}");
        Ok(Server {
            running: RunningStore { address, app },
            stop,
            task: Some(task),
        })
    }

    /// Writes the online buffers to their logs and the offline buffers to Parquet now.
    pub async fn flush(&self) -> Result<(), Error> {
        let app = Arc::clone(&self.app);
        tokio::task::spawn_blocking(move || admin::flush_all(&app).map(|_| ()))
            .await
            .map_err(|e| Error::Thread(e.to_string()))?
    }

    /// Stops accepting, waits for in-flight requests (up to `shutdown_grace`), flushes both stores.
    pub async fn shutdown(mut self) -> Result<(), Error> {
        let _ = self.stop.send(true);
        match self.task.take() {
            Some(task) => task.await.map_err(|e| Error::Thread(e.to_string()))?,
            None => Ok(()),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // The serving task shuts down and flushes on its own; nothing waits for it here.
        let _ = self.stop.send(true);
    }
}

/// Accepts connections until told to stop, then drains and flushes.
async fn serve(
    listener: TcpListener,
    app: Arc<App>,
    config: ServerConfig,
    mut stopped: watch::Receiver<bool>,
) -> Result<(), Error> {
    let graceful = GracefulShutdown::new();
    let flusher = tokio::spawn(flush_in_background(
        Arc::clone(&app),
        config.online_flush_interval,
        config.offline_flush_interval,
        stopped.clone(),
    ));
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    let connection = serve_connection(stream, Arc::clone(&app));
                    let watched = graceful.watch(connection);
                    tokio::spawn(async move {
                        if let Err(e) = watched.await {
                            ::log::debug!("connection ended: {e}");
                        }
                    });
                }
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    ::log::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            _ = stopped.changed() => break,
        }
    }
    drop(listener);
    ::log::info!("shutting down: waiting for in-flight requests");
    if tokio::time::timeout(config.shutdown_grace, graceful.shutdown())
        .await
        .is_err()
    {
        ::log::warn!(
            "in-flight requests still running after {:?}; closing them",
            config.shutdown_grace
        );
    }
    let _ = flusher.await;
    let flushed = tokio::task::spawn_blocking(move || admin::flush_all(&app))
        .await
        .map_err(|e| Error::Thread(e.to_string()))?;
    let (rows, files) = flushed?;
    ::log::info!("flushed: {rows} offline rows in {files} files; stopped");
    Ok(())
}

fn serve_connection(
    stream: TcpStream,
    app: Arc<App>,
) -> hyper::server::conn::http1::Connection<
    TokioIo<ResettableStream>,
    impl hyper::service::Service<
        Request<Incoming>,
        Response = Response<Body>,
        Error = ConnectionReset,
        Future: Send,
    > + Send,
> {
    let reset = Arc::new(AtomicBool::new(false));
    let io = TokioIo::new(ResettableStream {
        inner: stream,
        reset: Arc::clone(&reset),
    });
    let service = service_fn(move |request| {
        let app = Arc::clone(&app);
        let reset = Arc::clone(&reset);
        async move { answer(app, request, reset).await }
    });
    http1::Builder::new()
        .timer(TokioTimer::new())
        .keep_alive(true)
        .serve_connection(io, service)
}

/// Flushes the online store every `online_every`, the offline store every `offline_every`, and both when a
/// buffer grows large, until told to stop.
async fn flush_in_background(
    app: Arc<App>,
    online_every: Duration,
    offline_every: Duration,
    mut stopped: watch::Receiver<bool>,
) {
    let mut online_tick = tokio::time::interval(online_every);
    let mut offline_tick = tokio::time::interval(offline_every);
    online_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    offline_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let (online, offline) = tokio::select! {
            _ = online_tick.tick() => (true, false),
            _ = offline_tick.tick() => (false, true),
            _ = app.flush_wanted.notified() => (true, true),
            _ = stopped.changed() => return,
        };
        let app = Arc::clone(&app);
        let flushed = tokio::task::spawn_blocking(move || {
            if online {
                // Errors are logged by the store; the next tick retries.
                let _ = app.store.flush_online();
            }
            if offline && let Ok((rows, files)) = app.store.flush_offline() {
                app.stats.offline_flushed(rows as u64, files as u64);
            }
        })
        .await;
        if let Err(e) = flushed {
            ::log::error!("background flush failed: {e}");
        }
    }
}

/// The service's answer to a request that is dropped with a connection reset.
#[derive(Debug)]
pub(crate) struct ConnectionReset;

impl std::fmt::Display for ConnectionReset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection reset by fault injection")
    }
}

impl std::error::Error for ConnectionReset {}

/// The plane and operation a request is for, or the error that says it is for none.
fn classify<'r>(
    method: &Method,
    path: &'r str,
    target: Option<&str>,
) -> (Plane, Result<(Operation, Option<&'r str>), ServiceError>) {
    if path == "/" && method == Method::POST {
        let operation = match target {
            Some(target) => control_plane::operation(target).ok_or_else(|| {
                ServiceError::new(
                    ErrorCode::UnknownOperationException,
                    format!("featurestore-local does not implement the operation {target}"),
                )
            }),
            None => Err(ServiceError::new(
                ErrorCode::UnknownOperationException,
                "Missing X-Amz-Target header",
            )),
        };
        return (Plane::Control, operation.map(|op| (op, None)));
    }
    let operation = runtime::route(method, path).ok_or_else(|| {
        ServiceError::new(
            ErrorCode::UnknownOperationException,
            format!("No operation matches {method} {path}"),
        )
    });
    (Plane::Runtime, operation)
}

/// Whether a body's content type fits the protocol.
fn content_type_ok(plane: Plane, content_type: Option<&str>, has_body: bool) -> bool {
    let media = content_type.map(|value| {
        value
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase()
    });
    match (plane, media.as_deref()) {
        (Plane::Control, Some(wire::AMZ_JSON_1_1)) => true,
        (Plane::Control, _) => false,
        // The Java SDK sends application/x-amz-json-1.1 to REST-JSON services, the others application/json.
        (
            Plane::Runtime,
            Some("application/json" | "application/x-amz-json-1.0" | "application/x-amz-json-1.1"),
        ) => true,
        (Plane::Runtime, None) => true,
        (Plane::Runtime, Some(_)) => !has_body,
    }
}

/// Bodies above the limit are still read (and dropped) up to this much, so that the client, which is usually
/// still sending, gets the 413 instead of a reset connection.
const DRAIN_LIMIT: usize = 256 << 20;

async fn read_body(request: Request<Incoming>, limit: usize) -> Result<Bytes, ServiceError> {
    let too_large = || {
        ServiceError::new(
            ErrorCode::RequestEntityTooLargeException,
            format!("The request body is larger than the {limit} bytes featurestore-local accepts"),
        )
    };
    let declared = request
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let mut body = request.into_body();
    let mut collected = bytes::BytesMut::with_capacity(declared.unwrap_or(0).min(limit));
    let mut read = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            ServiceError::new(
                ErrorCode::SerializationException,
                format!("reading the body: {e}"),
            )
        })?;
        let Ok(data) = frame.into_data() else { continue };
        read += data.len();
        if read <= limit {
            collected.extend_from_slice(&data);
        } else if read > DRAIN_LIMIT {
            break;
        }
    }
    if read > limit {
        Err(too_large())
    } else {
        Ok(collected.freeze())
    }
}

async fn answer(
    app: Arc<App>,
    request: Request<Incoming>,
    reset: Arc<AtomicBool>,
) -> Result<Response<Body>, ConnectionReset> {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    if path.starts_with(admin::PREFIX) {
        return Ok(match read_body(request, app.max_body_bytes).await {
            Ok(body) => admin::handle(app, &method, &path, &body).await,
            Err(e) => wire::admin(
                413,
                serde_json::json!({ "message": e.message })
                    .to_string()
                    .into_bytes(),
            ),
        });
    }
    let query = request.uri().query().map(str::to_owned);
    let header = |name: http::header::HeaderName| request.headers().get(name).and_then(|v| v.to_str().ok());
    let target = header(http::header::HeaderName::from_static("x-amz-target")).map(str::to_owned);
    let content_type = header(http::header::CONTENT_TYPE).map(str::to_owned);
    let (plane, classified) = classify(&method, &path, target.as_deref());
    let fail = |error: ServiceError| {
        app.stats.error(error.code);
        Ok(wire::error(plane, &error))
    };
    let (operation, label) = match classified {
        Ok(found) => found,
        Err(error) => {
            app.stats.request(None);
            return fail(error);
        }
    };
    app.stats.request(Some(operation));
    if let Some(key) = header(http::header::AUTHORIZATION).and_then(signature::access_key_id) {
        app.stats.signed_by(key);
    }
    // Taken before the body is read (which consumes the request), and only when signatures are checked.
    let signed = (!app.credentials.is_empty()).then(|| SignedRequest {
        method: method.to_string(),
        path_and_query: request
            .uri()
            .path_and_query()
            .map_or_else(|| path.clone(), |p| p.as_str().to_owned()),
        headers: request.headers().clone(),
    });
    let body = match read_body(request, app.max_body_bytes).await {
        Ok(body) => body,
        Err(error) => return fail(error),
    };
    if let Some(signed) = &signed
        && let Err(error) = signature::verify(&app.credentials, &app.region, signed, &body, SystemTime::now())
    {
        return fail(error);
    }
    if !content_type_ok(plane, content_type.as_deref(), !body.is_empty()) {
        return fail(ServiceError::new(
            ErrorCode::UnsupportedMediaTypeException,
            format!(
                "Unsupported content type {}",
                content_type.as_deref().unwrap_or("(none)")
            ),
        ));
    }
    if let Some(latency) = app.faults.latency(operation) {
        app.stats.injected_latency(latency.as_millis() as u64);
        tokio::time::sleep(latency).await;
    }
    match app.faults.before(operation, plane) {
        Verdict::Proceed => {}
        Verdict::Fail(error) => {
            if error.code == ErrorCode::ThrottlingException {
                runtime::count_throttled(&app, operation, label, &body);
            }
            return fail(error);
        }
        Verdict::ResetConnection => {
            app.stats.connection_reset();
            reset.store(true, Ordering::Relaxed);
            return Err(ConnectionReset);
        }
    }
    let result = match plane {
        // Control plane operations touch files (catalog, flushes): keep them off the async workers.
        Plane::Control => {
            let app = Arc::clone(&app);
            tokio::task::spawn_blocking(move || control_plane::handle(&app, operation, &body))
                .await
                .unwrap_or_else(|e| Err(ServiceError::new(ErrorCode::InternalFailure, e.to_string())))
        }
        Plane::Runtime => runtime::handle(&app, operation, label, query.as_deref(), &body),
    };
    match result {
        Ok(body) => Ok(wire::ok(plane, body)),
        Err(error) => fail(error),
    }
}

/// A TCP stream that is reset (RST, not FIN) when dropped after a fault asked for it.
struct ResettableStream {
    inner: TcpStream,
    reset: Arc<AtomicBool>,
}

impl Drop for ResettableStream {
    fn drop(&mut self) {
        if self.reset.load(Ordering::Relaxed) {
            // SO_LINGER 0: close() sends RST and discards unsent data.
            let _ = self.inner.set_zero_linger();
        }
    }
}

impl AsyncRead for ResettableStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for ResettableStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// A store on its own thread and runtime, for plain `#[test]`s and benches. Dropping it shuts it down.
#[derive(Debug)]
pub struct BackgroundServer {
    running: RunningStore,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<Result<(), Error>>>,
}

impl std::ops::Deref for BackgroundServer {
    type Target = RunningStore;

    fn deref(&self) -> &RunningStore {
        &self.running
    }
}

impl BackgroundServer {
    pub fn start(config: ServerConfig) -> Result<BackgroundServer, Error> {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("featurestore-local".to_owned())
            .spawn(move || -> Result<(), Error> {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .thread_name("featurestore-local-worker")
                    .enable_all()
                    .build()
                    .map_err(|e| Error::Thread(e.to_string()))?;
                runtime.block_on(async move {
                    let server = match Server::start(config).await {
                        Ok(server) => server,
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                            return Ok(());
                        }
                    };
                    let _ = ready_tx.send(Ok((server.address, Arc::clone(&server.app))));
                    let _ = stop_rx.await;
                    server.shutdown().await
                })
            })
            .map_err(|e| Error::Thread(e.to_string()))?;
        match ready_rx.recv() {
            Ok(Ok((address, app))) => Ok(BackgroundServer {
                running: RunningStore { address, app },
                stop: Some(stop_tx),
                thread: Some(thread),
            }),
            Ok(Err(e)) => {
                let _ = thread.join();
                Err(e)
            }
            Err(_) => Err(match thread.join() {
                Ok(Err(e)) => e,
                _ => Error::Thread("the server thread ended before it was ready".to_owned()),
            }),
        }
    }

    /// Writes the online buffers to their logs and the offline buffers to Parquet now.
    pub fn flush(&self) -> Result<(), Error> {
        admin::flush_all(&self.app).map(|_| ())
    }

    /// Stops the server (as [`Server::shutdown`]) and joins its thread.
    pub fn shutdown(mut self) -> Result<(), Error> {
        self.stop_and_join()
    }

    fn stop_and_join(&mut self) -> Result<(), Error> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.thread.take() {
            Some(thread) => thread
                .join()
                .map_err(|_| Error::Thread("the server thread panicked".to_owned()))?,
            None => Ok(()),
        }
    }
}

impl Drop for BackgroundServer {
    fn drop(&mut self) {
        if let Err(e) = self.stop_and_join() {
            ::log::error!("stopping featurestore-local: {e}");
        }
    }
}
