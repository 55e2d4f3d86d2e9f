//! The store: the feature groups (catalog) and, for each, its online and offline tables.

pub mod catalog;
pub mod index;
pub mod log;
pub mod offline;
pub mod online;
pub mod record;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::config::{OfflineCompression, ServerConfig};
use crate::control_plane::wire::CreateFeatureGroupRequest;
use crate::error::{Error, ErrorCode, ServiceError};
use crate::model::feature_group::{FeatureGroup, Placement};
use crate::model::names::NameOrArn;
use catalog::{Catalog, CatalogEntry};
use offline::OfflineTable;
use online::OnlineTable;

/// A feature group with its tables. UpdateFeatureGroup replaces the whole `Group` with one of the new
/// definition, which shares the online table (its records keep their features) and has an offline table of the
/// new columns.
#[derive(Debug)]
pub struct Group {
    pub definition: FeatureGroup,
    pub online: Option<Arc<OnlineTable>>,
    pub offline: Option<OfflineTable>,
    /// When the last UpdateFeatureGroup applied, if one did.
    pub last_modified_time: Option<f64>,
}

#[derive(Debug)]
pub struct Store {
    data_dir: PathBuf,
    region: String,
    account_id: String,
    compression: OfflineCompression,
    max_feature_groups: usize,
    catalog: Catalog,
    /// By lower-cased name: names are unique regardless of case (ARNs are lower-cased).
    groups: RwLock<HashMap<String, Arc<Group>>>,
    /// Creates and deletes one at a time.
    changes: Mutex<()>,
}

/// Seconds since the epoch, with sub-second precision.
pub fn now_seconds() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

pub fn now_millis() -> i64 {
    (now_seconds() * 1000.0) as i64
}

impl Store {
    /// Opens the data directory: loads the catalog and every group's tables (replaying online logs).
    pub fn open(config: &ServerConfig) -> Result<Store, Error> {
        let data_dir = config.data_dir.clone();
        std::fs::create_dir_all(&data_dir)
            .map_err(|e| Error::io("creating the data directory", &data_dir, e))?;
        let catalog = Catalog::open(&data_dir)?;
        let store = Store {
            data_dir,
            region: config.region.clone(),
            account_id: config.account_id.clone(),
            compression: config.offline_compression,
            max_feature_groups: config.max_feature_groups,
            catalog,
            groups: RwLock::new(HashMap::new()),
            changes: Mutex::new(()),
        };
        let now = now_seconds();
        let mut groups = HashMap::new();
        for entry in store.catalog.load_all()? {
            let definition =
                FeatureGroup::from_request(entry.request, entry.creation_time, &store.placement()).map_err(
                    |message| Error::Corrupt {
                        path: store.data_dir.join("catalog"),
                        message,
                    },
                )?;
            let mut group = store.open_group(definition, now)?;
            group.last_modified_time = entry.last_modified_time;
            groups.insert(group.definition.name.to_ascii_lowercase(), Arc::new(group));
        }
        *store
            .groups
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = groups;
        Ok(store)
    }

