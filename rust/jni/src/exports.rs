//! The `Java_*` exports of `featurestore.spark.NativeBridge`: each converts its arguments, calls one
//! `featurestore_core` function, and converts the result. Every one goes through [`call`].
//!
//! Data crosses once per batch as one Arrow IPC stream in a direct `ByteBuffer`, read in place; config once
//! per writer as one JSON blob; metrics come back as one `long[]` in `METRIC_NAMES` order; failed rows come
//! back as JSON lines.

use std::io::Cursor;

use arrow_ipc::reader::StreamReader;
use arrow_schema::Schema;
use featurestore_core::config::WriterConfig;
use featurestore_core::control::describe_feature_group;
use featurestore_core::feature_groups::{CreateSpec, add_missing_features, create_feature_group};
use featurestore_core::heap;
use featurestore_core::metrics::METRIC_NAMES;
use featurestore_core::model::FeatureGroup;
use featurestore_core::offline::{OfflineEncoder, hadoop_uri, output_schema_ipc, output_uri};
use featurestore_core::readiness::check_write;
use featurestore_core::schema::definitions::{Requested, definitions_json, feature_definitions};
use featurestore_core::sink::Writer;
use featurestore_core::sink::ceiling::set_write_ceiling;
use jni::objects::{JByteArray, JByteBuffer, JClass, JLongArray, JObject, JObjectArray, JString};
use jni::sys::{jboolean, jdouble, jint, jlong};
use jni::{Env, EnvUnowned, jni_str};

use crate::call::{BridgeError, BridgeResult, call};
use crate::handles::HandleTable;
use crate::log_bridge;

/// The writers the JVM holds handles to (see [`HandleTable`] for who owns what).
static WRITERS: HandleTable<Writer> = HandleTable::new("writer");
/// The validators of `offlineWrite=direct` tasks, owned by the Java `NativeOfflineEncoder`s.
static OFFLINE_ENCODERS: HandleTable<OfflineEncoder> = HandleTable::new("offline encoder");

/// Driver: DescribeFeatureGroup with the job's credentials and endpoint, from the writer config the tasks will
/// get; returns the service's JSON verbatim, after checking that the definitions are usable.
#[unsafe(no_mangle)]
pub extern "system" fn Java_featurestore_spark_NativeBridge_describeFeatureGroup<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    writer_config_json: JString<'local>,
) -> JObject<'local> {
    call(&mut env, |env| {
        let config = WriterConfig::from_json(&read_string(env, &writer_config_json)?)?;
        let describe_json = describe_feature_group(&config.client, &config.feature_group)?;
        FeatureGroup::from_describe_json(&describe_json)?;
        Ok(JObject::from(env.new_string(describe_json)?))
    })
}

/// Driver: checks a write's options (a JSON object, option name → the text given) all at once; returns the
/// typed values, every problem and the options as logs show them, as JSON (`featurestore_core::options::Parsed`).
#[unsafe(no_mangle)]
pub extern "system" fn Java_featurestore_spark_NativeBridge_checkOptions<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    options_json: JString<'local>,
) -> JObject<'local> {
    call(&mut env, |env| {
        let parsed = WriterConfig::check_json(&read_string(env, &options_json)?)?;
        Ok(JObject::from(env.new_string(parsed)?))
    })
}

/// Driver: checks that the feature group can take a write of `writer_config_json` (its status, the stores it
/// targets) and that a DataFrame's schema (a schema-only Arrow IPC stream) is its input; a validation exception
/// lists every problem.
#[unsafe(no_mangle)]
pub extern "system" fn Java_featurestore_spark_NativeBridge_checkWrite<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    writer_config_json: JString<'local>,
    describe_json: JString<'local>,
    schema_ipc: JByteBuffer<'local>,
    length: jint,
) {
    call(&mut env, |env| {
        let config = WriterConfig::from_json(&read_string(env, &writer_config_json)?)?;
        let group = FeatureGroup::from_describe_json(&read_string(env, &describe_json)?)?;
        let schema = read_ipc_schema(direct_bytes(env, &schema_ipc, length)?)?;
        check_write(&config, &group, &schema)?;
        Ok(())
    })
}

