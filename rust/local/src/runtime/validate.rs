//! The runtime's rules, in two layers like the service:
//! - the model's constraints on a request (required members, lengths, patterns, enums), which fail the whole
//!   call with a ValidationError;
//! - a record's rules against its feature group (known features, types, record identifier and event time,
//!   sizes, collections), which fail one record: a PutRecord call, or one BatchWriteRecord entry.

use crate::control_plane::wire::TtlDuration;
use crate::model::constraints::Constraints;
use crate::model::event_time;
use crate::model::feature_group::{self, Collection, FeatureGroup, FeatureType};
use crate::model::names::{self, NameOrArn};
use crate::model::text::Text;
use crate::runtime::wire::FeatureValueIn;
use crate::store::record::{Scalar, ValidRecord, Value};

/// A ValueAsString (characters), and a ValueAsStringList (elements), at most.
pub const MAX_VALUE_LEN: usize = 358_400;
/// A record's values together, in bytes (350 KB).
pub const MAX_RECORD_BYTES: usize = 358_400;
/// A record identifier's value, in bytes (2 KB).
pub const MAX_RECORD_IDENTIFIER_BYTES: usize = 2048;
/// Feature group name or ARN.
pub const MAX_NAME_OR_ARN_LEN: usize = 150;

pub const TARGET_STORES: [&str; 2] = ["OnlineStore", "OfflineStore"];

/// A member's path in constraint messages, formatted only when a constraint fails (the write path checks
/// thousands of members per call).
pub type PathOf<'p> = &'p dyn Fn() -> String;

/// The constraints of a `FeatureGroupName` member (name or ARN).
pub fn check_group_name(c: &mut Constraints, path: PathOf<'_>, value: Option<&str>) {
    if value.is_some_and(|v| v.len() <= MAX_NAME_OR_ARN_LEN && NameOrArn::parse(v).is_some()) {
        return;
    }
    let path = path();
    if c.required(&path, value)
        && let Some(value) = value
        && c.length(&path, value, 1, MAX_NAME_OR_ARN_LEN)
    {
        c.pattern(
            &path,
            value,
            NameOrArn::parse(value).is_some(),
            names::NAME_OR_ARN_PATTERN,
        );
    }
}

/// The constraints of a `Record` member (the path is e.g. `record` or `entries.3.member.record`).
pub fn check_record(c: &mut Constraints, path: PathOf<'_>, record: Option<&Vec<FeatureValueIn<'_>>>) {
    let Some(record) = record else {
        c.required::<()>(&path(), None);
        return;
    };
    if record.is_empty() {
        c.count(&path(), &"[]", 0, 1, usize::MAX);
    }
    for (i, value) in record.iter().enumerate() {
        // Cheap checks first; paths are only formatted for a failure.
        let member = |name: &str| format!("{}.{}.member.{name}", path(), i + 1);
        match &value.feature_name {
            None => {
                c.required::<()>(&member("featureName"), None);
            }
            Some(name) if !names::is_valid_name(name) => {
                let path = member("featureName");
                if c.length(&path, name, 1, names::MAX_NAME_LEN) {
                    c.pattern(&path, name, false, names::NAME_PATTERN);
                }
            }
            Some(_) => {}
        }
        if let Some(text) = &value.value_as_string
            && text.len() > MAX_VALUE_LEN
        {
            c.length(&member("valueAsString"), text, 0, MAX_VALUE_LEN);
        }
        if let Some(list) = &value.value_as_string_list {
            if list.len() > MAX_VALUE_LEN {
                c.count(
                    &member("valueAsStringList"),
                    &"[...]",
                    list.len(),
                    0,
                    MAX_VALUE_LEN,
                );
            }
            for (j, item) in list.iter().enumerate() {
                if item.len() > MAX_VALUE_LEN {
                    let path = format!("{}.{}.member", member("valueAsStringList"), j + 1);
                    c.length(&path, item, 0, MAX_VALUE_LEN);
                }
            }
        }
    }
}

