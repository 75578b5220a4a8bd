//! The ground floor: plumbing every domain module may use and none owns —
//! warp's cache root, atomic writes, directory locks, bounded reads of
//! regular files, digests, and finding programs on PATH.
//!
//! Nothing here knows about packing, running or forks; a domain module
//! imports another domain module only for its domain, never for these.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};

use crate::error::Diagnostic;

/// `$WARP_CACHE_DIR`, else `$XDG_CACHE_HOME/warp`, else `~/.cache/warp`.
pub fn cache_root() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("WARP_CACHE_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir).join("warp"));
    }
    match std::env::var_os("HOME").filter(|d| !d.is_empty()) {
        Some(home) => Ok(PathBuf::from(home).join(".cache").join("warp")),
        None => {
            Err(Diagnostic::env("warp has no cache directory: neither WARP_CACHE_DIR, XDG_CACHE_HOME nor HOME is set")
                .help("set WARP_CACHE_DIR to a writable directory")
                .into())
        }
    }
}

/// The areas of warp's cache directory, one per module that fills it: each
/// asks for its own directory here (the ground floor), and `warp cache`
/// measures and clears them through the same list, so no area is named in
/// two places.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheArea {
    /// `warp run`'s compiled components (`engine::cache`).
    Compiled,
    /// Cranelift's per-function cache (`engine::cache::FunctionStore`).
    Functions,
    /// The JS toolchain installed from warp's lock (`lang::ts`).
    Js,
    /// Recipes and patch series unpacked from the binary (`assets`).
    Embedded,
    /// Outputs of `warp toolchain build` (`fork::build`).
    ToolchainBuilds,
    /// Toolchain work trees (`fork`).
    Toolchains,
}

impl CacheArea {
    pub const ALL: [CacheArea; 6] = [
        CacheArea::Compiled,
        CacheArea::Functions,
        CacheArea::Js,
        CacheArea::Embedded,
        CacheArea::ToolchainBuilds,
        CacheArea::Toolchains,
    ];

    /// Its directory's name under the cache root, and its name for `warp cache`.
    pub fn name(self) -> &'static str {
        match self {
            CacheArea::Compiled => "compiled",
            CacheArea::Functions => "functions",
            CacheArea::Js => "js",
            CacheArea::Embedded => "embedded",
            CacheArea::ToolchainBuilds => "toolchain-builds",
            CacheArea::Toolchains => "toolchains",
        }
    }

    /// What it holds, for `warp cache` and `warp doctor`.
    pub fn what(self) -> &'static str {
        match self {
            CacheArea::Compiled => "compiled components of `warp run` (bounded; least recently used evicted first)",
            CacheArea::Functions => "Cranelift's compiled functions, shared by components that share code (bounded)",
            CacheArea::Js => "the JS toolchain (ComponentizeJS, esbuild) of `warp toolchain install js`",
            CacheArea::Embedded => "recipes and patch series unpacked from this binary",
            CacheArea::ToolchainBuilds => "outputs of `warp toolchain build` (e.g. the wasi-libc sysroot)",
            CacheArea::Toolchains => "toolchain work trees: upstream + patch series as git commits",
        }
    }

    /// Clearing it can lose work that exists nowhere else (unexported
    /// commits in a toolchain's work tree), so only `--all` clears it.
    pub fn holds_work(self) -> bool {
        self == CacheArea::Toolchains
    }

    /// Its directory (not created).
    pub fn dir(self) -> Result<PathBuf> {
        Ok(cache_root()?.join(self.name()))
    }
}

/// The SHA-256 of `bytes`, as 64 lowercase hex digits.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut out = String::with_capacity(64);
    for byte in digest {
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

/// How the temporary files of [`write_atomic`] are named: `.warp-XXXXXX.tmp`.
const TEMP_PREFIX: &str = ".warp-";
const TEMP_SUFFIX: &str = ".tmp";

/// Writes `contents` to `path` atomically: a temporary file in the same
/// directory, then a rename, so readers never see a half-written file. An
/// identical existing file is left alone (its mtime too). A new file gets
/// mode `0666 & !umask`, as `cargo` and `cc` give their outputs (tempfile's
/// own default, 0600, would hide artifacts from the rest of a team or a
/// server's user).
pub fn write_atomic(path: &Path, contents: &[u8]) -> Result<()> {
    // Compared only when it is a regular file of the same length: a FIFO
    // or device planted at `path` is replaced, never read (or waited on).
    let same_length = std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() == contents.len() as u64);
    if same_length && read_regular_file(path, contents.len() as u64).is_ok_and(|existing| existing == contents) {
        return Ok(());
    }
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("failed to create directory `{}`", dir.display()))?;
    let mut builder = tempfile::Builder::new();
    builder.prefix(TEMP_PREFIX).suffix(TEMP_SUFFIX);
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    let mut temp = builder
        .tempfile_in(dir)
        .with_context(|| format!("failed to create a temporary file in `{}`", dir.display()))?;
    std::io::Write::write_all(&mut temp, contents)
        .with_context(|| format!("failed to write `{}`", temp.path().display()))?;
    temp.as_file().sync_all().ok();
    temp.persist(path).map_err(|e| e.error).with_context(|| format!("failed to write `{}`", path.display()))?;
    Ok(())
}