/// Driver: the feature definitions of a schema-only Arrow IPC stream's columns (`requested_json`: the event time
/// column and collection types asked for), as the service's `FeatureDefinitions` JSON.
#[unsafe(no_mangle)]
pub extern "system" fn Java_featurestore_spark_NativeBridge_featureDefinitions<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    schema_ipc: JByteBuffer<'local>,
    length: jint,
    requested_json: JString<'local>,
) -> JObject<'local> {
    call(&mut env, |env| {
        let requested = Requested::from_json(&read_string(env, &requested_json)?)?;
        let schema = read_ipc_schema(direct_bytes(env, &schema_ipc, length)?)?;
        let definitions = feature_definitions(&schema, &requested)?;
        Ok(JObject::from(
            env.new_string(definitions_json(&definitions).to_string())?,
        ))
    })
}

/// Driver: creates a feature group from a schema-only Arrow IPC stream's columns (`spec_json`: a
/// `CreateSpec`), with the writer config's client settings, and waits until it is `Created`; returns its
/// DescribeFeatureGroup JSON.
#[unsafe(no_mangle)]
pub extern "system" fn Java_featurestore_spark_NativeBridge_createFeatureGroup<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    writer_config_json: JString<'local>,
    spec_json: JString<'local>,
    schema_ipc: JByteBuffer<'local>,
    length: jint,
) -> JObject<'local> {
    call(&mut env, |env| {
        let config = WriterConfig::from_json(&read_string(env, &writer_config_json)?)?;
        let spec = CreateSpec::from_json(&read_string(env, &spec_json)?)?;
        let schema = read_ipc_schema(direct_bytes(env, &schema_ipc, length)?)?;
        let describe_json = create_feature_group(&config.client, &spec, &schema)?;
        Ok(JObject::from(env.new_string(describe_json)?))
    })
}

/// Driver: adds a schema-only Arrow IPC stream's columns that are not features of the writer config's feature
/// group (`requested_json`: the collection types asked for, as for `featureDefinitions`) and waits for the update, at most `timeout_seconds`;
/// returns the group's DescribeFeatureGroup JSON.
#[unsafe(no_mangle)]
pub extern "system" fn Java_featurestore_spark_NativeBridge_addMissingFeatures<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    writer_config_json: JString<'local>,
    schema_ipc: JByteBuffer<'local>,
    length: jint,
    requested_json: JString<'local>,
    timeout_seconds: jlong,
) -> JObject<'local> {
    call(&mut env, |env| {
        let config = WriterConfig::from_json(&read_string(env, &writer_config_json)?)?;
        let requested = Requested::from_json(&read_string(env, &requested_json)?)?;
        let schema = read_ipc_schema(direct_bytes(env, &schema_ipc, length)?)?;
        let timeout = std::time::Duration::from_secs(u64::try_from(timeout_seconds).unwrap_or(0));
        let describe_json = add_missing_features(
            &config.client,
            &config.feature_group,
            &schema,
            &requested.collection_types,
            timeout,
        )?;
        Ok(JObject::from(env.new_string(describe_json)?))
    })
}

/// Executor: opens a writer for one task. Returns its handle, owned by the Java `NativeWriter`.
#[unsafe(no_mangle)]
pub extern "system" fn Java_featurestore_spark_NativeBridge_openWriter<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    writer_config_json: JString<'local>,
    describe_json: JString<'local>,
) -> jlong {
    call(&mut env, |env| {
        let config = WriterConfig::from_json(&read_string(env, &writer_config_json)?)?;
        let group = FeatureGroup::from_describe_json(&read_string(env, &describe_json)?)?;
        Ok(WRITERS.insert(Writer::open(config, group)?))
    })
}