pub fn check_target_stores(c: &mut Constraints, path: PathOf<'_>, stores: Option<&Vec<Text<'_>>>) {
    let Some(stores) = stores else { return };
    let path = path();
    let shown = format!("{:?}", stores.iter().map(|s| &**s).collect::<Vec<_>>());
    c.count(&path, &shown, stores.len(), 1, 2);
    for (i, store) in stores.iter().enumerate() {
        c.one_of(&format!("{path}.{}.member", i + 1), store, &TARGET_STORES);
    }
}

pub fn check_ttl(c: &mut Constraints, path: PathOf<'_>, ttl: Option<&TtlDuration>) {
    if let Some(ttl) = ttl {
        feature_group::check_ttl(c, &path(), ttl);
    }
}

/// Which stores a write or delete goes to: the ones asked for (all the group has by default), each of which
/// the group must have.
pub fn target_stores(group: &FeatureGroup, stores: Option<&[Text<'_>]>) -> Result<(bool, bool), String> {
    let Some(stores) = stores else {
        return Ok((group.online.is_some(), group.offline.is_some()));
    };
    let online = stores.iter().any(|s| &**s == "OnlineStore");
    let offline = stores.iter().any(|s| &**s == "OfflineStore");
    if stores.len() == 2 && online != offline {
        return Err("TargetStores contains a store more than once".to_owned());
    }
    if online && group.online.is_none() {
        return Err(format!(
            "TargetStores includes OnlineStore, but the OnlineStore is not enabled for feature group {}",
            group.name
        ));
    }
    if offline && group.offline.is_none() {
        return Err(format!(
            "TargetStores includes OfflineStore, but no OfflineStore is configured for feature group {}",
            group.name
        ));
    }
    Ok((online, offline))
}

/// Checks a value against its feature type.
pub fn scalar(feature_type: FeatureType, text: &str) -> Option<Scalar> {
    match feature_type {
        FeatureType::String => Some(Scalar::String),
        // Rust's i64 grammar is Java's Long.parseLong: an optional sign and decimal digits.
        FeatureType::Integral => text.parse::<i64>().ok().map(Scalar::Integral),
        FeatureType::Fractional => text
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .map(Scalar::Fractional),
    }
}

fn type_error(name: &str, text: &str, feature_type: FeatureType) -> String {
    let expected = match feature_type {
        FeatureType::Integral => "Integral (a 64-bit integer)",
        FeatureType::Fractional => "Fractional (a finite double)",
        FeatureType::String => "String",
    };
    let shown: String = text.chars().take(100).collect();
    format!("The value '{shown}' of feature '{name}' is not a valid {expected}")
}

fn collection_name(collection: Collection) -> &'static str {
    match collection {
        Collection::List => "List",
        Collection::Set => "Set",
        Collection::Vector { .. } => "Vector",
    }
}

