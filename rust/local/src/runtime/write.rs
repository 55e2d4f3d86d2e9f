//! PutRecord and BatchWriteRecord: check the call, check each record against its group, then apply the
//! accepted records to the online store (latest event time wins) and the offline store (every record).
//!
//! BatchWriteRecord fails as a whole only for what the service rejects before looking at records (malformed
//! JSON, the model's constraints, throttling, permissions). An entry for an unknown feature group or a record
//! that breaks its group's rules becomes an item of `Errors`; the other entries are written.
//!
//! A write draws on the store's records-per-second budget and on that of each capped feature group its entries
//! belong to (groups resolved once per call, before it is admitted), and is counted by group in the stats.

use std::sync::Arc;

use crate::app::App;
use crate::control_plane::wire::TtlDuration;
use crate::error::{ErrorCode, ServiceError};
use crate::model::constraints::Constraints;
use crate::model::feature_group::{FeatureGroup, ttl_seconds};
use crate::model::operation::Operation;
use crate::runtime::wire::{
    BatchWriteEntryIn, BatchWriteError, BatchWriteRecordIn, BatchWriteRecordOut, PutRecordIn,
};
use crate::runtime::{json, not_found_message, validate, validation};
use crate::store::online::OnlineWrite;
use crate::store::record::ValidRecord;
use crate::store::{Group, now_seconds};

pub const MAX_BATCH_ENTRIES: usize = 25;

fn serialization(message: String) -> ServiceError {
    ServiceError::new(
        ErrorCode::SerializationException,
        format!("The request body is not valid: {message}"),
    )
}

/// The feature groups a write's entries belong to, each once, and for each entry its group's slot in `groups`
/// (none for a group this store does not have).
struct Touched {
    groups: Vec<Touch>,
    slots: Vec<Option<usize>>,
}

/// One feature group of a write: how many of the write's entries belong to it, and how many were written.
struct Touch {
    group: Arc<Group>,
    entries: usize,
    written: u64,
}

impl Touched {
    /// Resolves each entry's group name or ARN with `Store::resolve`, as the rest of the write does. Entries of
    /// one call usually share a group: a name is resolved once per run of entries naming it.
    fn resolve<'n>(app: &App, names: impl ExactSizeIterator<Item = &'n str>) -> Touched {
        let mut groups: Vec<Touch> = Vec::new();
        let mut slots = Vec::with_capacity(names.len());
        let mut last: Option<(&str, Option<usize>)> = None;
        for name in names {
            let slot = match last {
                Some((last_name, slot)) if last_name == name => slot,
                _ => {
                    let slot = app.store.resolve(name).map(|group| {
                        // A group named once by name and once by ARN is one group.
                        match groups.iter().position(|t| Arc::ptr_eq(&t.group, &group)) {
                            Some(slot) => slot,
                            None => {
                                groups.push(Touch {
                                    group,
                                    entries: 0,
                                    written: 0,
                                });
                                groups.len() - 1
                            }
                        }
                    });
                    last = Some((name, slot));
                    slot
                }
            };
            if let Some(slot) = slot {
                groups[slot].entries += 1;
            }
            slots.push(slot);
        }
        Touched { groups, slots }
    }

    /// Takes the write's records from the records-per-second budgets; a throttled write is counted against its
    /// groups here.
    fn admit(&self, app: &App, operation: Operation, records: usize) -> Result<(), ServiceError> {
        let draws = self
            .groups
            .iter()
            .map(|t| (t.group.definition.name.as_str(), t.entries));
        app.faults
            .admit_records(operation, records, draws)
            .inspect_err(|_| self.count(app, true))
    }

    fn count(&self, app: &App, throttled: bool) {
        app.stats.write_by_group(
            self.groups
                .iter()
                .map(|t| (t.group.definition.name.as_str(), t.written)),
            throttled,
        );
    }
}