/// Executor: hands one complete Arrow IPC stream (`length` bytes at the start of the direct buffer) to the
/// writer, waiting at most `wait_ms` (negative: as long as it takes) for room in its queue; returns whether every
/// row is queued (if not, `sendPending` goes on). Returns an error latched by the writer since the last call.
#[unsafe(no_mangle)]
pub extern "system" fn Java_featurestore_spark_NativeBridge_write<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    ipc_stream: JByteBuffer<'local>,
    length: jint,
    wait_ms: jlong,
) -> jboolean {
    call(&mut env, |env| {
        let bytes = direct_bytes(env, &ipc_stream, length)?;
        WRITERS.with(
            handle,
            |writer| Ok(writer.write_ipc_stream(bytes, wait(wait_ms))?),
        )
    })
}

/// Executor: queues the rows still waiting for room, waiting at most `wait_ms`; returns whether none is left.
#[unsafe(no_mangle)]
pub extern "system" fn Java_featurestore_spark_NativeBridge_sendPending<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    wait_ms: jlong,
) -> jboolean {
    call(&mut env, |_env| {
        WRITERS.with(handle, |writer| Ok(writer.send_pending(wait(wait_ms))?))
    })
}

/// Executor: waits at most `wait_ms` for every accepted row to be acknowledged or failed; returns whether they
/// are (then with the latched error, if any).
#[unsafe(no_mangle)]
pub extern "system" fn Java_featurestore_spark_NativeBridge_flush<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    wait_ms: jlong,
) -> jboolean {
    call(&mut env, |_env| {
        WRITERS.with(handle, |writer| Ok(writer.flush_within(wait(wait_ms))?))
    })
}

/// Driver, `offlineWrite=direct`: the Hadoop URI the group's offline store files go under (its
/// `ResolvedOutputS3Uri` through `offlineFileSystem`); a validation exception when its offline store cannot take
/// a direct write.
#[unsafe(no_mangle)]
pub extern "system" fn Java_featurestore_spark_NativeBridge_offlineOutputUri<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    writer_config_json: JString<'local>,
    describe_json: JString<'local>,
) -> JObject<'local> {
    call(&mut env, |env| {
        let config = WriterConfig::from_json(&read_string(env, &writer_config_json)?)?;
        let group = FeatureGroup::from_describe_json(&read_string(env, &describe_json)?)?;
        let uri = hadoop_uri(output_uri(&group)?, &config.offline_file_system).map_err(|problem| {
            featurestore_core::Error::InvalidConfig(vec![featurestore_core::ConfigProblem::new(
                featurestore_core::options::OFFLINE_FILE_SYSTEM.name,
                problem,
            )])
        })?;
        Ok(JObject::from(env.new_string(uri)?))
    })
}

/// Driver, `offlineWrite=direct`: the rows a task's offline encoder returns, as a schema-only Arrow IPC stream.
#[unsafe(no_mangle)]
pub extern "system" fn Java_featurestore_spark_NativeBridge_offlineSchema<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    describe_json: JString<'local>,
) -> JByteArray<'local> {
    call(&mut env, |env| {
        let group = FeatureGroup::from_describe_json(&read_string(env, &describe_json)?)?;
        Ok(env.byte_array_from_slice(&output_schema_ipc(&group)?)?)
    })
}

/// Executor, `offlineWrite=direct`: opens a task's offline encoder; its handle is owned by the Java
/// `NativeOfflineEncoder`.
#[unsafe(no_mangle)]
pub extern "system" fn Java_featurestore_spark_NativeBridge_openOfflineEncoder<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    writer_config_json: JString<'local>,
    describe_json: JString<'local>,
) -> jlong {
    call(&mut env, |env| {
        let config = WriterConfig::from_json(&read_string(env, &writer_config_json)?)?;
        let group = FeatureGroup::from_describe_json(&read_string(env, &describe_json)?)?;
        Ok(OFFLINE_ENCODERS.insert(OfflineEncoder::new(config, group)?))
    })
}

