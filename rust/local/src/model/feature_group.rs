//! A feature group's definition as the store uses it, built from a CreateFeatureGroup request by checking every
//! rule the service applies (model constraints first, then the rules between members).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::control_plane::wire::{self, CreateFeatureGroupRequest};
use crate::model::constraints::Constraints;
use crate::model::names::{self, RESERVED_FEATURE_NAMES};

pub const MAX_FEATURE_DEFINITIONS: usize = 2500;
pub const MAX_VECTOR_DIMENSION: i64 = 8192;
/// UpdateFeatureGroup's `FeatureAdditions`, at most.
pub const MAX_FEATURE_ADDITIONS: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeatureType {
    Integral,
    Fractional,
    String,
}

impl FeatureType {
    pub const NAMES: [&'static str; 3] = ["Integral", "Fractional", "String"];

    fn parse(name: &str) -> Option<FeatureType> {
        match name {
            "Integral" => Some(FeatureType::Integral),
            "Fractional" => Some(FeatureType::Fractional),
            "String" => Some(FeatureType::String),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Collection {
    List,
    Set,
    Vector { dimension: usize },
}

#[derive(Debug, Clone, PartialEq)]
pub struct FeatureDefinition {
    pub name: String,
    pub feature_type: FeatureType,
    pub collection: Option<Collection>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageType {
    Standard,
    StandardV2,
    InMemory,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OnlineStore {
    pub storage_type: StorageType,
    /// The group's default time to live, in seconds.
    pub ttl_seconds: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OfflineStore {
    /// Where the service would write: `s3://bucket/prefix/<account>/sagemaker/<region>/offline-store/<group>-<ts>/data`.
    pub resolved_uri: String,
    /// Where this store writes: the resolved URI mapped under `<data-dir>/s3/`.
    pub local_dir: PathBuf,
    pub table_format: String,
    pub data_catalog: wire::DataCatalogConfig,
}

/// A feature group, valid by construction.
#[derive(Debug, Clone)]
pub struct FeatureGroup {
    pub name: String,
    pub arn: String,
    /// Seconds since the epoch, with milliseconds.
    pub creation_time: f64,
    pub features: Vec<FeatureDefinition>,
    pub record_identifier: usize,
    pub event_time: usize,
    pub online: Option<OnlineStore>,
    pub offline: Option<OfflineStore>,
    /// The request it was created from, persisted in the catalog and echoed by DescribeFeatureGroup.
    pub request: CreateFeatureGroupRequest,
    by_name: HashMap<String, usize>,
}

/// Where a feature group lives: the store's identity and data directory.
#[derive(Debug, Clone)]
pub struct Placement<'a> {
    pub region: &'a str,
    pub account_id: &'a str,
    pub data_dir: &'a Path,
}

impl FeatureGroup {
    /// Checks a CreateFeatureGroup request; the error is the service's ValidationException message.
    pub fn from_request(
        request: CreateFeatureGroupRequest,
        creation_time: f64,
        placement: &Placement<'_>,
    ) -> Result<FeatureGroup, String> {
        check_constraints(&request)?;
        // The constraints guarantee every required member below.
        let missing = || "1 validation error detected: a required member is missing".to_owned();
        let name = request.feature_group_name.clone().ok_or_else(missing)?;
        let definitions = request.feature_definitions.as_deref().ok_or_else(missing)?;
        let online = online_store(request.online_store_config.as_ref())?;
        let features = feature_definitions(definitions, online.as_ref())?;
        let by_name: HashMap<String, usize> = features
            .iter()
            .enumerate()
            .map(|(i, f)| (f.name.clone(), i))
            .collect();

        let record_identifier_name = request
            .record_identifier_feature_name
            .as_deref()
            .ok_or_else(missing)?;
        let record_identifier = *by_name.get(record_identifier_name).ok_or_else(|| {
            format!(
                "The RecordIdentifierFeatureName '{record_identifier_name}' is not present in FeatureDefinitions"
            )
        })?;
        if features[record_identifier].collection.is_some() {
            return Err(format!(
                "The record identifier feature '{record_identifier_name}' cannot be a collection type"
            ));
        }
        let event_time_name = request.event_time_feature_name.as_deref().ok_or_else(missing)?;
        let event_time = *by_name.get(event_time_name).ok_or_else(|| {
            format!("The EventTimeFeatureName '{event_time_name}' is not present in FeatureDefinitions")
        })?;
        if event_time == record_identifier {
            return Err(
                "The RecordIdentifierFeatureName and the EventTimeFeatureName must be different features"
                    .into(),
            );
        }
        let event_time_feature = &features[event_time];
        if event_time_feature.collection.is_some() || event_time_feature.feature_type == FeatureType::Integral
        {
            return Err(format!(
                "The event time feature '{event_time_name}' must be of FeatureType String or Fractional"
            ));
        }
        if online.is_none() && request.offline_store_config.is_none() {
            return Err(
                "You must include at least one of OnlineStoreConfig (with EnableOnlineStore true) and \
                        OfflineStoreConfig to create a FeatureGroup"
                    .to_owned(),
            );
        }
        let ts = creation_time.floor() as i64;
        let offline = match &request.offline_store_config {
            Some(config) => Some(offline_store(config, &name, ts, placement)?),
            None => None,
        };
        Ok(FeatureGroup {
            arn: names::feature_group_arn(placement.region, placement.account_id, &name),
            name,
            creation_time,
            features,
            record_identifier,
            event_time,
            online,
            offline,
            request,
            by_name,
        })
    }

    /// The group with UpdateFeatureGroup's `FeatureAdditions` appended, checked by the service's rules: 1 to
    /// [`MAX_FEATURE_ADDITIONS`] definitions, names new to the group and unique among themselves (ignoring
    /// case, as on create), then every rule of a definition on create (reserved names, collections only with an
    /// InMemory online store, vectors Fractional with a dimension, at most [`MAX_FEATURE_DEFINITIONS`] in all).
    /// The error is the service's ValidationException message.
    pub fn with_additions(
        &self,
        additions: Option<&[wire::FeatureDefinition]>,
        placement: &Placement<'_>,
    ) -> Result<FeatureGroup, String> {
        let mut c = Constraints::new();
        if c.required("featureAdditions", additions)
            && let Some(additions) = additions
        {
            let shown = format!("[{} feature definitions]", additions.len());
            c.count(
                "featureAdditions",
                &shown,
                additions.len(),
                1,
                MAX_FEATURE_ADDITIONS,
            );
            check_definitions(&mut c, "featureAdditions", additions);
        }
        c.finish()?;
        let additions = additions.unwrap_or_default();
        for addition in additions {
            let name = addition.feature_name.as_deref().unwrap_or_default();
            if let Some(existing) = self.features.iter().find(|f| f.name.eq_ignore_ascii_case(name)) {
                return Err(format!(
                    "The feature '{name}' already exists in feature group '{}' (as '{}'; feature names are \
                     compared ignoring case): FeatureAdditions can only add new features",
                    self.name, existing.name
                ));
            }
        }
        let mut request = self.request.clone();
        let mut definitions = request.feature_definitions.take().unwrap_or_default();
        definitions.extend(additions.iter().cloned());
        if definitions.len() > MAX_FEATURE_DEFINITIONS {
            return Err(format!(
                "The feature group '{}' would have {} features; the limit is {MAX_FEATURE_DEFINITIONS}",
                self.name,
                definitions.len()
            ));
        }
        request.feature_definitions = Some(definitions);
        FeatureGroup::from_request(request, self.creation_time, placement)
    }

    pub fn feature_index(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    pub fn record_identifier_name(&self) -> &str {
        &self.features[self.record_identifier].name
    }

    pub fn event_time_name(&self) -> &str {
        &self.features[self.event_time].name
    }

    pub fn event_time_type(&self) -> FeatureType {
        self.features[self.event_time].feature_type
    }
}

const STORAGE_TYPES: [&str; 3] = ["Standard", "Standard_V2", "InMemory"];
const TTL_UNITS: [&str; 5] = ["Seconds", "Minutes", "Hours", "Days", "Weeks"];
const TABLE_FORMATS: [&str; 3] = ["Default", "Glue", "Iceberg"];
const THROUGHPUT_MODES: [&str; 2] = ["OnDemand", "Provisioned"];
const COLLECTION_TYPES: [&str; 3] = ["List", "Set", "Vector"];

/// Seconds in one TtlDuration unit.
pub fn ttl_unit_seconds(unit: &str) -> Option<f64> {
    match unit {
        "Seconds" => Some(1.0),
        "Minutes" => Some(60.0),
        "Hours" => Some(3600.0),
        "Days" => Some(86_400.0),
        "Weeks" => Some(604_800.0),
        _ => None,
    }
}

/// The model's constraints of each feature definition of `member` (`featureDefinitions`, `featureAdditions`).
fn check_definitions(c: &mut Constraints, member: &str, definitions: &[wire::FeatureDefinition]) {
    for (i, definition) in definitions.iter().enumerate() {
        let path = format!("{member}.{}.member", i + 1);
        let name_path = format!("{path}.featureName");
        if c.required(&name_path, definition.feature_name.as_ref())
            && let Some(name) = &definition.feature_name
            && c.length(&name_path, name, 1, names::MAX_NAME_LEN)
        {
            c.pattern(&name_path, name, names::is_valid_name(name), names::NAME_PATTERN);
        }
        let type_path = format!("{path}.featureType");
        if c.required(&type_path, definition.feature_type.as_ref())
            && let Some(feature_type) = &definition.feature_type
        {
            c.one_of(&type_path, feature_type, &FeatureType::NAMES);
        }
        if let Some(collection) = &definition.collection_type {
            c.one_of(&format!("{path}.collectionType"), collection, &COLLECTION_TYPES);
        }
        if let Some(dimension) = definition
            .collection_config
            .as_ref()
            .and_then(|config| config.vector_config.as_ref())
        {
            let dimension_path = format!("{path}.collectionConfig.vectorConfig.dimension");
            if c.required(&dimension_path, dimension.dimension.as_ref())
                && let Some(value) = dimension.dimension
            {
                c.range(&dimension_path, value, 1, MAX_VECTOR_DIMENSION);
            }
        }
    }
}

/// The model's constraints of CreateFeatureGroupRequest: required members, lengths, patterns, enums.
fn check_constraints(request: &CreateFeatureGroupRequest) -> Result<(), String> {
    let mut c = Constraints::new();
    if c.required("featureGroupName", request.feature_group_name.as_ref())
        && let Some(name) = &request.feature_group_name
        && c.length("featureGroupName", name, 1, names::MAX_NAME_LEN)
    {
        c.pattern(
            "featureGroupName",
            name,
            names::is_valid_name(name),
            names::NAME_PATTERN,
        );
    }
    for (path, value) in [
        (
            "recordIdentifierFeatureName",
            &request.record_identifier_feature_name,
        ),
        ("eventTimeFeatureName", &request.event_time_feature_name),
    ] {
        if c.required(path, value.as_ref())
            && let Some(name) = value
            && c.length(path, name, 1, names::MAX_NAME_LEN)
        {
            c.pattern(path, name, names::is_valid_name(name), names::NAME_PATTERN);
        }
    }
    if c.required("featureDefinitions", request.feature_definitions.as_ref())
        && let Some(definitions) = &request.feature_definitions
    {
        let shown = format!("[{} feature definitions]", definitions.len());
        c.count(
            "featureDefinitions",
            &shown,
            definitions.len(),
            1,
            MAX_FEATURE_DEFINITIONS,
        );
        check_definitions(&mut c, "featureDefinitions", definitions);
    }
    if let Some(online) = &request.online_store_config {
        if let Some(storage_type) = &online.storage_type {
            c.one_of("onlineStoreConfig.storageType", storage_type, &STORAGE_TYPES);
        }
        if let Some(ttl) = &online.ttl_duration {
            check_ttl(&mut c, "onlineStoreConfig.ttlDuration", ttl);
        }
    }
    if let Some(offline) = &request.offline_store_config {
        if c.required(
            "offlineStoreConfig.s3StorageConfig",
            offline.s3_storage_config.as_ref(),
        ) && let Some(s3) = &offline.s3_storage_config
            && c.required("offlineStoreConfig.s3StorageConfig.s3Uri", s3.s3_uri.as_ref())
            && let Some(uri) = &s3.s3_uri
            && c.length("offlineStoreConfig.s3StorageConfig.s3Uri", uri, 0, 1024)
        {
            c.pattern(
                "offlineStoreConfig.s3StorageConfig.s3Uri",
                uri,
                matches_s3_uri_pattern(uri),
                "(https|s3)://([^/]+)/?(.*)",
            );
        }
        if let Some(format) = &offline.table_format {
            c.one_of("offlineStoreConfig.tableFormat", format, &TABLE_FORMATS);
        }
        if let Some(catalog) = &offline.data_catalog_config {
            for (member, value) in [
                ("tableName", &catalog.table_name),
                ("catalog", &catalog.catalog),
                ("database", &catalog.database),
            ] {
                let path = format!("offlineStoreConfig.dataCatalogConfig.{member}");
                if c.required(&path, value.as_ref())
                    && let Some(value) = value
                {
                    c.length(&path, value, 1, 255);
                }
            }
        }
    }
    if let Some(throughput) = &request.throughput_config {
        if c.required(
            "throughputConfig.throughputMode",
            throughput.throughput_mode.as_ref(),
        ) && let Some(mode) = &throughput.throughput_mode
        {
            c.one_of("throughputConfig.throughputMode", mode, &THROUGHPUT_MODES);
        }
        for (member, value) in [
            (
                "provisionedReadCapacityUnits",
                throughput.provisioned_read_capacity_units,
            ),
            (
                "provisionedWriteCapacityUnits",
                throughput.provisioned_write_capacity_units,
            ),
        ] {
            if let Some(value) = value {
                c.range(&format!("throughputConfig.{member}"), value, 0, 10_000_000);
            }
        }
    }
    if let Some(role) = &request.role_arn
        && c.length("roleArn", role, 20, 2048)
    {
        c.pattern(
            "roleArn",
            role,
            is_role_arn(role),
            "arn:aws[a-z\\-]*:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+",
        );
    }
    if let Some(description) = &request.description {
        c.length("description", description, 0, 128);
    }
    if let Some(tags) = &request.tags {
        c.count("tags", &format!("[{} tags]", tags.len()), tags.len(), 0, 50);
        for (i, tag) in tags.iter().enumerate() {
            let key_path = format!("tags.{}.member.key", i + 1);
            if c.required(&key_path, tag.key.as_ref())
                && let Some(key) = &tag.key
            {
                c.length(&key_path, key, 1, 128);
            }
            let value_path = format!("tags.{}.member.value", i + 1);
            if c.required(&value_path, tag.value.as_ref())
                && let Some(value) = &tag.value
            {
                c.length(&value_path, value, 0, 256);
            }
        }
    }
    c.finish()
}

pub fn check_ttl(c: &mut Constraints, path: &str, ttl: &wire::TtlDuration) {
    let unit_path = format!("{path}.unit");
    if c.required(&unit_path, ttl.unit.as_ref())
        && let Some(unit) = &ttl.unit
    {
        c.one_of(&unit_path, unit, &TTL_UNITS);
    }
    let value_path = format!("{path}.value");
    if c.required(&value_path, ttl.value.as_ref())
        && let Some(value) = ttl.value
    {
        c.range(&value_path, value, 1, i64::MAX);
    }
}

/// A TtlDuration in seconds; `None` when it does not pass [`check_ttl`].
pub fn ttl_seconds(ttl: &wire::TtlDuration) -> Option<f64> {
    let per_unit = ttl_unit_seconds(ttl.unit.as_deref()?)?;
    let value = ttl.value.filter(|v| *v >= 1)?;
    Some(value as f64 * per_unit)
}

fn is_role_arn(role: &str) -> bool {
    // arn:aws[a-z-]*:iam::<12 digits>:role/?<path and name>
    let Some(rest) = role.strip_prefix("arn:aws") else {
        return false;
    };
    let Some((partition_suffix, rest)) = rest.split_once(":iam::") else {
        return false;
    };
    let Some((account, rest)) = rest.split_once(":role") else {
        return false;
    };
    let name = rest.strip_prefix('/').unwrap_or(rest);
    partition_suffix
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b == b'-')
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_+=,.@-/".contains(&b))
}

fn online_store(config: Option<&wire::OnlineStoreConfig>) -> Result<Option<OnlineStore>, String> {
    let Some(config) = config else { return Ok(None) };
    if config.enable_online_store != Some(true) {
        if config.ttl_duration.is_some() || config.storage_type.is_some() {
            return Err(
                "OnlineStoreConfig sets StorageType or TtlDuration but EnableOnlineStore is not true".into(),
            );
        }
        return Ok(None);
    }
    let storage_type = match config.storage_type.as_deref() {
        None | Some("Standard") => StorageType::Standard,
        Some("Standard_V2") => StorageType::StandardV2,
        Some(_) => StorageType::InMemory,
    };
    Ok(Some(OnlineStore {
        storage_type,
        ttl_seconds: config.ttl_duration.as_ref().and_then(ttl_seconds),
    }))
}

fn feature_definitions(
    definitions: &[wire::FeatureDefinition],
    online: Option<&OnlineStore>,
) -> Result<Vec<FeatureDefinition>, String> {
    let mut seen: HashMap<String, &str> = HashMap::new();
    let mut features = Vec::with_capacity(definitions.len());
    for definition in definitions {
        let name = definition.feature_name.clone().unwrap_or_default();
        let lower = name.to_ascii_lowercase();
        if RESERVED_FEATURE_NAMES.contains(&lower.as_str()) {
            return Err(format!(
                "The feature name '{name}' is reserved. FeatureNames cannot be any of the following: {}",
                RESERVED_FEATURE_NAMES.join(", ")
            ));
        }
        // The offline store's catalog is case-insensitive, so the service refuses names differing only in case.
        if let Some(previous) = seen.insert(lower, definition.feature_name.as_deref().unwrap_or_default()) {
            return Err(format!(
                "The feature name '{name}' is defined more than once in FeatureDefinitions (feature names are \
                 compared ignoring case; '{previous}' is already defined)"
            ));
        }
        let feature_type = definition
            .feature_type
            .as_deref()
            .and_then(FeatureType::parse)
            .ok_or_else(|| format!("The feature '{name}' has an invalid FeatureType"))?;
        let vector_dimension = definition
            .collection_config
            .as_ref()
            .and_then(|config| config.vector_config.as_ref())
            .and_then(|vector| vector.dimension);
        let collection = match definition.collection_type.as_deref() {
            None => {
                if definition.collection_config.is_some() {
                    return Err(format!(
                        "The feature '{name}' has a CollectionConfig but no CollectionType"
                    ));
                }
                None
            }
            Some(collection_type) => {
                if online.map(|o| o.storage_type) != Some(StorageType::InMemory) {
                    return Err(format!(
                        "The feature '{name}' has CollectionType {collection_type}: collection types are only \
                         supported by feature groups whose OnlineStoreConfig has StorageType InMemory"
                    ));
                }
                match collection_type {
                    "List" | "Set" if definition.collection_config.is_some() => {
                        return Err(format!(
                            "The feature '{name}' has a CollectionConfig, which only CollectionType Vector takes"
                        ));
                    }
                    "List" => Some(Collection::List),
                    "Set" => Some(Collection::Set),
                    _ => {
                        let dimension = vector_dimension.ok_or_else(|| {
                            format!(
                                "The Vector feature '{name}' needs CollectionConfig.VectorConfig.Dimension"
                            )
                        })?;
                        if feature_type != FeatureType::Fractional {
                            return Err(format!(
                                "The Vector feature '{name}' must have FeatureType Fractional"
                            ));
                        }
                        Some(Collection::Vector {
                            dimension: dimension as usize,
                        })
                    }
                }
            }
        };
        features.push(FeatureDefinition {
            name,
            feature_type,
            collection,
        });
    }
    Ok(features)
}

/// The model's `(https|s3)://([^/]+)/?(.*)`.
fn matches_s3_uri_pattern(uri: &str) -> bool {
    let rest = uri.strip_prefix("s3://").or_else(|| uri.strip_prefix("https://"));
    rest.is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/'))
}

/// Splits `s3://bucket/prefix` into bucket and prefix (without surrounding slashes).
pub fn split_s3_uri(uri: &str) -> Option<(&str, &str)> {
    let rest = uri.strip_prefix("s3://")?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    let bucket_ok = !bucket.is_empty()
        && bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-');
    bucket_ok.then_some((bucket, prefix.trim_matches('/')))
}

fn offline_store(
    config: &wire::OfflineStoreConfig,
    group: &str,
    creation_ts: i64,
    placement: &Placement<'_>,
) -> Result<OfflineStore, String> {
    let uri = config
        .s3_storage_config
        .as_ref()
        .and_then(|s3| s3.s3_uri.as_deref())
        .unwrap_or_default();
    let (bucket, prefix) = split_s3_uri(uri).ok_or_else(|| {
        format!(
            "The S3Uri '{uri}' is not supported by featurestore-local: use s3://<bucket>/<prefix> (bucket names \
             in lower case), which maps to <data-dir>/s3/<bucket>/<prefix>"
        )
    })?;
    for segment in prefix.split('/') {
        if segment == "." || segment == ".." {
            return Err(format!("The S3Uri '{uri}' has a '{segment}' path segment"));
        }
    }
    let table_format = config.table_format.clone().unwrap_or_else(|| "Glue".to_owned());
    if table_format == "Iceberg" && config.disable_glue_table_creation == Some(true) {
        return Err(
            "The Iceberg table format is only supported when DisableGlueTableCreation is false".into(),
        );
    }
    let relative = format!(
        "{}/sagemaker/{}/offline-store/{group}-{creation_ts}/data",
        placement.account_id, placement.region
    );
    let mut resolved_uri = format!("s3://{bucket}/");
    let mut local_dir = placement.data_dir.join("s3").join(bucket);
    if !prefix.is_empty() {
        resolved_uri.push_str(prefix);
        resolved_uri.push('/');
        local_dir.push(prefix);
    }
    resolved_uri.push_str(&relative);
    local_dir.push(&relative);
    let data_catalog = config
        .data_catalog_config
        .clone()
        .unwrap_or_else(|| wire::DataCatalogConfig {
            table_name: Some(format!(
                "{}_{creation_ts}",
                group.to_ascii_lowercase().replace('-', "_")
            )),
            catalog: Some("AwsDataCatalog".to_owned()),
            database: Some("sagemaker_featurestore".to_owned()),
        });
    Ok(OfflineStore {
        resolved_uri,
        local_dir,
        table_format,
        data_catalog,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn placement() -> Placement<'static> {
        Placement {
            region: "us-east-1",
            account_id: "123456789012",
            data_dir: Path::new("/data"),
        }
    }

    fn feature(name: &str, feature_type: &str) -> wire::FeatureDefinition {
        wire::FeatureDefinition {
            feature_name: Some(name.into()),
            feature_type: Some(feature_type.into()),
            ..Default::default()
        }
    }

    fn request() -> CreateFeatureGroupRequest {
        CreateFeatureGroupRequest {
            feature_group_name: Some("Customers".into()),
            record_identifier_feature_name: Some("id".into()),
            event_time_feature_name: Some("ts".into()),
            feature_definitions: Some(vec![feature("id", "String"), feature("ts", "Fractional")]),
            online_store_config: Some(wire::OnlineStoreConfig {
                enable_online_store: Some(true),
                ..Default::default()
            }),
            offline_store_config: Some(wire::OfflineStoreConfig {
                s3_storage_config: Some(wire::S3StorageConfig {
                    s3_uri: Some("s3://bucket/some/prefix/".into()),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn a_valid_request_resolves_arn_and_offline_paths() {
        let group = FeatureGroup::from_request(request(), 1_700_000_000.5, &placement()).unwrap();
        assert_eq!(
            group.arn,
            "arn:aws:sagemaker:us-east-1:123456789012:feature-group/customers"
        );
        let offline = group.offline.unwrap();
        assert_eq!(
            offline.resolved_uri,
            "s3://bucket/some/prefix/123456789012/sagemaker/us-east-1/offline-store/Customers-1700000000/data"
        );
        assert_eq!(
            offline.local_dir,
            Path::new(
                "/data/s3/bucket/some/prefix/123456789012/sagemaker/us-east-1/offline-store/Customers-1700000000/data"
            )
        );
        assert_eq!(
            offline.data_catalog.table_name.as_deref(),
            Some("customers_1700000000")
        );
        assert_eq!(group.online.unwrap().storage_type, StorageType::Standard);
    }

    fn rejected(change: impl FnOnce(&mut CreateFeatureGroupRequest)) -> String {
        let mut request = request();
        change(&mut request);
        FeatureGroup::from_request(request, 0.0, &placement()).unwrap_err()
    }

    #[test]
    fn every_rule_between_members_is_enforced() {
        assert!(
            rejected(|r| r.record_identifier_feature_name = Some("nope".into())).contains("RecordIdentifier")
        );
        assert!(rejected(|r| r.event_time_feature_name = Some("nope".into())).contains("EventTime"));
        assert!(
            rejected(|r| r.feature_definitions.as_mut().unwrap()[1] = feature("ts", "Integral"))
                .contains("String or Fractional")
        );
        assert!(
            rejected(|r| r
                .feature_definitions
                .as_mut()
                .unwrap()
                .push(feature("write_time", "String")))
            .contains("reserved")
        );
        assert!(
            rejected(|r| r
                .feature_definitions
                .as_mut()
                .unwrap()
                .push(feature("ID", "String")))
            .contains("more than once")
        );
        assert!(
            rejected(|r| {
                r.online_store_config = None;
                r.offline_store_config = None;
            })
            .contains("at least one")
        );
        assert!(
            rejected(|r| {
                let mut list = feature("tags", "String");
                list.collection_type = Some("List".into());
                r.feature_definitions.as_mut().unwrap().push(list);
            })
            .contains("InMemory")
        );
        assert!(
            rejected(|r| {
                r.offline_store_config
                    .as_mut()
                    .unwrap()
                    .s3_storage_config
                    .as_mut()
                    .unwrap()
                    .s3_uri = Some("https://bucket.s3.amazonaws.com/x".into());
            })
            .contains("not supported by featurestore-local")
        );
    }

    #[test]
    fn model_constraints_come_first_with_the_services_wording() {
        let message = rejected(|r| {
            r.feature_group_name = Some("bad name".into());
            r.feature_definitions.as_mut().unwrap()[0].feature_type = Some("Text".into());
        });
        assert!(message.starts_with("2 validation errors detected"), "{message}");
        assert!(message.contains("'featureGroupName'"));
        assert!(message.contains("'featureDefinitions.1.member.featureType'"));
        assert!(rejected(|r| r.event_time_feature_name = None).contains("Member must not be null"));
    }

    #[test]
    fn vectors_need_in_memory_fractional_and_a_dimension() {
        let in_memory = |r: &mut CreateFeatureGroupRequest| {
            r.online_store_config.as_mut().unwrap().storage_type = Some("InMemory".into());
            r.offline_store_config = None;
        };
        let mut ok = request();
        in_memory(&mut ok);
        let mut vector = feature("embedding", "Fractional");
        vector.collection_type = Some("Vector".into());
        vector.collection_config = Some(wire::CollectionConfig {
            vector_config: Some(wire::VectorConfig { dimension: Some(3) }),
        });
        ok.feature_definitions.as_mut().unwrap().push(vector.clone());
        let group = FeatureGroup::from_request(ok, 0.0, &placement()).unwrap();
        assert_eq!(
            group.features[2].collection,
            Some(Collection::Vector { dimension: 3 })
        );

        let mut no_dimension = vector.clone();
        no_dimension.collection_config = None;
        assert!(
            rejected(|r| {
                in_memory(r);
                r.feature_definitions.as_mut().unwrap().push(no_dimension);
            })
            .contains("Dimension")
        );
        let mut strings = vector;
        strings.feature_type = Some("String".into());
        assert!(
            rejected(|r| {
                in_memory(r);
                r.feature_definitions.as_mut().unwrap().push(strings);
            })
            .contains("Fractional")
        );
    }
}
