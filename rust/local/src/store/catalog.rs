//! Feature group definitions on disk: one JSON file per group under `<data-dir>/catalog/`, holding the
//! CreateFeatureGroup request (with the features UpdateFeatureGroup added) and the creation and update times, written atomically (temporary file, fsync, rename).

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::control_plane::wire::CreateFeatureGroupRequest;
use crate::error::Error;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CatalogEntry {
    pub creation_time: f64,
    /// The request with every UpdateFeatureGroup's `FeatureAdditions` appended to its definitions.
    pub request: CreateFeatureGroupRequest,
    /// When the last UpdateFeatureGroup applied (none yet: absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified_time: Option<f64>,
}

#[derive(Debug)]
pub struct Catalog {
    dir: PathBuf,
}

impl Catalog {
    pub fn open(data_dir: &Path) -> Result<Catalog, Error> {
        let dir = data_dir.join("catalog");
        std::fs::create_dir_all(&dir).map_err(|e| Error::io("creating the catalog directory", &dir, e))?;
        Ok(Catalog { dir })
    }

    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.json"))
    }

    /// Every stored definition, in no particular order.
    pub fn load_all(&self) -> Result<Vec<CatalogEntry>, Error> {
        let entries =
            std::fs::read_dir(&self.dir).map_err(|e| Error::io("reading the catalog", &self.dir, e))?;
        let mut loaded = Vec::new();
        for entry in entries {
            let path = entry
                .map_err(|e| Error::io("reading the catalog", &self.dir, e))?
                .path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            let text = std::fs::read(&path).map_err(|e| Error::io("reading a catalog entry", &path, e))?;
            let parsed: CatalogEntry = serde_json::from_slice(&text).map_err(|e| Error::Corrupt {
                path: path.clone(),
                message: e.to_string(),
            })?;
            loaded.push(parsed);
        }
        Ok(loaded)
    }

    pub fn save(&self, key: &str, entry: &CatalogEntry) -> Result<(), Error> {
        let path = self.path(key);
        let temporary = self.dir.join(format!(".{key}.json.tmp"));
        let bytes = serde_json::to_vec_pretty(entry).map_err(|e| Error::Corrupt {
            path: path.clone(),
            message: e.to_string(),
        })?;
        let write = || -> std::io::Result<()> {
            let mut file = File::create(&temporary)?;
            file.write_all(&bytes)?;
            file.sync_all()?;
            std::fs::rename(&temporary, &path)?;
            File::open(&self.dir)?.sync_all()
        };
        write().map_err(|e| Error::io("writing a catalog entry", &path, e))
    }

    pub fn remove(&self, key: &str) -> Result<(), Error> {
        let path = self.path(key);
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(Error::io("removing a catalog entry", &path, e))
            }
            _ => Ok(()),
        }
    }
}