/// Executor, `offlineWrite=direct`: validates one Arrow IPC stream; returns the passing rows' offline rows as an
/// Arrow IPC stream (`now_millis`: their write time).
#[unsafe(no_mangle)]
pub extern "system" fn Java_featurestore_spark_NativeBridge_encodeOffline<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    ipc_stream: JByteBuffer<'local>,
    length: jint,
    now_millis: jlong,
) -> JByteArray<'local> {
    call(&mut env, |env| {
        let bytes = direct_bytes(env, &ipc_stream, length)?;
        let rows = OFFLINE_ENCODERS.with(handle, |encoder| Ok(encoder.encode_ipc(bytes, now_millis)?))?;
        Ok(env.byte_array_from_slice(&rows)?)
    })
}

/// The offline encoder's counters, in `METRIC_NAMES` order.
#[unsafe(no_mangle)]
pub extern "system" fn Java_featurestore_spark_NativeBridge_offlineMetrics<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
) -> JLongArray<'local> {
    call(&mut env, |env| {
        let values = OFFLINE_ENCODERS.with(handle, |encoder| Ok(encoder.metrics()))?;
        long_array(env, &values)
    })
}

/// The offline encoder's failed rows as JSON lines, as `takeFailed`.
#[unsafe(no_mangle)]
pub extern "system" fn Java_featurestore_spark_NativeBridge_takeFailedOffline<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    render: jboolean,
) -> JByteArray<'local> {
    call(&mut env, |env| {
        let lines = OFFLINE_ENCODERS.with(handle, |encoder| Ok(encoder.take_failed_lines(render)))?;
        if lines.is_empty() {
            return Ok(JByteArray::default());
        }
        Ok(env.byte_array_from_slice(&lines)?)
    })
}

/// Drops the offline encoder (closing twice is harmless).
#[unsafe(no_mangle)]
pub extern "system" fn Java_featurestore_spark_NativeBridge_closeOfflineEncoder<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
) {
    call(&mut env, |_env| {
        drop(OFFLINE_ENCODERS.remove(handle));
        Ok(())
    })
}

/// A wait in milliseconds from Java; negative means no limit.
fn wait(wait_ms: jlong) -> Option<std::time::Duration> {
    u64::try_from(wait_ms).ok().map(std::time::Duration::from_millis)
}

/// Executor: stops promptly; rows not yet acknowledged are failed (origin `Aborted`).
#[unsafe(no_mangle)]
pub extern "system" fn Java_featurestore_spark_NativeBridge_abort<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
) {
    call(&mut env, |_env| {
        WRITERS.with(handle, |writer| {
            writer.abort();
            Ok(())
        })
    })
}

/// The writer's counters, in `METRIC_NAMES` order.
#[unsafe(no_mangle)]
pub extern "system" fn Java_featurestore_spark_NativeBridge_metrics<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
) -> JLongArray<'local> {
    call(&mut env, |env| {
        let values = WRITERS.with(handle, |writer| Ok(writer.metrics()))?;
        long_array(env, &values)
    })
}

/// Drains the writer's failed rows as JSON lines (one `FailedRecord` per line); `null` when there are none, or
/// when `render` is false (nowhere to write them: they are dropped unrendered).
#[unsafe(no_mangle)]
pub extern "system" fn Java_featurestore_spark_NativeBridge_takeFailed<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    render: jboolean,
) -> JByteArray<'local> {
    call(&mut env, |env| {
        let lines = WRITERS.with(handle, |writer| Ok(writer.take_failed_lines(render)))?;
        if lines.is_empty() {
            return Ok(JByteArray::default());
        }
        Ok(env.byte_array_from_slice(&lines)?)
    })
}

/// Drops the writer (closing twice is harmless).
#[unsafe(no_mangle)]
pub extern "system" fn Java_featurestore_spark_NativeBridge_close<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
) {
    call(&mut env, |_env| {
        drop(WRITERS.remove(handle));
        Ok(())
    })
}

