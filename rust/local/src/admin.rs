//! The admin API, under `/_local/` (a path the runtime never uses):
//! - `GET /_local/faults`, `PUT /_local/faults` (the whole `Faults` JSON; missing members take defaults);
//! - `GET /_local/stats`, `POST /_local/stats/reset`;
//! - `POST /_local/flush`: write the online store's buffer to its log and the offline buffers to Parquet now;
//! - `GET /_local/health`.

use std::sync::Arc;

use http::{Method, Response};

use crate::app::App;
use crate::config::Faults;
use crate::http::{self as wire, Body};

pub const PREFIX: &str = "/_local/";

fn json(status: u16, value: &impl serde::Serialize) -> Response<Body> {
    match serde_json::to_vec(value) {
        Ok(body) => wire::admin(status, body),
        Err(e) => message(500, &e.to_string()),
    }
}

fn message(status: u16, text: &str) -> Response<Body> {
    wire::admin(
        status,
        serde_json::json!({ "message": text }).to_string().into_bytes(),
    )
}

pub async fn handle(app: Arc<App>, method: &Method, path: &str, body: &[u8]) -> Response<Body> {
    match (method, path.strip_prefix(PREFIX).unwrap_or_default()) {
        (&Method::GET, "health") => json(200, &serde_json::json!({ "status": "ok" })),
        (&Method::GET, "faults") => json(200, &*app.faults.faults()),
        (&Method::PUT, "faults") => match serde_json::from_slice::<Faults>(body) {
            Ok(faults) => match faults.validate() {
                Ok(()) => {
                    ::log::info!("faults set: {faults:?}");
                    app.faults.set(faults.clone());
                    json(200, &faults)
                }
                Err(problem) => message(400, &problem),
            },
            Err(e) => message(400, &format!("invalid faults: {e}")),
        },
        (&Method::GET, "stats") => json(200, &app.stats.snapshot()),
        (&Method::POST, "stats/reset") => {
            app.stats.reset();
            json(200, &app.stats.snapshot())
        }
        (&Method::POST, "flush") => {
            let flushed = tokio::task::spawn_blocking(move || flush_all(&app)).await;
            match flushed {
                Ok(Ok((rows, files))) => json(
                    200,
                    &serde_json::json!({ "offline_rows_written": rows, "offline_files_written": files }),
                ),
                Ok(Err(e)) => message(500, &e.to_string()),
                Err(e) => message(500, &e.to_string()),
            }
        }
        _ => message(404, &format!("no admin endpoint {method} {path}")),
    }
}

/// Flushes both stores; returns the offline rows and files written. Blocking.
pub(crate) fn flush_all(app: &App) -> Result<(usize, usize), crate::error::Error> {
    let online = app.store.flush_online();
    let offline = app.store.flush_offline();
    if let Ok((rows, files)) = &offline {
        app.stats.offline_flushed(*rows as u64, *files as u64);
    }
    online?;
    offline
}