/// Counts a write answered ThrottlingException before it was processed (injected throttling) against the
/// groups its records belong to. A body that does not parse names no group.
pub fn count_throttled(app: &App, operation: Operation, group_name: &str, body: &[u8]) {
    let touched = match operation {
        Operation::PutRecord => Touched::resolve(app, std::iter::once(group_name)),
        Operation::BatchWriteRecord => match json::batch_write_record(body) {
            Ok(input) => {
                let entries = input.entries.as_deref().unwrap_or_default();
                Touched::resolve(app, entry_group_names(entries))
            }
            Err(_) => return,
        },
        _ => return,
    };
    touched.count(app, true);
}

fn entry_group_names<'e>(entries: &'e [BatchWriteEntryIn<'_>]) -> impl ExactSizeIterator<Item = &'e str> {
    entries
        .iter()
        .map(|entry| entry.feature_group_name.as_deref().unwrap_or_default())
}

/// A record that passed every rule, with where it goes.
struct Accepted<'r> {
    group: Arc<Group>,
    record: ValidRecord<'r>,
    online: bool,
    offline: bool,
    expires_at: Option<f64>,
}

pub fn put_record(app: &App, group_name: &str, body: &[u8]) -> Result<Vec<u8>, ServiceError> {
    let input: PutRecordIn<'_> = json::put_record(body).map_err(serialization)?;
    let mut c = Constraints::new();
    validate::check_group_name(&mut c, &|| "featureGroupName".into(), Some(group_name));
    validate::check_record(&mut c, &|| "record".into(), input.record.as_ref());
    validate::check_target_stores(&mut c, &|| "targetStores".into(), input.target_stores.as_ref());
    validate::check_ttl(&mut c, &|| "ttlDuration".into(), input.ttl_duration.as_ref());
    c.finish().map_err(validation)?;
    let mut touched = Touched::resolve(app, std::iter::once(group_name));
    touched.admit(app, Operation::PutRecord, 1)?;

    let accepted = (|| {
        let group = touched
            .groups
            .first()
            .map(|t| Arc::clone(&t.group))
            .ok_or_else(|| validation(not_found_message(group_name)))?;
        let record = validate::record(&group.definition, input.record.as_deref().unwrap_or_default())
            .map_err(validation)?;
        let (online, offline) =
            validate::target_stores(&group.definition, input.target_stores.as_deref()).map_err(validation)?;
        let expires_at = expiry(&group.definition, &record, input.ttl_duration.as_ref(), None);
        Ok(Accepted {
            group,
            record,
            online,
            offline,
            expires_at,
        })
    })();
    let answer = match accepted {
        Ok(accepted) => {
            apply(app, std::slice::from_ref(&accepted));
            app.stats.records_written(Operation::PutRecord, 1);
            if let Some(touch) = touched.groups.first_mut() {
                touch.written = 1;
            }
            Ok(Vec::new())
        }
        Err(error) => {
            app.stats.records_rejected(1);
            Err(error)
        }
    };
    touched.count(app, false);
    answer
}