/// Executor: sets this process's share of a write's `maxRecordsPerSecond` (the driver moves it as tasks come and
/// go). Returns false when no writer of that write is open here.
#[unsafe(no_mangle)]
pub extern "system" fn Java_featurestore_spark_NativeBridge_setWriteRecordsPerSecond<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    write_id: JString<'local>,
    records_per_second: jdouble,
) -> jboolean {
    call(&mut env, |env| {
        let write_id = read_string(env, &write_id)?;
        if !(records_per_second.is_finite() && records_per_second > 0.0) {
            return Err(BridgeError::Contract(format!(
                "a write's records per second must be a positive number, not {records_per_second}"
            )));
        }
        Ok(set_write_ceiling(&write_id, records_per_second))
    })
}

/// Writers not closed yet, in this process (tests check that every path closes its writer).
#[unsafe(no_mangle)]
pub extern "system" fn Java_featurestore_spark_NativeBridge_openWriterCount<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
) -> jint {
    call(&mut env, |_env| {
        Ok(jint::try_from(WRITERS.len()).unwrap_or(jint::MAX))
    })
}

/// Starts counting the native library's heap (`featurestore_core::heap`), for the memory benchmark.
#[unsafe(no_mangle)]
pub extern "system" fn Java_featurestore_spark_NativeBridge_startHeapCount<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
) {
    call(&mut env, |_env| {
        heap::start_counting();
        Ok(())
    })
}

/// The native heap's use as `{counting (0 or 1), bytes in use, peak bytes}`; the peak starts again from now.
#[unsafe(no_mangle)]
pub extern "system" fn Java_featurestore_spark_NativeBridge_heapUse<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
) -> JLongArray<'local> {
    call(&mut env, |env| {
        let read = heap::read_and_reset_peak();
        let as_long = |bytes: u64| jlong::try_from(bytes).unwrap_or(jlong::MAX);
        let values = [
            jlong::from(read.counting),
            as_long(read.in_use),
            as_long(read.peak),
        ];
        long_array(env, &values)
    })
}

/// `featurestore_core::metrics::METRIC_NAMES`, for the test that the Scala constant equals it.
#[unsafe(no_mangle)]
pub extern "system" fn Java_featurestore_spark_NativeBridge_metricNames<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
) -> JObjectArray<'local> {
    call(&mut env, |env| {
        string_array(env, METRIC_NAMES.iter().map(|name| name.to_string()))
    })
}

/// Takes up to `max` queued native log records as a flat array of triples: level (`"1"` error .. `"5"`
/// trace), target, message.
#[unsafe(no_mangle)]
pub extern "system" fn Java_featurestore_spark_NativeBridge_drainLog<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    max: jint,
) -> JObjectArray<'local> {
    call(&mut env, |env| {
        let lines = log_bridge::drain(usize::try_from(max).unwrap_or(0));
        string_array(
            env,
            lines.into_iter().flat_map(|line| {
                [
                    log_bridge::level_number(line.level).to_string(),
                    line.target,
                    line.message,
                ]
            }),
        )
    })
}

/// Sets the most verbose native level queued for the JVM: 0 off, 1 error .. 5 trace.
#[unsafe(no_mangle)]
pub extern "system" fn Java_featurestore_spark_NativeBridge_setLogLevel<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    level: jint,
) {
    call(&mut env, |_env| {
        log_bridge::set_level(level);
        Ok(())
    })
}

/// Test-only (built into the test variant of the library): panics with `message`, so that the tests can
/// check the panic becomes a `FeatureStoreInternalException` and the JVM carries on.
#[cfg(feature = "test-exports")]
#[unsafe(no_mangle)]
#[allow(clippy::panic)] // the point of this export
pub extern "system" fn Java_featurestore_spark_NativeBridge_panicForTest<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    message: JString<'local>,
) {
    call(&mut env, |env| -> BridgeResult<()> {
        let message = read_string(env, &message)?;
        panic!("{message}")
    })
}

