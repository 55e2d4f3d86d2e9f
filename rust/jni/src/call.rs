//! The one shape of every export: [`call`] runs the export's body with an [`Env`], catches panics, and turns
//! every error into one of the connector's three exception classes, returning a harmless default (`0`,
//! `null`) while the exception is pending. Classification follows `featurestore_core::ErrorKind`, never the
//! message text.

use std::any::Any;
use std::backtrace::Backtrace;
use std::cell::RefCell;
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

use featurestore_core::ErrorKind;
use jni::errors::ErrorPolicy;
use jni::strings::JNIString;
use jni::{Env, EnvUnowned};

use crate::log_bridge;

/// Fix the job: configuration, schema, input.
pub(crate) const VALIDATION_EXCEPTION: &str = "featurestore/spark/FeatureStoreValidationException";
/// The service or the network refused.
pub(crate) const SERVICE_EXCEPTION: &str = "featurestore/spark/FeatureStoreServiceException";
/// A bug: a broken invariant, a caught panic, a broken contract between the two sides of the bridge.
pub(crate) const INTERNAL_EXCEPTION: &str = "featurestore/spark/FeatureStoreInternalException";

/// What an export's body can fail with.
#[derive(Debug)]
pub(crate) enum BridgeError {
    /// A typed engine error: its kind picks the exception class.
    Core(featurestore_core::Error),
    /// A JNI call failed (often because a Java exception is already pending, which then wins).
    Jni(jni::errors::Error),
    /// The Java side broke the bridge's contract (unknown handle, buffer shorter than the length given).
    Contract(String),
}

pub(crate) type BridgeResult<T> = Result<T, BridgeError>;

impl From<featurestore_core::Error> for BridgeError {
    fn from(error: featurestore_core::Error) -> Self {
        BridgeError::Core(error)
    }
}

impl From<jni::errors::Error> for BridgeError {
    fn from(error: jni::errors::Error) -> Self {
        BridgeError::Jni(error)
    }
}

impl fmt::Display for BridgeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BridgeError::Core(error) => write!(f, "{error}"),
            BridgeError::Jni(error) => write!(f, "JNI call failed: {error}"),
            BridgeError::Contract(message) => write!(f, "native bridge misuse: {message}"),
        }
    }
}

impl BridgeError {
    fn exception_class(&self) -> &'static str {
        match self {
            BridgeError::Core(error) => match error.kind() {
                ErrorKind::Validation => VALIDATION_EXCEPTION,
                ErrorKind::Service => SERVICE_EXCEPTION,
                ErrorKind::Internal => INTERNAL_EXCEPTION,
            },
            BridgeError::Jni(_) | BridgeError::Contract(_) => INTERNAL_EXCEPTION,
        }
    }
}

/// Runs one export's body. Every `Java_*` function is `call(&mut env, |env| ...)` and nothing else.
pub(crate) fn call<'local, T, F>(env: &mut EnvUnowned<'local>, body: F) -> T
where
    T: Default + 'local,
    F: FnOnce(&mut Env<'local>) -> BridgeResult<T>,
{
    init_once();
    env.with_env(body).resolve::<ThrowMappedException>()
}

static INIT: Once = Once::new();

/// Installs the log bridge and the panic hook, once per loaded library.
fn init_once() {
    INIT.call_once(|| {
        log_bridge::install();
        install_panic_hook();
    });
}

thread_local! {
    /// The last panic's message, location and backtrace on this thread, recorded by the hook so that the
    /// exception can carry them (the payload alone has only the message).
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Records panics instead of printing them on stderr (the default hook): the details go into the exception
/// and into the log bridge, so they land in the executor's log4j log.
fn install_panic_hook() {
    panic::set_hook(Box::new(|info| {
        let message = payload_text(info.payload());
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_else(|| "unknown location".into());
        let detail = format!("{message} (at {location})\n{}", Backtrace::force_capture());
        log::error!(target: "featurestore_jni", "panic: {detail}");
        LAST_PANIC.with(|last| *last.borrow_mut() = Some(detail));
    }));
}

fn payload_text(payload: &(dyn Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&'static str>() {
        (*text).to_string()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "non-string panic payload".into()
    }
}

/// Throws `class` with `message`. A failure to throw leaves whatever exception `throw_new` raised pending
/// (e.g. NoClassDefFoundError), which is still an exception for the caller.
fn throw(env: &mut Env<'_>, class: &str, message: &str) {
    if env.exception_check() {
        return; // a Java exception raised during the call takes precedence
    }
    let _ = env.throw_new(JNIString::new(class), JNIString::new(message));
}

/// The error policy behind [`call`].
struct ThrowMappedException;

impl<T: Default> ErrorPolicy<T, BridgeError> for ThrowMappedException {
    type Captures<'unowned_env_local: 'native_method, 'native_method> = ();

    fn on_error<'unowned_env_local: 'native_method, 'native_method>(
        env: &mut Env<'unowned_env_local>,
        _captures: &mut Self::Captures<'unowned_env_local, 'native_method>,
        error: BridgeError,
    ) -> jni::errors::Result<T> {
        throw(env, error.exception_class(), &error.to_string());
        Ok(T::default())
    }

    fn on_panic<'unowned_env_local: 'native_method, 'native_method>(
        env: &mut Env<'unowned_env_local>,
        _captures: &mut Self::Captures<'unowned_env_local, 'native_method>,
        payload: Box<dyn Any + Send + 'static>,
    ) -> jni::errors::Result<T> {
        let detail = LAST_PANIC
            .with(|last| last.borrow_mut().take())
            .unwrap_or_else(|| payload_text(payload.as_ref()));
        // Dropping a payload may itself panic; leak it rather than unwind here.
        if let Err(drop_panic) = panic::catch_unwind(AssertUnwindSafe(|| drop(payload))) {
            std::mem::forget(drop_panic);
        }
        throw(
            env,
            INTERNAL_EXCEPTION,
            &format!("panic in native code: {detail}"),
        );
        Ok(T::default())
    }
}
