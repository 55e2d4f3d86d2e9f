//! Test scratch directories under the system temp directory, removed when dropped.

use std::path::{Path, PathBuf};

#[derive(Debug)]
pub struct TestDir(PathBuf);

impl TestDir {
    /// A fresh, empty directory named after `name` and this process.
    pub fn new(name: &str) -> TestDir {
        let dir = std::env::temp_dir().join(format!("featurestore-local-unit-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TestDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