/// Test-only: arms a fault point of the engine (`call-task`, `dispatcher`: a panic; `call-task-stall`: a call
/// that never ends until the writer is aborted) for the next `hits` tasks of writers to `feature_group`, so that
/// the tests can check such a fault fails the task, not the executor, and never leaves it waiting.
#[cfg(feature = "test-exports")]
#[unsafe(no_mangle)]
pub extern "system" fn Java_featurestore_spark_NativeBridge_armFaultForTest<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    point: JString<'local>,
    feature_group: JString<'local>,
    hits: jint,
) {
    use featurestore_core::sink::fault::{FaultPoint, arm};
    call(&mut env, |env| {
        let name = read_string(env, &point)?;
        let point = FaultPoint::named(&name)
            .ok_or_else(|| BridgeError::Contract(format!("no fault point named {name}")))?;
        arm(
            point,
            &read_string(env, &feature_group)?,
            u32::try_from(hits).unwrap_or(0),
        );
        Ok(())
    })
}

fn read_string(env: &mut Env<'_>, string: &JString<'_>) -> BridgeResult<String> {
    if string.is_null() {
        return Err(BridgeError::Contract("a string argument is null".into()));
    }
    Ok(string.mutf8_chars(env)?.to_string())
}

/// The first `length` bytes of a direct `ByteBuffer`, read in place (no copy).
fn direct_bytes<'buffer>(
    env: &mut Env<'_>,
    buffer: &'buffer JByteBuffer<'_>,
    length: jint,
) -> BridgeResult<&'buffer [u8]> {
    if buffer.is_null() {
        return Err(BridgeError::Contract("the buffer is null".into()));
    }
    let length = usize::try_from(length)
        .map_err(|_| BridgeError::Contract(format!("negative buffer length {length}")))?;
    let capacity = env.get_direct_buffer_capacity(buffer)?;
    if length > capacity {
        return Err(BridgeError::Contract(format!(
            "length {length} exceeds the direct buffer's capacity {capacity}"
        )));
    }
    if length == 0 {
        return Ok(&[]);
    }
    let address = env.get_direct_buffer_address(buffer)?;
    // SAFETY: `address` is the start of the direct buffer's `capacity` bytes (checked >= `length`, and
    // non-null since get_direct_buffer_address errs on null). The memory belongs to the ByteBuffer object,
    // which stays reachable for the whole native call because it is one of the call's arguments; the slice
    // borrows `buffer`, so it cannot outlive the call. The Java side does not touch the buffer while the call
    // runs (a writer is used from one task thread), so the bytes do not change under us.
    Ok(unsafe { std::slice::from_raw_parts(address, length) })
}

/// The schema of a schema-only (or any) Arrow IPC stream.
fn read_ipc_schema(bytes: &[u8]) -> BridgeResult<Schema> {
    let reader = StreamReader::try_new(Cursor::new(bytes), None).map_err(|e| {
        BridgeError::Core(featurestore_core::Error::Input(format!(
            "the schema's Arrow IPC stream is invalid: {e}"
        )))
    })?;
    Ok(reader.schema().as_ref().clone())
}

fn long_array<'local>(env: &mut Env<'local>, values: &[jlong]) -> BridgeResult<JLongArray<'local>> {
    let array = JLongArray::new(env, values.len())?;
    array.set_region(env, 0, values)?;
    Ok(array)
}

fn string_array<'local>(
    env: &mut Env<'local>,
    strings: impl IntoIterator<Item = String>,
) -> BridgeResult<JObjectArray<'local>> {
    let strings: Vec<String> = strings.into_iter().collect();
    let array = env.new_object_array(
        jint::try_from(strings.len()).map_err(|_| BridgeError::Contract("too many strings".into()))?,
        jni_str!("java/lang/String"),
        JObject::null(),
    )?;
    for (index, string) in strings.iter().enumerate() {
        let element = env.new_string(string)?;
        array.set_element(env, index, &element)?;
        env.delete_local_ref(element);
    }
    Ok(array)
}
