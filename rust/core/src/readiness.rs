//! Whether a feature group can take a write now, judged on the driver before any task runs: its status, and the
//! stores the write targets against the stores the group has. A write that the service would refuse for every
//! record (a group still being created, or one without the online store it targets) fails in seconds, with the
//! reason, instead of after every row was sent and failed.

use crate::config::{Operation, TargetStore, WriterConfig};
use crate::error::{Error, Result};
use crate::model::FeatureGroup;
use crate::schema::check_input_schema;

use arrow_schema::Schema;

/// The one status in which a group takes records (`FeatureGroupStatus`).
const CREATED: &str = "Created";

/// The driver's whole check of a write: the group can take it ([`check_writable`]) and `schema` is its input
/// ([`check_input_schema`]).
pub fn check_write(config: &WriterConfig, group: &FeatureGroup, schema: &Schema) -> Result<()> {
    check_writable(config, group)?;
    check_input_schema(group, schema, config.operation, config.ignore_unknown_columns)
}

/// Checks that `group` is `Created` and has every store `config.target_stores` names; an
/// [`Error::GroupNotWritable`] lists every reason it is not.
pub fn check_writable(config: &WriterConfig, group: &FeatureGroup) -> Result<()> {
    let mut reasons = Vec::new();
    if let Some(status) = group.status.as_deref().filter(|status| *status != CREATED) {
        reasons.push(status_reason(status, group.failure_reason.as_deref()));
    }
    let verb = match config.operation {
        Operation::Write => "writes to",
        Operation::Delete => "deletes from",
    };
    for store in config.target_stores.iter().flatten() {
        let missing = match store {
            TargetStore::OnlineStore if !group.online_store.enabled => {
                Some("it has no online store (its OnlineStoreConfig does not enable one)")
            }
            TargetStore::OfflineStore if group.offline_store.is_none() => {
                Some("it has no offline store (it has no OfflineStoreConfig)")
            }
            _ => None,
        };
        if let Some(missing) = missing {
            reasons.push(format!(
                "targetStores {verb} {}, but {missing}; name only the stores the group has, or leave targetStores \
                 unset to write every store it has",
                store.as_str()
            ));
        }
    }
    if config.offline_direct && group.offline_store.is_some() {
        reasons.extend(crate::offline::direct_write_problems(group));
    }
    if reasons.is_empty() {
        Ok(())
    } else {
        Err(Error::GroupNotWritable {
            group: group.name.clone(),
            reasons,
        })
    }
}