pub fn batch_write_record(app: &App, body: &[u8]) -> Result<Vec<u8>, ServiceError> {
    let input: BatchWriteRecordIn<'_> = json::batch_write_record(body).map_err(serialization)?;
    let mut c = Constraints::new();
    if c.required("entries", input.entries.as_ref())
        && let Some(entries) = &input.entries
    {
        let shown = format!("[{} entries]", entries.len());
        c.count("entries", &shown, entries.len(), 1, MAX_BATCH_ENTRIES);
        for (i, entry) in entries.iter().enumerate() {
            let member = |name: &str| format!("entries.{}.member.{name}", i + 1);
            let group_name = entry.feature_group_name.as_deref();
            validate::check_group_name(&mut c, &|| member("featureGroupName"), group_name);
            validate::check_record(&mut c, &|| member("record"), entry.record.as_ref());
            validate::check_target_stores(&mut c, &|| member("targetStores"), entry.target_stores.as_ref());
            validate::check_ttl(&mut c, &|| member("ttlDuration"), entry.ttl_duration.as_ref());
        }
    }
    validate::check_ttl(&mut c, &|| "ttlDuration".into(), input.ttl_duration.as_ref());
    c.finish().map_err(validation)?;
    let entries = input.entries.as_deref().unwrap_or_default();
    let mut touched = Touched::resolve(app, entry_group_names(entries));
    touched.admit(app, Operation::BatchWriteRecord, entries.len())?;

    let mut accepted = Vec::with_capacity(entries.len());
    let mut errors = Vec::new();
    let mut unprocessed = Vec::new();
    let unprocessed_share = app
        .faults
        .unprocessed_entry_probability(Operation::BatchWriteRecord);
    for (entry, slot) in entries.iter().zip(std::mem::take(&mut touched.slots)) {
        if unprocessed_share > 0.0 && fastrand::f64() < unprocessed_share {
            unprocessed.push(entry);
            continue;
        }
        let Some(slot) = slot else {
            let name: &str = entry.feature_group_name.as_deref().unwrap_or_default();
            errors.push(BatchWriteError {
                entry,
                error_code: ErrorCode::ResourceNotFound.as_str(),
                error_message: not_found_message(name),
            });
            continue;
        };
        let group = Arc::clone(&touched.groups[slot].group);
        let checked = validate::record(&group.definition, entry.record.as_deref().unwrap_or_default())
            .and_then(|record| {
                let stores = validate::target_stores(&group.definition, entry.target_stores.as_deref())?;
                Ok((record, stores))
            });
        match checked {
            Ok((record, (online, offline))) => {
                let expires_at = expiry(
                    &group.definition,
                    &record,
                    entry.ttl_duration.as_ref(),
                    input.ttl_duration.as_ref(),
                );
                touched.groups[slot].written += 1;
                accepted.push(Accepted {
                    group,
                    record,
                    online,
                    offline,
                    expires_at,
                });
            }
            Err(message) => errors.push(BatchWriteError {
                entry,
                error_code: ErrorCode::ValidationError.as_str(),
                error_message: message,
            }),
        }
    }
    apply(app, &accepted);

    app.stats
        .records_written(Operation::BatchWriteRecord, accepted.len() as u64);
    app.stats.records_rejected(errors.len() as u64);
    app.stats.records_unprocessed(unprocessed.len() as u64);
    touched.count(app, false);
    if !errors.is_empty() {
        app.stats.entry_errors(errors.iter().map(|e| e.error_code));
    }
    let output = BatchWriteRecordOut {
        errors,
        unprocessed_entries: unprocessed,
    };
    serde_json::to_vec(&output).map_err(|e| ServiceError::new(ErrorCode::InternalFailure, e.to_string()))
}

/// ExpiresAt = EventTime + TtlDuration, the record's own TtlDuration first, then the call's, then the group's.
fn expiry(
    group: &FeatureGroup,
    record: &ValidRecord<'_>,
    own: Option<&TtlDuration>,
    call: Option<&TtlDuration>,
) -> Option<f64> {
    let ttl = own
        .or(call)
        .and_then(ttl_seconds)
        .or_else(|| group.online.as_ref().and_then(|online| online.ttl_seconds))?;
    Some(record.event_time + ttl)
}

/// Writes accepted records, taking each group's locks once per run of records of that group.
fn apply(app: &App, accepted: &[Accepted<'_>]) {
    if app.faults.discards_writes() {
        return;
    }
    let now = now_seconds();
    let api_invocation_millis = (now * 1000.0) as i64;
    let mut start = 0;
    while start < accepted.len() {
        let group = &accepted[start].group;
        let run_len = accepted[start..]
            .iter()
            .take_while(|a| Arc::ptr_eq(&a.group, group))
            .count();
        let run = &accepted[start..start + run_len];
        if let Some(online) = &group.online {
            let writes: Vec<OnlineWrite<'_, '_>> = run
                .iter()
                .filter(|a| a.online)
                .map(|a| OnlineWrite {
                    record: &a.record,
                    expires_at: a.expires_at,
                })
                .collect();
            if !writes.is_empty() {
                online.put_all(&writes, now);
                if online.wants_flush() {
                    app.flush_wanted.notify_one();
                }
            }
        }
        if let Some(offline) = &group.offline
            && run.iter().any(|a| a.offline)
        {
            let buffered = offline.append(
                run.iter().filter(|a| a.offline).map(|a| &a.record),
                false,
                api_invocation_millis,
            );
            if buffered >= app.offline_flush_rows {
                app.flush_wanted.notify_one();
            }
        }
        start += run_len;
    }
}