/// Why [`read_regular_file`] gave no contents.
#[derive(Debug)]
pub enum ReadRefused {
    /// Opening, inspecting or reading failed.
    Io(std::io::Error),
    /// The path names something other than a regular file: what it is
    /// ("a directory", "a FIFO", …).
    NotRegular(&'static str),
    /// The file holds more than the bound allows.
    TooLarge { max_bytes: u64 },
}

impl std::fmt::Display for ReadRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadRefused::Io(e) => write!(f, "{e}"),
            ReadRefused::NotRegular(kind) => write!(f, "it is {kind}, not a regular file"),
            ReadRefused::TooLarge { max_bytes } => write!(f, "it is larger than the {max_bytes}-byte limit"),
        }
    }
}

impl From<std::io::Error> for ReadRefused {
    fn from(e: std::io::Error) -> Self {
        ReadRefused::Io(e)
    }
}

/// Reads `path` when it is a regular file (after following symlinks) of at
/// most `max_bytes`. A FIFO, socket or device is refused without reading
/// (and without being opened, so opening cannot block or have effects); the
/// file is opened non-blocking and its type checked again on the open
/// handle, so a swap between the two checks is refused too.
pub fn read_regular_file(path: &Path, max_bytes: u64) -> Result<Vec<u8>, ReadRefused> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let check = |metadata: &std::fs::Metadata| -> Result<(), ReadRefused> {
        if !metadata.is_file() {
            return Err(ReadRefused::NotRegular(file_kind(&metadata.file_type())));
        }
        if metadata.len() > max_bytes {
            return Err(ReadRefused::TooLarge { max_bytes });
        }
        Ok(())
    };
    check(&std::fs::metadata(path)?)?;
    let file = std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC).open(path)?;
    check(&file.metadata()?)?;
    let mut bytes = Vec::new();
    file.take(max_bytes.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max_bytes {
        return Err(ReadRefused::TooLarge { max_bytes });
    }
    Ok(bytes)
}

/// What a file type is, in prose, for messages.
fn file_kind(kind: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if kind.is_dir() {
        "a directory"
    } else if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_block_device() || kind.is_char_device() {
        "a device"
    } else {
        "not a regular file"
    }
}

/// An exclusive lock on a directory (`.warp.lock` in it), held until
/// dropped: processes that write there take turns. The lock file stays; the
/// lock itself is the kernel's (`flock`), so a killed holder releases it.
#[derive(Debug)]
pub struct DirLock {
    _file: std::fs::File,
    /// When this process got the lock: a file of another writer older than
    /// this was left by one that no longer runs there.
    pub acquired: std::time::SystemTime,
}

/// The lock file [`lock_dir`] takes in a directory.
pub const LOCK_FILE: &str = ".warp.lock";

/// Locks `dir` (created if needed) for this process; when another holds
/// it, calls `waiting` once and blocks until it is released.
pub fn lock_dir(dir: &Path, waiting: impl FnOnce(&Path)) -> Result<DirLock> {
    std::fs::create_dir_all(dir).with_context(|| format!("failed to create directory `{}`", dir.display()))?;
    let path = dir.join(LOCK_FILE);
    let file = std::fs::File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .with_context(|| format!("failed to open the lock file `{}`", path.display()))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            waiting(&path);
            file.lock().with_context(|| format!("failed to lock `{}`", path.display()))?;
        }
        Err(std::fs::TryLockError::Error(e)) => {
            return Err(e).with_context(|| format!("failed to lock `{}`", path.display()));
        }
    }
    Ok(DirLock { _file: file, acquired: std::time::SystemTime::now() })
}

/// Removes the temporary files [`write_atomic`] left in `dir` (a process
/// killed between creating and renaming one) that were last modified
/// before `older_than`; call it holding the directory's lock, with the
/// time the lock was taken, so no live writer's file is touched. Returns
/// how many were removed; failures to remove are skipped.
pub fn remove_stale_temp_files(dir: &Path, older_than: std::time::SystemTime) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries
        .flatten()
        .filter(|entry| {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            name.starts_with(TEMP_PREFIX) && name.ends_with(TEMP_SUFFIX)
        })
        .filter(|entry| {
            entry.metadata().is_ok_and(|m| m.is_file() && m.modified().is_ok_and(|modified| modified < older_than))
        })
        .filter(|entry| std::fs::remove_file(entry.path()).is_ok())
        .count()
}

/// `program` as a path: itself when it contains a `/`, else the first
/// match on PATH.
pub fn find_program(program: &str) -> Option<PathBuf> {
    if program.contains('/') {
        return Path::new(program).is_file().then(|| PathBuf::from(program));
    }
    std::env::split_paths(&std::env::var_os("PATH")?).map(|dir| dir.join(program)).find(|path| path.is_file())
}

