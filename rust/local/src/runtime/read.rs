//! GetRecord, BatchGetRecord and ListRecords: reads of the online store.

use crate::app::App;
use crate::error::{ErrorCode, ServiceError};
use crate::model::constraints::Constraints;
use crate::model::event_time;
use crate::model::feature_group::FeatureGroup;
use crate::model::names;
use crate::model::text::Text;
use crate::runtime::wire::{BatchGetRecordIn, ListRecordsIn, ListRecordsOut};
use crate::runtime::{not_found_message, parse_body, validate, validation};
use crate::store::online::{OnlineRecord, OnlineTable};
use crate::store::record::{StoredValue, decode_body};
use crate::store::{Group, now_seconds};

const EXPIRATION_TIME_RESPONSE: [&str; 2] = ["Enabled", "Disabled"];
pub const MAX_BATCH_GET_IDENTIFIERS: usize = 100;
pub const MAX_LIST_RESULTS: i64 = 100;

fn internal(e: impl ToString) -> ServiceError {
    ServiceError::new(ErrorCode::InternalFailure, e.to_string())
}

fn no_online_store(group: &FeatureGroup) -> String {
    format!("The OnlineStore is not enabled for feature group {}", group.name)
}

fn online_table(group: &Group) -> Result<&OnlineTable, String> {
    group
        .online
        .as_deref()
        .ok_or_else(|| no_online_store(&group.definition))
}