/// Checks one record (that passed [`check_record`]) against its feature group.
pub fn record<'r>(group: &FeatureGroup, record: &'r [FeatureValueIn<'r>]) -> Result<ValidRecord<'r>, String> {
    let features = &group.features;
    let mut values: Vec<Option<Value<'r>>> = vec![None; features.len()];
    let mut size = 0usize;
    for (position, feature_value) in record.iter().enumerate() {
        let name: &str = feature_value.feature_name.as_deref().unwrap_or_default();
        // Records usually list features in definition order: try that position before the map.
        let index = match features.get(position) {
            Some(feature) if feature.name == name => position,
            _ => group.feature_index(name).ok_or_else(|| {
                format!(
                    "The feature '{name}' is not defined in the FeatureDefinitions of feature group {}",
                    group.name
                )
            })?,
        };
        if values[index].is_some() {
            return Err(format!(
                "The feature '{name}' appears more than once in the record"
            ));
        }
        let feature = &features[index];
        let value = match (
            &feature_value.value_as_string,
            &feature_value.value_as_string_list,
            feature.collection,
        ) {
            (Some(_), Some(_), _) => {
                return Err(format!(
                    "The feature '{name}' sets both ValueAsString and ValueAsStringList"
                ));
            }
            (None, None, _) => {
                return Err(format!(
                    "The feature '{name}' sets neither ValueAsString nor ValueAsStringList"
                ));
            }
            (Some(text), None, None) => {
                size += text.len();
                let parsed = scalar(feature.feature_type, text)
                    .ok_or_else(|| type_error(name, text, feature.feature_type))?;
                Value::Scalar(text, parsed)
            }
            (None, Some(items), Some(collection)) => {
                for item in items {
                    size += item.len();
                    scalar(feature.feature_type, item)
                        .ok_or_else(|| type_error(name, item, feature.feature_type))?;
                }
                match collection {
                    Collection::Vector { dimension } if items.len() != dimension => {
                        return Err(format!(
                            "The Vector feature '{name}' has dimension {dimension} but {} values were given",
                            items.len()
                        ));
                    }
                    Collection::Set => {
                        let mut seen = std::collections::HashSet::with_capacity(items.len());
                        if let Some(duplicate) = items.iter().find(|item| !seen.insert(&***item)) {
                            return Err(format!(
                                "The Set feature '{name}' contains the value '{duplicate}' more than once"
                            ));
                        }
                    }
                    _ => {}
                }
                Value::Collection(items)
            }
            (Some(_), None, Some(collection)) => {
                return Err(format!(
                    "The feature '{name}' has CollectionType {}: give its value as ValueAsStringList",
                    collection_name(collection)
                ));
            }
            (None, Some(_), None) => {
                return Err(format!(
                    "The feature '{name}' is not a collection feature: give its value as ValueAsString"
                ));
            }
        };
        values[index] = Some(value);
    }
    if size > MAX_RECORD_BYTES {
        return Err(format!(
            "The record's values total {size} bytes, above the {MAX_RECORD_BYTES}-byte (350 KB) limit"
        ));
    }
    let record_identifier = match &values[group.record_identifier] {
        Some(Value::Scalar(text, _)) => *text,
        _ => {
            return Err(format!(
                "The record identifier feature '{}' is missing from the record",
                group.record_identifier_name()
            ));
        }
    };
    if record_identifier.is_empty() || record_identifier.len() > MAX_RECORD_IDENTIFIER_BYTES {
        return Err(format!(
            "The record identifier value must be 1 to {MAX_RECORD_IDENTIFIER_BYTES} bytes (2 KB), got {}",
            record_identifier.len()
        ));
    }
    let event_time = match &values[group.event_time] {
        Some(Value::Scalar(text, parsed)) => event_time_of(group, text, *parsed)?,
        _ => {
            return Err(format!(
                "The event time feature '{}' is missing from the record",
                group.event_time_name()
            ));
        }
    };
    Ok(ValidRecord {
        record_identifier,
        event_time,
        values,
    })
}

/// The event time of a value of the event time feature, in seconds since the epoch.
pub fn event_time_of(group: &FeatureGroup, text: &str, parsed: Scalar) -> Result<f64, String> {
    match parsed {
        Scalar::Fractional(seconds) => Ok(seconds),
        _ => event_time::parse_iso(text).ok_or_else(|| {
            format!(
                "The event time '{text}' of feature '{}' is not in a supported format: \
                 yyyy-MM-dd'T'HH:mm:ssZ or yyyy-MM-dd'T'HH:mm:ss.SSSZ",
                group.event_time_name()
            )
        }),
    }
}

/// Parses an event time given outside a record (DeleteRecord's `EventTime`).
pub fn event_time_text(group: &FeatureGroup, text: &str) -> Result<(f64, Scalar), String> {
    let feature_type = group.event_time_type();
    let parsed = scalar(feature_type, text).ok_or_else(|| {
        format!(
            "The EventTime '{text}' is not valid for the event time feature '{}' of type {:?}",
            group.event_time_name(),
            feature_type
        )
    })?;
    Ok((event_time_of(group, text, parsed)?, parsed))
}
