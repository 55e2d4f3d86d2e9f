//! Request bodies written straight from encoded records, and the answers parsed back.
//!
//! Each record is already the exact JSON text of its `Record` member (see [`crate::record`]): a body is the
//! fixed parts of the operation's input shape (botocore `sagemaker-featurestore-runtime` 2020-07-01) with the
//! records spliced in, never re-encoded.

use serde::Deserialize;
use serde_json::Value;

use crate::config::{DeletionMode, TargetStore, TtlDuration};
use crate::signing::push_uri_encoded;

/// The parts of a write that are the same for every record of a writer, pre-rendered as JSON once.
#[derive(Debug, Clone)]
pub struct WriteTemplate {
    /// `{"FeatureGroupName":"<name>","Record":` — the start of a BatchWriteRecord entry.
    entry_start: String,
    /// `,"TargetStores":[...],"TtlDuration":{...}}` — the end of an entry, or of a PutRecord body.
    record_end: String,
    /// `/FeatureGroup/<name, percent-encoded>` — PutRecord's path.
    put_path: String,
}

pub const BATCH_WRITE_RECORD_PATH: &str = "/BatchWriteRecord";

impl WriteTemplate {
    pub fn new(feature_group: &str, target_stores: Option<&[TargetStore]>, ttl: Option<TtlDuration>) -> Self {
        let name = Value::String(feature_group.to_owned()).to_string();
        let entry_start = format!(r#"{{"FeatureGroupName":{name},"Record":"#);
        let mut record_end = String::new();
        if let Some(stores) = target_stores {
            let names: Vec<String> = stores.iter().map(|s| format!("\"{}\"", s.as_str())).collect();
            record_end.push_str(&format!(r#","TargetStores":[{}]"#, names.join(",")));
        }
        if let Some(ttl) = ttl {
            record_end.push_str(&format!(
                r#","TtlDuration":{{"Unit":"{}","Value":{}}}"#,
                ttl.unit.as_str(),
                ttl.value
            ));
        }
        record_end.push('}');
        let mut put_path = String::from("/FeatureGroup/");
        push_uri_encoded(&mut put_path, feature_group);
        Self {
            entry_start,
            record_end,
            put_path,
        }
    }

    pub fn put_path(&self) -> &str {
        &self.put_path
    }

    /// Bytes a BatchWriteRecord body of `records` will take, to allocate it once.
    pub fn batch_body_len<'a>(&self, records: impl Iterator<Item = &'a [u8]>) -> usize {
        let (count, bytes) = records.fold((0, 0), |(n, b), r| (n + 1, b + r.len()));
        13 + count * (self.entry_start.len() + self.record_end.len() + 1) + bytes
    }

    /// `{"Entries":[{"FeatureGroupName":..,"Record":<record>,"TargetStores":..,"TtlDuration":..},..]}`
    pub fn write_batch_body<'a>(&self, records: impl Iterator<Item = &'a [u8]>, out: &mut Vec<u8>) {
        out.extend_from_slice(br#"{"Entries":["#);
        for (i, record) in records.enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(self.entry_start.as_bytes());
            out.extend_from_slice(record);
            out.extend_from_slice(self.record_end.as_bytes());
        }
        out.extend_from_slice(b"]}");
    }

    /// `{"Record":<record>,"TargetStores":..,"TtlDuration":..}`
    pub fn write_put_body(&self, record: &[u8], out: &mut Vec<u8>) {
        out.reserve(11 + record.len() + self.record_end.len());
        out.extend_from_slice(br#"{"Record":"#);
        out.extend_from_slice(record);
        out.extend_from_slice(self.record_end.as_bytes());
    }
}

/// What every DeleteRecord of a writer shares: the mode, and which features of an encoded record hold its
/// parameters (a delete's record is encoded from the record identifier and event time columns only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteSpec {
    pub mode: DeletionMode,
    pub record_identifier_feature: String,
    pub event_time_feature: String,
}

/// A delete's `RecordIdentifierValueAsString` and `EventTime`, read from its encoded record.
pub fn delete_params(record: &[u8], delete: &DeleteSpec) -> Result<(String, String), String> {
    #[derive(Deserialize)]
    struct Feature {
        #[serde(rename = "FeatureName")]
        name: String,
        #[serde(rename = "ValueAsString")]
        value: Option<String>,
    }
    let features: Vec<Feature> =
        serde_json::from_slice(record).map_err(|e| format!("unreadable encoded record: {e}"))?;
    let value = |name: &str| {
        features
            .iter()
            .find(|f| f.name == name)
            .and_then(|f| f.value.clone())
            .ok_or_else(|| format!("the encoded record has no value for '{name}'"))
    };
    Ok((
        value(&delete.record_identifier_feature)?,
        value(&delete.event_time_feature)?,
    ))
}

/// DeleteRecord's query string for one encoded record, in SigV4's canonical form (parameters sorted by name,
/// then value; every byte but the unreserved ones percent-encoded), so that the text sent is the text signed.
pub fn delete_query(
    record: &[u8],
    delete: &DeleteSpec,
    target_stores: Option<&[TargetStore]>,
) -> Result<String, String> {
    let (record_identifier, event_time) = delete_params(record, delete)?;
    let mut query = String::with_capacity(96 + record_identifier.len() + event_time.len());
    query.push_str("DeletionMode=");
    query.push_str(delete.mode.as_str());
    query.push_str("&EventTime=");
    push_uri_encoded(&mut query, &event_time);
    query.push_str("&RecordIdentifierValueAsString=");
    push_uri_encoded(&mut query, &record_identifier);
    let mut stores: Vec<&str> = target_stores
        .unwrap_or_default()
        .iter()
        .map(|s| s.as_str())
        .collect();
    stores.sort_unstable();
    for store in stores {
        query.push_str("&TargetStores=");
        query.push_str(store);
    }
    Ok(query)
}

/// A BatchWriteRecord answer: entries in error and entries left unprocessed; every other entry was written.
#[derive(Debug, Default, Deserialize)]
pub struct BatchWriteReply {
    #[serde(rename = "Errors", default)]
    pub errors: Vec<EntryError>,
    #[serde(rename = "UnprocessedEntries", default)]
    pub unprocessed: Vec<ReturnedEntry>,
}

#[derive(Debug, Deserialize)]
pub struct EntryError {
    #[serde(rename = "Entry")]
    pub entry: ReturnedEntry,
    #[serde(rename = "ErrorCode", default)]
    pub code: String,
    #[serde(rename = "ErrorMessage", default)]
    pub message: String,
}

/// An entry as the service echoes it back; only its `Record` is needed to find which record it was.
#[derive(Debug, Deserialize)]
pub struct ReturnedEntry {
    #[serde(rename = "Record", default)]
    pub record: Value,
}

impl BatchWriteReply {
    pub fn parse(body: &[u8]) -> Result<Self, String> {
        serde_json::from_slice(body).map_err(|e| format!("unreadable BatchWriteRecord response: {e}"))
    }

