//! `cargo xtask mirror wasi-libc DIR`: a git mirror of upstream wasi-libc
//! built from Debian's source package, the one real upstream snapshot these
//! machines can reach (see ../shared/DESIGN.md, "What is real here").
//!
//! The orig tarball is upstream 9886d3d exactly (Debian's changes live in
//! the separate `.debian.tar.xz`). It becomes one commit with a fixed
//! author and date, tagged `9886d3d`, so every machine builds the same
//! commit id and `patches/wasi-libc/UPSTREAM_REF` can name the tag.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use xshell::{Shell, cmd};

/// The upstream commit the Debian orig tarball holds.
pub const WASI_LIBC_TAG: &str = "9886d3d";
const WASI_LIBC_SOURCE: &str = "wasi-libc";
const WASI_LIBC_ORIG: &str = "wasi-libc_0.0~git20220510.9886d3d.orig.tar.xz";
/// The upstream commit's date, so the mirror's commit id is reproducible.
const WASI_LIBC_DATE: &str = "2022-05-10T00:00:00+00:00";

const DEB_SRC_LIST: &str = "/etc/apt/sources.list.d/warp-src.sources";
const DEB_SRC_ENTRY: &str = "\
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
";

pub fn run(sh: &Shell, args: &[String]) -> Result<()> {
    match args {
        [name, dir] if name == "wasi-libc" => {
            wasi_libc(sh, Path::new(dir))?;
            Ok(())
        }
        _ => bail!("usage: cargo xtask mirror wasi-libc DIR"),
    }
}

/// Builds (or finds up to date) the mirror at `dir`; returns its commit id.
pub fn wasi_libc(sh: &Shell, dir: &Path) -> Result<String> {
    let tag = format!("refs/tags/{WASI_LIBC_TAG}^{{commit}}");
    if let Ok(id) = cmd!(sh, "git -C {dir} rev-parse --verify --quiet {tag}").quiet().ignore_stderr().read() {
        return Ok(id);
    }
    let tarball = download_orig(sh)?;
    let staging = dir.with_extension("partial");
    if staging.exists() {
        std::fs::remove_dir_all(&staging)?;
    }
    std::fs::create_dir_all(&staging)?;
    cmd!(sh, "tar -xJf {tarball} -C {staging} --strip-components=1")
        .run()
        .context("failed to extract the orig tarball")?;
    let _author = sh.push_env("GIT_AUTHOR_NAME", "wasi-libc upstream");
    let _email = sh.push_env("GIT_AUTHOR_EMAIL", "wasi-libc@upstream.invalid");
    let _date = sh.push_env("GIT_AUTHOR_DATE", WASI_LIBC_DATE);
    let _c_name = sh.push_env("GIT_COMMITTER_NAME", "warp mirror");
    let _c_email = sh.push_env("GIT_COMMITTER_EMAIL", "warp@localhost");
    let _c_date = sh.push_env("GIT_COMMITTER_DATE", WASI_LIBC_DATE);
    let message =
        format!("wasi-libc {WASI_LIBC_TAG} (2022-05-10)\n\nImported from Debian's orig tarball {WASI_LIBC_ORIG}.");
    cmd!(sh, "git -C {staging} init --quiet --initial-branch=main").run()?;
    cmd!(sh, "git -C {staging} -c core.autocrlf=false add --all --force").run()?;
    cmd!(sh, "git -C {staging} -c commit.gpgsign=false commit --quiet --no-verify -m {message}").run()?;
    cmd!(sh, "git -C {staging} tag {WASI_LIBC_TAG}").run()?;
    if dir.exists() {
        std::fs::remove_dir_all(dir)?;
    }
    std::fs::rename(&staging, dir)?;
    Ok(cmd!(sh, "git -C {dir} rev-parse HEAD").read()?)
}

/// The orig tarball, fetched with `apt-get source` once and kept in the CI
/// cache. Adds the bookworm `deb-src` entry when apt has none.
fn download_orig(sh: &Shell) -> Result<PathBuf> {
    let store = crate::ci_cache()?.join("debian-src");
    let tarball = store.join(WASI_LIBC_ORIG);
    if tarball.is_file() {
        return Ok(tarball);
    }
    std::fs::create_dir_all(&store)?;
    if !Path::new(DEB_SRC_LIST).exists() {
        std::fs::write(DEB_SRC_LIST, DEB_SRC_ENTRY)
            .with_context(|| format!("failed to write `{DEB_SRC_LIST}` (needs root)"))?;
        cmd!(sh, "apt-get update -qq").run().context("apt-get update failed")?;
    }
    let fetch = |sh: &Shell| {
        let _dir = sh.push_dir(&store);
        cmd!(sh, "apt-get source --download-only -qq {WASI_LIBC_SOURCE}").run()
    };
    if fetch(sh).is_err() {
        // The deb-src entry may be newer than apt's lists.
        cmd!(sh, "apt-get update -qq").run().context("apt-get update failed")?;
        fetch(sh).context("`apt-get source wasi-libc` failed")?;
    }
    if !tarball.is_file() {
        bail!("`apt-get source wasi-libc` did not bring `{WASI_LIBC_ORIG}`; Debian's version may have moved");
    }
    Ok(tarball)
}
