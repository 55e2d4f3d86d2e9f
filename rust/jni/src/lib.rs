//! featurestore-jni: the library the Spark connector loads (`featurestore.spark.NativeBridge`).
//!
//! `Java_*` exports only ([`exports`]), the handle table that owns native writers ([`handles`]), the one
//! wrapper every export goes through, which catches panics and maps typed errors to the connector's three
//! exception classes ([`call`]), and the bridge that hands native log records to the JVM's logger
//! ([`log_bridge`]). All logic lives in `featurestore-core`.
//!
//! Rules kept here: no JNI call from any thread but the Java caller's (the engine's tokio threads never see a
//! `JNIEnv`); no JVM object (global reference) held by native state; no panic crosses into the JVM.

mod call;

/// The system allocator, counted once the memory benchmark asks (`featurestore_core::heap`).
#[global_allocator]
static HEAP: featurestore_core::heap::CountingAllocator = featurestore_core::heap::CountingAllocator;

mod exports;
mod handles;
mod log_bridge;