    pub fn is_clean(&self) -> bool {
        self.errors.is_empty() && self.unprocessed.is_empty()
    }
}

/// Finds which of a request's records each returned entry is: by equal `Record` values (a record echoed back
/// may differ in whitespace or escaping, never in values). Each request record matches at most once, so
/// duplicates in one request are told apart by position. `None` where nothing matches.
pub fn match_returned(records: &[&[u8]], returned: &[&Value]) -> Vec<Option<usize>> {
    let parsed: Vec<Option<Value>> = records.iter().map(|r| serde_json::from_slice(r).ok()).collect();
    let mut taken = vec![false; records.len()];
    returned
        .iter()
        .map(|entry| {
            let found = parsed
                .iter()
                .enumerate()
                .position(|(i, record)| !taken[i] && record.as_ref() == Some(*entry));
            if let Some(i) = found {
                taken[i] = true;
            }
            found
        })
        .collect()
}

/// The code and message of an error answer (REST-JSON and awsJson 1.1 alike): the code from the
/// `x-amzn-ErrorType` header or the body's `__type`/`code`, stripped of any `namespace#` prefix and `:uri`
/// suffix; the message from the body's `message`/`Message`.
pub fn parse_error(status: u16, error_type_header: Option<&str>, body: &[u8]) -> (String, String) {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let field = |names: &[&str]| -> Option<String> {
        let object = parsed.as_ref()?.as_object()?;
        names
            .iter()
            .find_map(|n| object.get(*n)?.as_str().map(str::to_owned))
    };
    let raw_code = error_type_header
        .map(str::to_owned)
        .or_else(|| field(&["__type", "code", "Code"]))
        .unwrap_or_default();
    let code = sanitize_code(&raw_code);
    let code = if code.is_empty() {
        format!("HTTP{status}")
    } else {
        code
    };
    let message = field(&["message", "Message", "errorMessage"])
        .unwrap_or_else(|| String::from_utf8_lossy(&body[..body.len().min(512)]).into_owned());
    (code, message)
}

fn sanitize_code(raw: &str) -> String {
    let without_uri = raw.split(':').next().unwrap_or(raw);
    let without_namespace = without_uri.rsplit('#').next().unwrap_or(without_uri);
    without_namespace.trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::TtlUnit;
    use serde_json::json;

    const R1: &[u8] = br#"[{"FeatureName":"id","ValueAsString":"1"},{"FeatureName":"t","ValueAsString":"2024-01-01T00:00:00Z"}]"#;
    const R2: &[u8] =
        br#"[{"FeatureName":"id","ValueAsString":"2"},{"FeatureName":"l","ValueAsStringList":["a","b"]}]"#;

    #[test]
    fn batch_body_is_the_input_shape_with_records_spliced_in() {
        let template = WriteTemplate::new(
            "my \"group\"",
            Some(&[TargetStore::OnlineStore, TargetStore::OfflineStore]),
            Some(TtlDuration {
                unit: TtlUnit::Days,
                value: 7,
            }),
        );
        let mut body = Vec::new();
        template.write_batch_body([R1, R2].into_iter(), &mut body);
        assert_eq!(template.batch_body_len([R1, R2].into_iter()), body.len());
        let parsed: Value = serde_json::from_slice(&body).unwrap();
        let entry = |record: &[u8]| {
            json!({"FeatureGroupName": "my \"group\"",
                   "Record": serde_json::from_slice::<Value>(record).unwrap(),
                   "TargetStores": ["OnlineStore", "OfflineStore"],
                   "TtlDuration": {"Unit": "Days", "Value": 7}})
        };
        assert_eq!(parsed, json!({"Entries": [entry(R1), entry(R2)]}));
    }

    #[test]
    fn put_body_and_path_without_options() {
        let template = WriteTemplate::new(
            "arn:aws:sagemaker:us-east-1:123456789012:feature-group/g",
            None,
            None,
        );
        let mut body = Vec::new();
        template.write_put_body(R2, &mut body);
        let parsed: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            parsed,
            json!({"Record": serde_json::from_slice::<Value>(R2).unwrap()})
        );
        assert_eq!(
            template.put_path(),
            "/FeatureGroup/arn%3Aaws%3Asagemaker%3Aus-east-1%3A123456789012%3Afeature-group%2Fg"
        );
        let mut batch = Vec::new();
        template.write_batch_body([R1].into_iter(), &mut batch);
        assert_eq!(template.batch_body_len([R1].into_iter()), batch.len());
    }

