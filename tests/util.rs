//! Test helpers: the shared corpus, temp workspaces, agentgen, and the built CLI.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use sightline::ingest::{IngestOptions, IngestReport};
use sightline::store::Store;

/// `../shared` (or `$SIGHTLINE_SHARED`): corpus, agentgen, bench baselines.
pub fn shared() -> PathBuf {
    let p = std::env::var_os("SIGHTLINE_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"));
    assert!(
        p.join("corpus").is_dir(),
        "shared folder not found at {} (set SIGHTLINE_SHARED)",
        p.display()
    );
    p
}

pub fn corpus(rel: &str) -> PathBuf {
    shared().join("corpus").join(rel)
}

/// A temp dir that holds a workspace and test files.
pub struct Dir {
    pub tmp: tempfile::TempDir,
}

impl Dir {
    pub fn new() -> Dir {
        Dir {
            tmp: tempfile::tempdir().unwrap(),
        }
    }
    pub fn path(&self, rel: &str) -> PathBuf {
        self.tmp.path().join(rel)
    }
    pub fn db(&self) -> PathBuf {
        self.path("workspace.db")
    }
    pub fn write(&self, rel: &str, data: impl AsRef<[u8]>) -> PathBuf {
        let p = self.path(rel);
        if let Some(d) = p.parent() {
            std::fs::create_dir_all(d).unwrap();
        }
        std::fs::write(&p, data).unwrap();
        p
    }
    pub fn append(&self, rel: &str, data: impl AsRef<[u8]>) {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(self.path(rel))
            .unwrap();
        f.write_all(data.as_ref()).unwrap();
    }
    /// Ingests through the engine with default options into this dir's workspace.
    pub fn ingest(&self, paths: &[PathBuf]) -> IngestReport {
        let store = Store::open(&self.db()).unwrap();
        let r = sightline::ingest::ingest(&store, paths, &IngestOptions::default());
        store.close();
        r
    }
    /// `sightline --db <this workspace> ARGS...`
    pub fn cli(&self, args: &[&str]) -> Output {
        sightline(&self.db(), args)
    }
    pub fn stats(&self) -> Value {
        let out = self.cli(&["stats", "--json"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

pub fn sightline(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sightline"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env_remove("SIGHTLINE_DB")
        .output()
        .unwrap()
}

/// Runs agentgen; returns the truth file's JSON.
pub fn agentgen(args: &[&str], out: &Path) -> Value {
    let status = Command::new("python3")
        .arg(shared().join("agentgen/agentgen.py"))
        .args(args)
        .arg("-o")
        .arg(out)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("python3 runs agentgen");
    assert!(status.success(), "agentgen {args:?} failed");
    let mut truth = out.as_os_str().to_owned();
    truth.push(".truth.json");
    serde_json::from_slice(&std::fs::read(truth).unwrap()).unwrap()
}

pub fn json_lines(out: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
