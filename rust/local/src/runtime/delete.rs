//! DeleteRecord: SoftDelete (the default) keeps the identifier listed but stops returning the record; HardDelete
//! removes it. Either applies only when the delete's event time is later than the stored record's; a late
//! HardDelete is refused with a ValidationError. Both append a deletion marker (`is_deleted` true, only the
//! record identifier and event time set) to the offline store, except a refused HardDelete.

use crate::app::App;
use crate::error::ServiceError;
use crate::model::constraints::Constraints;
use crate::model::text::Text;
use crate::runtime::{not_found_message, validate, validation};
use crate::store::online::Deleted;
use crate::store::record::{ValidRecord, Value};
use crate::store::{Group, now_seconds};

const DELETION_MODES: [&str; 2] = ["SoftDelete", "HardDelete"];

pub fn delete_record(
    app: &App,
    group_name: &str,
    query: &[(String, String)],
) -> Result<Vec<u8>, ServiceError> {
    let param = |name: &str| query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let record_identifier = param("RecordIdentifierValueAsString");
    let event_time = param("EventTime");
    let mode = param("DeletionMode").unwrap_or("SoftDelete");
    let stores: Vec<Text<'_>> = query
        .iter()
        .filter(|(k, _)| k == "TargetStores")
        .map(|(_, v)| Text(v.as_str().into()))
        .collect();
    let stores = (!stores.is_empty()).then_some(stores);

    let mut c = Constraints::new();
    validate::check_group_name(&mut c, &|| "featureGroupName".into(), Some(group_name));
    if c.required("recordIdentifierValueAsString", record_identifier)
        && let Some(id) = record_identifier
    {
        c.length("recordIdentifierValueAsString", id, 0, validate::MAX_VALUE_LEN);
    }
    if c.required("eventTime", event_time)
        && let Some(time) = event_time
    {
        c.length("eventTime", time, 0, validate::MAX_VALUE_LEN);
    }
    validate::check_target_stores(&mut c, &|| "targetStores".into(), stores.as_ref());
    c.one_of("deletionMode", mode, &DELETION_MODES);
    c.finish().map_err(validation)?;

    // DeleteRecord's model has no ResourceNotFound: the service answers a ValidationError.
    let group = app
        .store
        .resolve(group_name)
        .ok_or_else(|| validation(not_found_message(group_name)))?;
    delete(
        app,
        &group,
        record_identifier.unwrap_or_default(),
        event_time.unwrap_or_default(),
        mode,
        stores.as_deref(),
    )
    .map_err(validation)?;
    app.stats.record_deleted();
    Ok(Vec::new())
}

fn delete(
    app: &App,
    group: &Group,
    record_identifier: &str,
    event_time_text: &str,
    mode: &str,
    stores: Option<&[Text<'_>]>,
) -> Result<(), String> {
    let definition = &group.definition;
    let (online, offline) = validate::target_stores(definition, stores)?;
    let (event_time, event_time_parsed) = validate::event_time_text(definition, event_time_text)?;
    let identifier_feature = &definition.features[definition.record_identifier];
    let identifier_parsed =
        validate::scalar(identifier_feature.feature_type, record_identifier).ok_or_else(|| {
            format!(
                "The record identifier '{record_identifier}' is not a valid {:?} for feature '{}'",
                identifier_feature.feature_type, identifier_feature.name
            )
        })?;
    let now = now_seconds();
    if online && let Some(table) = &group.online {
        let outcome = match mode {
            "HardDelete" => table.hard_delete(record_identifier, event_time, now),
            _ => table.soft_delete(record_identifier, event_time, now),
        };
        if outcome == Deleted::Superseded && mode == "HardDelete" {
            return Err(format!(
                "EventTime: the EventTime {event_time_text} of the delete request must be later than the \
                 EventTime of the record stored for '{record_identifier}'"
            ));
        }
    }
    if offline && let Some(table) = &group.offline {
        let mut values = vec![None; definition.features.len()];
        values[definition.record_identifier] = Some(Value::Scalar(record_identifier, identifier_parsed));
        values[definition.event_time] = Some(Value::Scalar(event_time_text, event_time_parsed));
        let marker = ValidRecord {
            record_identifier,
            event_time,
            values,
        };
        let buffered = table.append([&marker], true, (now * 1000.0) as i64);
        if buffered >= app.offline_flush_rows {
            app.flush_wanted.notify_one();
        }
    }
    Ok(())
}