    #[test]
    fn a_delete_query_is_canonical_and_carries_the_records_identifier_and_event_time() {
        let delete = DeleteSpec {
            mode: DeletionMode::HardDelete,
            record_identifier_feature: "id".into(),
            event_time_feature: "t".into(),
        };
        let record = br#"[{"FeatureName":"id","ValueAsString":"a b/\u00e9&="},{"FeatureName":"t","ValueAsString":"2024-01-01T00:00:00.000Z"}]"#;
        assert_eq!(
            delete_query(
                record,
                &delete,
                Some(&[TargetStore::OnlineStore, TargetStore::OfflineStore])
            )
            .unwrap(),
            "DeletionMode=HardDelete&EventTime=2024-01-01T00%3A00%3A00.000Z\
             &RecordIdentifierValueAsString=a%20b%2F%C3%A9%26%3D&TargetStores=OfflineStore&TargetStores=OnlineStore"
        );
        let soft = DeleteSpec {
            mode: DeletionMode::SoftDelete,
            ..delete.clone()
        };
        assert_eq!(
            delete_query(record, &soft, None).unwrap(),
            "DeletionMode=SoftDelete&EventTime=2024-01-01T00%3A00%3A00.000Z\
             &RecordIdentifierValueAsString=a%20b%2F%C3%A9%26%3D"
        );
        let no_time = br#"[{"FeatureName":"id","ValueAsString":"1"}]"#;
        assert_eq!(
            delete_query(no_time, &delete, None).unwrap_err(),
            "the encoded record has no value for 't'"
        );
    }