/// The total size in bytes of the files under `dir` (0 when it is absent).
pub fn dir_size(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries
        .flatten()
        .map(|entry| match entry.file_type() {
            Ok(kind) if kind.is_dir() => dir_size(&entry.path()),
            Ok(kind) if kind.is_file() => entry.metadata().map_or(0, |m| m.len()),
            _ => 0,
        })
        .sum()
}

/// Keeps the files directly in `dir` within `max_bytes` by removing the
/// least recently modified ones first; `keep` names files never removed
/// (the one just written). Returns the bytes freed. A cache that cannot be
/// trimmed only costs disk, so failures to remove are skipped.
pub fn evict_oldest(dir: &Path, max_bytes: u64, keep: &[&Path]) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    let mut files: Vec<(std::time::SystemTime, u64, PathBuf)> = entries
        .flatten()
        .filter_map(|entry| {
            let metadata = entry.metadata().ok().filter(|m| m.is_file())?;
            Some((metadata.modified().ok()?, metadata.len(), entry.path()))
        })
        .collect();
    let mut total: u64 = files.iter().map(|(_, len, _)| len).sum();
    files.sort();
    let mut freed = 0;
    for (_, len, path) in files {
        if total <= max_bytes {
            break;
        }
        if keep.contains(&path.as_path()) {
            continue;
        }
        if std::fs::remove_file(&path).is_ok() {
            total -= len;
            freed += len;
        }
    }
    freed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_are_lowercase_hex() {
        assert_eq!(sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn atomic_writes_leave_no_temporary_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b.txt");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        let names: Vec<_> = std::fs::read_dir(dir.path().join("a")).unwrap().flatten().map(|e| e.file_name()).collect();
        assert_eq!(names, ["b.txt"]);
        assert_eq!(dir_size(dir.path()), 3);
    }

    #[test]
    fn bounded_reads_take_only_regular_files_within_the_bound() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, b"12345").unwrap();
        assert_eq!(read_regular_file(&file, 5).unwrap(), b"12345");
        assert!(matches!(read_regular_file(&file, 4), Err(ReadRefused::TooLarge { max_bytes: 4 })));
        assert!(matches!(read_regular_file(dir.path(), 100), Err(ReadRefused::NotRegular("a directory"))));
        assert!(matches!(read_regular_file(Path::new("/dev/zero"), 100), Err(ReadRefused::NotRegular("a device"))));
        // A FIFO with no writer would block an ordinary open forever.
        let fifo = dir.path().join("fifo");
        assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        let err = read_regular_file(&fifo, 100).unwrap_err();
        assert_eq!(err.to_string(), "it is a FIFO, not a regular file");
        assert!(matches!(read_regular_file(&dir.path().join("absent"), 100), Err(ReadRefused::Io(_))));
    }

    #[test]
    fn a_locked_directory_makes_the_next_locker_wait() {
        let dir = tempfile::tempdir().unwrap();
        let first = lock_dir(dir.path(), |_| panic!("nobody holds it yet")).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let path = dir.path().to_path_buf();
        let second = std::thread::spawn(move || {
            let _lock = lock_dir(&path, |_| tx.send(()).unwrap()).unwrap();
        });
        rx.recv().unwrap();
        drop(first);
        second.join().unwrap();
    }

    #[test]
    fn only_temporary_files_older_than_the_lock_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let file = |name: &str, seconds_ago: u64| {
            let path = dir.path().join(name);
            std::fs::write(&path, b"x").unwrap();
            let time = std::time::SystemTime::now() - std::time::Duration::from_secs(seconds_ago);
            std::fs::File::options().write(true).open(&path).unwrap().set_modified(time).unwrap();
            path
        };
        let stale = file(".warp-abc123.tmp", 3600);
        let fresh = file(".warp-def456.tmp", 0);
        let other = file("app.wasm", 3600);
        let lock_time = std::time::SystemTime::now() - std::time::Duration::from_secs(60);
        assert_eq!(remove_stale_temp_files(dir.path(), lock_time), 1);
        assert!(!stale.exists() && fresh.exists() && other.exists());
    }

    #[test]
    fn eviction_removes_the_oldest_first_and_spares_the_kept() {
        let dir = tempfile::tempdir().unwrap();
        let at = |name: &str, seconds: u64| {
            let path = dir.path().join(name);
            std::fs::write(&path, [0u8; 10]).unwrap();
            let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(seconds);
            std::fs::File::options().write(true).open(&path).unwrap().set_modified(time).unwrap();
            path
        };
        let (oldest, old, new) = (at("a", 100), at("b", 200), at("c", 300));
        assert_eq!(evict_oldest(dir.path(), 15, &[&oldest]), 20);
        assert!(oldest.exists() && !old.exists() && !new.exists());
        assert_eq!(evict_oldest(dir.path(), 100, &[]), 0);
    }
}