/// Indexes of the requested features; `None` means all.
fn feature_filter(group: &FeatureGroup, names: Option<&[&str]>) -> Result<Option<Vec<usize>>, String> {
    let Some(names) = names else { return Ok(None) };
    names
        .iter()
        .map(|name| {
            group.feature_index(name).ok_or_else(|| {
                format!(
                    "The feature '{name}' is not defined in the FeatureDefinitions of feature group {}",
                    group.name
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

fn check_feature_names(c: &mut Constraints, path: &str, names: &[&str]) {
    if names.is_empty() {
        c.count(path, &"[]", 0, 1, usize::MAX);
    }
    for (i, name) in names.iter().enumerate() {
        if !names::is_valid_name(name) {
            let path = format!("{path}.{}.member", i + 1);
            if c.length(&path, name, 1, names::MAX_NAME_LEN) {
                c.pattern(&path, name, false, names::NAME_PATTERN);
            }
        }
    }
}

/// Appends `text` as a JSON string.
fn json_string(out: &mut Vec<u8>, text: &str) {
    // Writing a &str to a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, text);
}

/// Appends a record's `[{"FeatureName":..,"ValueAsString":..},...]` from its stored body.
fn write_record(
    out: &mut Vec<u8>,
    group: &FeatureGroup,
    record: &OnlineRecord,
    filter: Option<&[usize]>,
) -> Result<(), ServiceError> {
    let values = decode_body(&record.body).ok_or_else(|| internal("a stored record is damaged"))?;
    out.push(b'[');
    let mut first = true;
    for (index, value) in values {
        if filter.is_some_and(|wanted| !wanted.contains(&index)) {
            continue;
        }
        let Some(feature) = group.features.get(index) else {
            return Err(internal("a stored record names an unknown feature"));
        };
        if !first {
            out.push(b',');
        }
        first = false;
        out.extend_from_slice(b"{\"FeatureName\":");
        json_string(out, &feature.name);
        match value {
            StoredValue::Scalar(text) => {
                out.extend_from_slice(b",\"ValueAsString\":");
                json_string(out, text);
            }
            StoredValue::Collection(items) => {
                out.extend_from_slice(b",\"ValueAsStringList\":[");
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    json_string(out, item);
                }
                out.push(b']');
            }
        }
        out.push(b'}');
    }
    out.push(b']');
    Ok(())
}

fn write_expires_at(out: &mut Vec<u8>, record: &OnlineRecord, wanted: bool) {
    if let (true, Some(expires_at)) = (wanted, record.expires_at) {
        out.extend_from_slice(b",\"ExpiresAt\":");
        json_string(out, &event_time::format_iso_millis(expires_at));
    }
}

pub fn get_record(app: &App, group_name: &str, query: &[(String, String)]) -> Result<Vec<u8>, ServiceError> {
    let record_identifier = query
        .iter()
        .find(|(k, _)| k == "RecordIdentifierValueAsString")
        .map(|(_, v)| v.as_str());
    let feature_names: Vec<&str> = query
        .iter()
        .filter(|(k, _)| k == "FeatureName")
        .map(|(_, v)| v.as_str())
        .collect();
    let expiration = query
        .iter()
        .find(|(k, _)| k == "ExpirationTimeResponse")
        .map(|(_, v)| v.as_str());
    let mut c = Constraints::new();
    validate::check_group_name(&mut c, &|| "featureGroupName".into(), Some(group_name));
    if c.required("recordIdentifierValueAsString", record_identifier)
        && let Some(id) = record_identifier
    {
        c.length("recordIdentifierValueAsString", id, 0, validate::MAX_VALUE_LEN);
    }
    if !feature_names.is_empty() {
        check_feature_names(&mut c, "featureNames", &feature_names);
    }
    if let Some(expiration) = expiration {
        c.one_of("expirationTimeResponse", expiration, &EXPIRATION_TIME_RESPONSE);
    }
    c.finish().map_err(validation)?;

    let group = app
        .store
        .resolve(group_name)
        .ok_or_else(|| ServiceError::new(ErrorCode::ResourceNotFound, not_found_message(group_name)))?;
    let online = online_table(&group).map_err(validation)?;
    let filter = feature_filter(
        &group.definition,
        (!feature_names.is_empty()).then_some(&feature_names[..]),
    )
    .map_err(validation)?;
    let found = online
        .get(record_identifier.unwrap_or_default(), now_seconds())
        .map_err(internal)?;
    // The service answers an empty result, not an error, when there is no such record.
    let Some(record) = found else {
        return Ok(b"{}".to_vec());
    };
    app.stats.records_read(1);
    let mut out = Vec::with_capacity(record.body.len() + 256);
    out.extend_from_slice(b"{\"Record\":");
    write_record(&mut out, &group.definition, &record, filter.as_deref())?;
    write_expires_at(&mut out, &record, expiration == Some("Enabled"));
    out.push(b'}');
    Ok(out)
}

pub fn batch_get_record(app: &App, body: &[u8]) -> Result<Vec<u8>, ServiceError> {
    let input: BatchGetRecordIn<'_> = parse_body(body)?;
    let mut c = Constraints::new();
    if c.required("identifiers", input.identifiers.as_ref())
        && let Some(identifiers) = &input.identifiers
    {
        c.count(
            "identifiers",
            &format!("[{} identifiers]", identifiers.len()),
            identifiers.len(),
            1,
            MAX_BATCH_GET_IDENTIFIERS,
        );
        for (i, identifier) in identifiers.iter().enumerate() {
            let path = format!("identifiers.{}.member", i + 1);
            validate::check_group_name(
                &mut c,
                &|| format!("{path}.featureGroupName"),
                identifier.feature_group_name.as_deref(),
            );
            let ids_path = format!("{path}.recordIdentifiersValueAsString");
            if c.required(&ids_path, identifier.record_identifiers.as_ref())
                && let Some(ids) = &identifier.record_identifiers
            {
                c.count(
                    &ids_path,
                    &format!("[{} identifiers]", ids.len()),
                    ids.len(),
                    1,
                    MAX_BATCH_GET_IDENTIFIERS,
                );
            }
            if let Some(names) = &identifier.feature_names {
                let names: Vec<&str> = names.iter().map(|n| &**n).collect();
                check_feature_names(&mut c, &format!("{path}.featureNames"), &names);
            }
        }
    }
    if let Some(expiration) = &input.expiration_time_response {
        c.one_of("expirationTimeResponse", expiration, &EXPIRATION_TIME_RESPONSE);
    }
    c.finish().map_err(validation)?;

    let with_expiry = input.expiration_time_response.as_deref() == Some("Enabled");
    let now = now_seconds();
    let mut records = Vec::new();
    let mut errors = Vec::new();
    let mut error_codes = Vec::new();
    let mut read = 0;
    for identifier in input.identifiers.as_deref().unwrap_or_default() {
        let group_name: &str = identifier.feature_group_name.as_deref().unwrap_or_default();
        let ids: &[Text<'_>] = identifier.record_identifiers.as_deref().unwrap_or_default();
        let names: Option<Vec<&str>> = identifier
            .feature_names
            .as_ref()
            .map(|n| n.iter().map(|n| &**n).collect());
        let resolved = app
            .store
            .resolve(group_name)
            .ok_or((ErrorCode::ResourceNotFound, not_found_message(group_name)))
            .and_then(|group| {
                online_table(&group).map_err(|m| (ErrorCode::ValidationError, m))?;
                let filter = feature_filter(&group.definition, names.as_deref())
                    .map_err(|m| (ErrorCode::ValidationError, m))?;
                Ok((group, filter))
            });
        let (group, filter) = match resolved {
            Ok(found) => found,
            Err((code, message)) => {
                for id in ids {
                    write_batch_get_error(&mut errors, group_name, id, code, &message);
                    error_codes.push(code.as_str());
                }
                continue;
            }
        };
        let Some(online) = &group.online else { continue };
        for id in ids {
            let Some(record) = online.get(id, now).map_err(internal)? else {
                continue;
            };
            if !records.is_empty() {
                records.push(b',');
            }
            records.extend_from_slice(b"{\"FeatureGroupName\":");
            json_string(&mut records, group_name);
            records.extend_from_slice(b",\"RecordIdentifierValueAsString\":");
            json_string(&mut records, id);
            records.extend_from_slice(b",\"Record\":");
            write_record(&mut records, &group.definition, &record, filter.as_deref())?;
            write_expires_at(&mut records, &record, with_expiry);
            records.push(b'}');
            read += 1;
        }
    }
    app.stats.records_read(read);
    if !error_codes.is_empty() {
        app.stats.entry_errors(error_codes);
    }
    let mut out = Vec::with_capacity(records.len() + errors.len() + 64);
    out.extend_from_slice(b"{\"Records\":[");
    out.extend_from_slice(&records);
    out.extend_from_slice(b"],\"Errors\":[");
    out.extend_from_slice(&errors);
    out.extend_from_slice(b"],\"UnprocessedIdentifiers\":[]}");
    Ok(out)
}

fn write_batch_get_error(out: &mut Vec<u8>, group_name: &str, id: &str, code: ErrorCode, message: &str) {
    if !out.is_empty() {
        out.push(b',');
    }
    out.extend_from_slice(b"{\"FeatureGroupName\":");
    json_string(out, group_name);
    out.extend_from_slice(b",\"RecordIdentifierValueAsString\":");
    json_string(out, id);
    out.extend_from_slice(b",\"ErrorCode\":");
    json_string(out, code.as_str());
    out.extend_from_slice(b",\"ErrorMessage\":");
    json_string(out, message);
    out.push(b'}');
}

const TOKEN_PREFIX: &str = "v1.";

fn encode_token(last_key: &str) -> String {
    let mut token = String::with_capacity(TOKEN_PREFIX.len() + last_key.len() * 2);
    token.push_str(TOKEN_PREFIX);
    for byte in last_key.bytes() {
        token.push_str(&format!("{byte:02x}"));
    }
    token
}

fn decode_token(token: &str) -> Option<String> {
    let hex = token.strip_prefix(TOKEN_PREFIX)?;
    if hex.len() % 2 != 0 {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect();
    String::from_utf8(bytes?).ok()
}

pub fn list_records(app: &App, group_name: &str, body: &[u8]) -> Result<Vec<u8>, ServiceError> {
    let input: ListRecordsIn<'_> = parse_body(body)?;
    let mut c = Constraints::new();
    validate::check_group_name(&mut c, &|| "featureGroupName".into(), Some(group_name));
    if let Some(max) = input.max_results {
        c.range("maxResults", max, 1, MAX_LIST_RESULTS);
    }
    if let Some(token) = &input.next_token {
        c.length("nextToken", token, 1, 8192);
    }
    c.finish().map_err(validation)?;

    let group = app
        .store
        .resolve(group_name)
        .ok_or_else(|| ServiceError::new(ErrorCode::ResourceNotFound, not_found_message(group_name)))?;
    let online = online_table(&group).map_err(validation)?;
    let after = match &input.next_token {
        Some(token) => Some(decode_token(token).ok_or_else(|| validation("The NextToken is not valid"))?),
        None => None,
    };
    let limit = input.max_results.unwrap_or(MAX_LIST_RESULTS) as usize;
    let include_soft_deleted = input.include_soft_deleted_records.unwrap_or(false);
    let (keys, more) = online.list(after.as_deref(), limit, include_soft_deleted, now_seconds());
    let next_token = if more {
        keys.last().map(|last| encode_token(last))
    } else {
        None
    };
    serde_json::to_vec(&ListRecordsOut {
        record_identifiers: keys,
        next_token,
    })
    .map_err(internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_any_key() {
        for key in ["a", "rec-000001", "é/ü:%", ""] {
            assert_eq!(decode_token(&encode_token(key)).as_deref(), Some(key));
        }
        assert_eq!(decode_token("garbage"), None);
        assert_eq!(decode_token("v1.zz"), None);
        assert_eq!(decode_token("v1.abc"), None);
    }
}