    fn placement(&self) -> Placement<'_> {
        Placement {
            region: &self.region,
            account_id: &self.account_id,
            data_dir: &self.data_dir,
        }
    }

    fn online_log_path(&self, definition: &FeatureGroup) -> PathBuf {
        let key = definition.name.to_ascii_lowercase();
        self.data_dir
            .join("online")
            .join(format!("{key}-{}.log", definition.creation_time.floor() as i64))
    }

    fn open_group(&self, definition: FeatureGroup, now: f64) -> Result<Group, Error> {
        let online = match definition.online {
            Some(_) => Some(Arc::new(OnlineTable::open(
                &self.online_log_path(&definition),
                now,
            )?)),
            None => None,
        };
        let offline = definition
            .offline
            .as_ref()
            .map(|offline| OfflineTable::new(&definition, &offline.local_dir, self.compression));
        Ok(Group {
            definition,
            online,
            offline,
            last_modified_time: None,
        })
    }

    fn read_groups(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, Arc<Group>>> {
        self.groups
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The group a `FeatureGroupName` member (name or ARN of this account and region) refers to.
    pub fn resolve(&self, name_or_arn: &str) -> Option<Arc<Group>> {
        let name = match NameOrArn::parse(name_or_arn)? {
            NameOrArn::Name(name) => name,
            NameOrArn::Arn {
                region,
                account_id,
                name,
            } => {
                if region != self.region || account_id != self.account_id {
                    return None;
                }
                name
            }
        };
        let groups = self.read_groups();
        // Names match regardless of case; the common exact-case lookup avoids an allocation.
        groups
            .get(name)
            .or_else(|| groups.get(&name.to_ascii_lowercase()))
            .cloned()
    }

    pub fn groups(&self) -> Vec<Arc<Group>> {
        self.read_groups().values().cloned().collect()
    }

    pub fn create(&self, request: CreateFeatureGroupRequest) -> Result<Arc<Group>, ServiceError> {
        let creation_time = (now_seconds() * 1000.0).floor() / 1000.0;
        let definition = FeatureGroup::from_request(request, creation_time, &self.placement())
            .map_err(|message| ServiceError::new(ErrorCode::ValidationException, message))?;
        let key = definition.name.to_ascii_lowercase();
        let _one_at_a_time = self
            .changes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        {
            let groups = self.read_groups();
            if groups.contains_key(&key) {
                return Err(ServiceError::new(
                    ErrorCode::ResourceInUse,
                    format!(
                        "Resource Already Exists: FeatureGroup with name {} already exists. Choose a different name.",
                        definition.name
                    ),
                ));
            }
            if groups.len() >= self.max_feature_groups {
                return Err(ServiceError::new(
                    ErrorCode::ResourceLimitExceeded,
                    format!(
                        "The account-level service limit 'Maximum number of feature groups' is {} FeatureGroups, \
                         with current utilization of {} FeatureGroups and a request delta of 1 FeatureGroups.",
                        self.max_feature_groups,
                        groups.len()
                    ),
                ));
            }
        }
        let internal = |e: Error| ServiceError::new(ErrorCode::InternalFailure, e.to_string());
        let entry = CatalogEntry {
            creation_time,
            request: definition.request.clone(),
            last_modified_time: None,
        };
        let group = Arc::new(self.open_group(definition, now_seconds()).map_err(internal)?);
        self.catalog.save(&key, &entry).map_err(internal)?;
        self.groups
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(key, Arc::clone(&group));
        Ok(group)
    }

    /// UpdateFeatureGroup's `FeatureAdditions`: checks them ([`FeatureGroup::with_additions`]), saves the new
    /// definition and puts the group with it in place. Applied at once, so the update is `Successful` when the
    /// call returns (the service goes through `InProgress`).
    pub fn add_features(
        &self,
        group: &Group,
        additions: Option<&[crate::control_plane::wire::FeatureDefinition]>,
    ) -> Result<Arc<Group>, ServiceError> {
        let key = group.definition.name.to_ascii_lowercase();
        let _one_at_a_time = self
            .changes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // The group as it is now: another update may have applied since the caller looked it up.
        let current = self.read_groups().get(&key).cloned().ok_or_else(|| {
            ServiceError::new(
                ErrorCode::ResourceNotFound,
                format!(
                    "Resource Not Found: Amazon SageMaker can't find a FeatureGroup with name {}",
                    group.definition.name
                ),
            )
        })?;
        let definition = current
            .definition
            .with_additions(additions, &self.placement())
            .map_err(|message| ServiceError::new(ErrorCode::ValidationException, message))?;
        let internal = |e: Error| ServiceError::new(ErrorCode::InternalFailure, e.to_string());
        let modified = (now_seconds() * 1000.0).floor() / 1000.0;
        self.catalog
            .save(
                &key,
                &CatalogEntry {
                    creation_time: definition.creation_time,
                    request: definition.request.clone(),
                    last_modified_time: Some(modified),
                },
            )
            .map_err(internal)?;
        // Rows buffered for the old columns are written first, so no file mixes the two schemas.
        if let Some(offline) = &current.offline {
            offline.flush(now_millis()).map_err(internal)?;
        }
        let offline = definition
            .offline
            .as_ref()
            .map(|offline| OfflineTable::new(&definition, &offline.local_dir, self.compression));
        let updated = Arc::new(Group {
            definition,
            online: current.online.clone(),
            offline,
            last_modified_time: Some(modified),
        });
        self.groups
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(key, Arc::clone(&updated));
        // A write that looked the old group up before the swap may have buffered rows since the flush above.
        if let Some(offline) = &current.offline {
            offline.flush(now_millis()).map_err(internal)?;
        }
        Ok(updated)
    }

    /// Removes a group and its online store; its offline files stay, as on the service.
    pub fn delete(&self, group: &Group) -> Result<(), Error> {
        let key = group.definition.name.to_ascii_lowercase();
        let _one_at_a_time = self
            .changes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        self.groups
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&key);
        self.catalog.remove(&key)?;
        if let Some(offline) = &group.offline {
            offline.flush(now_millis())?;
        }
        if let Some(online) = &group.online {
            online.destroy()?;
        }
        Ok(())
    }

    /// Flushes every online table to its log (fsynced).
    pub fn flush_online(&self) -> Result<(), Error> {
        let mut first_error = None;
        for group in self.groups() {
            if let Some(online) = &group.online
                && let Err(e) = online.flush()
            {
                ::log::error!("flushing the online store of {}: {e}", group.definition.name);
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Writes every buffered offline row; returns (rows, files).
    pub fn flush_offline(&self) -> Result<(usize, usize), Error> {
        let mut first_error = None;
        let (mut rows, mut files) = (0, 0);
        for group in self.groups() {
            if let Some(offline) = &group.offline {
                match offline.flush(now_millis()) {
                    Ok((r, f)) => {
                        rows += r;
                        files += f;
                    }
                    Err(e) => {
                        ::log::error!("flushing the offline store of {}: {e}", group.definition.name);
                        first_error.get_or_insert(e);
                    }
                }
            }
        }
        first_error.map_or(Ok((rows, files)), Err)
    }
}