fn status_reason(status: &str, failure_reason: Option<&str>) -> String {
    let because = failure_reason.map_or(String::new(), |reason| format!(": {reason}"));
    match status {
        "Creating" => {
            "it is still being created (FeatureGroupStatus Creating); write once it is Created".into()
        }
        "CreateFailed" => format!(
            "its creation failed (FeatureGroupStatus CreateFailed{because}); delete it and create it again"
        ),
        "Deleting" => "it is being deleted (FeatureGroupStatus Deleting)".into(),
        "DeleteFailed" => format!("its deletion failed (FeatureGroupStatus DeleteFailed{because})"),
        other => format!("its status is {other}{because}, and only a Created group takes records"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn group(changes: Value) -> FeatureGroup {
        let mut describe = json!({
            "FeatureGroupName": "customers",
            "FeatureGroupArn": "arn:aws:sagemaker:us-east-1:123456789012:feature-group/customers",
            "RecordIdentifierFeatureName": "id",
            "EventTimeFeatureName": "ts",
            "FeatureDefinitions": [
                {"FeatureName": "id", "FeatureType": "String"},
                {"FeatureName": "ts", "FeatureType": "String"}
            ],
            "OnlineStoreConfig": {"EnableOnlineStore": true},
            "FeatureGroupStatus": "Created"
        });
        for (key, value) in changes.as_object().unwrap() {
            if value.is_null() {
                describe.as_object_mut().unwrap().remove(key);
            } else {
                describe[key] = value.clone();
            }
        }
        FeatureGroup::from_describe_json(&describe.to_string()).unwrap()
    }

    fn config(stores: Option<Vec<TargetStore>>, operation: Operation) -> WriterConfig {
        let mut config = WriterConfig::new("customers");
        config.target_stores = stores;
        config.operation = operation;
        config
    }

    fn reasons(config: &WriterConfig, group: &FeatureGroup) -> Vec<String> {
        match check_writable(config, group) {
            Err(Error::GroupNotWritable { group, reasons }) => {
                assert_eq!(group, "customers");
                reasons
            }
            other => panic!("expected GroupNotWritable, got {other:?}"),
        }
    }

    #[test]
    fn a_created_group_with_the_targeted_stores_takes_the_write() {
        let both = group(json!({"OfflineStoreConfig": {"S3StorageConfig": {"S3Uri": "s3://b/p"}}}));
        for stores in [
            None,
            Some(vec![TargetStore::OnlineStore, TargetStore::OfflineStore]),
        ] {
            for operation in [Operation::Write, Operation::Delete] {
                check_writable(&config(stores.clone(), operation), &both).unwrap();
            }
        }
        // An answer without a status (older services, hand-written answers) is taken as Created.
        check_writable(
            &config(None, Operation::Write),
            &group(json!({"FeatureGroupStatus": null})),
        )
        .unwrap();
    }

    #[test]
    fn every_status_but_created_is_refused_with_the_services_failure_reason() {
        let cases = [
            (
                "Creating",
                None,
                "still being created (FeatureGroupStatus Creating); write once it is Created",
            ),
            (
                "CreateFailed",
                Some("The role cannot write to s3://b"),
                "creation failed (FeatureGroupStatus CreateFailed: The role cannot write to s3://b); delete it",
            ),
            ("Deleting", None, "being deleted (FeatureGroupStatus Deleting)"),
            (
                "DeleteFailed",
                Some("busy"),
                "deletion failed (FeatureGroupStatus DeleteFailed: busy)",
            ),
            (
                "Paused",
                None,
                "its status is Paused, and only a Created group takes records",
            ),
        ];
        for (status, failure, expected) in cases {
            let group = group(json!({"FeatureGroupStatus": status, "FailureReason": failure}));
            let reasons = reasons(&config(None, Operation::Write), &group);
            assert_eq!(reasons.len(), 1, "{reasons:?}");
            assert!(reasons[0].contains(expected), "{status}: {}", reasons[0]);
        }
    }

    #[test]
    fn a_target_store_the_group_lacks_is_named_with_every_other_reason() {
        let online_only = group(json!({}));
        let offline = reasons(
            &config(Some(vec![TargetStore::OfflineStore]), Operation::Write),
            &online_only,
        );
        assert_eq!(
            offline,
            [
                "targetStores writes to OfflineStore, but it has no offline store (it has no OfflineStoreConfig); name \
              only the stores the group has, or leave targetStores unset to write every store it has"
            ]
        );
        let offline_only = group(json!({
            "OnlineStoreConfig": null,
            "OfflineStoreConfig": {"S3StorageConfig": {"S3Uri": "s3://b/p"}},
            "FeatureGroupStatus": "Creating"
        }));
        let both = reasons(
            &config(Some(vec![TargetStore::OnlineStore]), Operation::Delete),
            &offline_only,
        );
        assert_eq!(both.len(), 2, "{both:?}");
        assert!(both[0].contains("Creating"));
        assert!(both[1].starts_with("targetStores deletes from OnlineStore, but it has no online store"));
        let disabled = group(json!({"OnlineStoreConfig": {"EnableOnlineStore": false}}));
        assert_eq!(reasons_len(&disabled), 1);
        let message = check_writable(
            &config(Some(vec![TargetStore::OnlineStore]), Operation::Write),
            &disabled,
        )
        .unwrap_err()
        .to_string();
        assert!(
            message.starts_with(
                "feature group 'customers' cannot take this write: targetStores writes to OnlineStore"
            ),
            "{message}"
        );
    }

    fn reasons_len(group: &FeatureGroup) -> usize {
        reasons(
            &config(Some(vec![TargetStore::OnlineStore]), Operation::Write),
            group,
        )
        .len()
    }
}