    #[test]
    fn returned_entries_are_matched_by_value_and_duplicates_by_position() {
        let reply = BatchWriteReply::parse(
            br#"{"Errors":[{"Entry":{"FeatureGroupName":"g","Record":[{"FeatureName":"id","ValueAsString":"2"},
                 {"FeatureName":"l","ValueAsStringList":["a","b"]}]},"ErrorCode":"ValidationError","ErrorMessage":"bad"}],
                 "UnprocessedEntries":[{"FeatureGroupName":"g","Record":[{"FeatureName":"id","ValueAsString":"1"},
                 {"FeatureName":"t","ValueAsString":"2024-01-01T00:00:00Z"}]},
                 {"FeatureGroupName":"g","Record":[{"FeatureName":"id","ValueAsString":"1"},
                 {"FeatureName":"t","ValueAsString":"2024-01-01T00:00:00Z"}]},
                 {"FeatureGroupName":"g","Record":[{"FeatureName":"id","ValueAsString":"9"}]}]}"#,
        )
        .unwrap();
        assert!(!reply.is_clean());
        assert_eq!(reply.errors[0].code, "ValidationError");
        let records = [R1, R2, R1];
        let errors: Vec<&Value> = reply.errors.iter().map(|e| &e.entry.record).collect();
        assert_eq!(match_returned(&records, &errors), vec![Some(1)]);
        let unprocessed: Vec<&Value> = reply.unprocessed.iter().map(|e| &e.record).collect();
        assert_eq!(
            match_returned(&records, &unprocessed),
            vec![Some(0), Some(2), None]
        );
        assert!(
            BatchWriteReply::parse(br#"{"Errors":[],"UnprocessedEntries":[]}"#)
                .unwrap()
                .is_clean()
        );
        assert!(BatchWriteReply::parse(b"<html>").is_err());
    }

    #[test]
    fn error_codes_come_from_the_header_or_the_body() {
        let (code, message) = parse_error(
            400,
            Some("ValidationError:http://internal.amazon.com/coral/com.amazon.coral.validate/"),
            br#"{"message":"1 validation error detected"}"#,
        );
        assert_eq!(
            (code.as_str(), message.as_str()),
            ("ValidationError", "1 validation error detected")
        );
        let (code, message) = parse_error(
            404,
            None,
            br#"{"__type":"com.amazonaws.sagemaker#ResourceNotFound","Message":"no such group"}"#,
        );
        assert_eq!(
            (code.as_str(), message.as_str()),
            ("ResourceNotFound", "no such group")
        );
        let (code, message) = parse_error(502, None, b"Bad Gateway");
        assert_eq!((code.as_str(), message.as_str()), ("HTTP502", "Bad Gateway"));
    }
}
