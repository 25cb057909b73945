//! Online copies of the embedded SQLite database, and putting one back.
//!
//! [`backup_sqlite`] writes a consistent snapshot with `VACUUM INTO`: SQLite reads
//! the whole database inside one read transaction (so the copy is the database as
//! of one instant, whatever the server writes meanwhile, write-ahead log included)
//! and writes a compact, self-contained file. It is safe beside live traffic: under
//! WAL, readers never block writers. [`restore_sqlite`] checks a copy
//! (`PRAGMA integrity_check`, and that it is an Emporium database) and puts it in
//! place of the database, keeping the replaced files beside it.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail, ensure};
use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};

/// A lock beside the SQLite database a server uses: every server on the file holds
/// it shared while it runs; a restore takes it exclusively, so it refuses to run
/// beside a server. (An advisory `flock`: released when the process dies.)
#[derive(Debug)]
pub struct DatabaseLock {
    _file: std::fs::File,
}

impl DatabaseLock {
    fn take(database: &Path, exclusive: bool) -> anyhow::Result<Option<Self>> {
        use std::os::fd::AsRawFd;
        let path = PathBuf::from(format!("{}.lock", database.display()));
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .with_context(|| format!("opening {}", path.display()))?;
        let operation = if exclusive {
            libc::LOCK_EX
        } else {
            libc::LOCK_SH
        };
        // SAFETY: flock on a descriptor this function owns (kept open in the lock).
        let locked = unsafe { libc::flock(file.as_raw_fd(), operation | libc::LOCK_NB) } == 0;
        Ok(locked.then_some(Self { _file: file }))
    }

    /// The shared lock of a server on `database`. Errors: the lock file cannot be
    /// opened, or a restore holds it.
    pub fn for_server(database: &Path) -> anyhow::Result<Self> {
        Self::take(database, false)?
            .with_context(|| format!("{} is being restored", database.display()))
    }

    /// The exclusive lock of a restore; `None` while a server runs on `database`.
    pub fn for_restore(database: &Path) -> anyhow::Result<Option<Self>> {
        Self::take(database, true)
    }
}

/// Copies the SQLite database at `url` to `target` (which must not exist).
pub async fn backup_sqlite(url: &str, target: &Path) -> anyhow::Result<()> {
    ensure!(
        !target.exists(),
        "{} exists: back up into a new file",
        target.display()
    );
    // Created empty and private first (VACUUM INTO accepts an empty file): the copy
    // holds password hashes and webhook secrets, and is never readable by others.
    {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(target)
            .with_context(|| format!("creating {}", target.display()))?;
    }
    let db = super::connect(url).await?;
    let path = target
        .to_str()
        .context("the backup's path is not valid UTF-8")?
        .to_owned();
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Sqlite,
        "VACUUM INTO ?",
        [Value::from(path)],
    ))
    .await
    .with_context(|| format!("copying the database into {}", target.display()))?;
    db.close().await.ok();
    check(target).await
}

/// Checks that `file` is an intact Emporium database.
async fn check(file: &Path) -> anyhow::Result<()> {
    let db = super::connect(&format!("sqlite://{}", file.display()))
        .await
        .with_context(|| format!("opening {}", file.display()))?;
    let integrity = db
        .query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            "PRAGMA integrity_check",
        ))
        .await?
        .context("PRAGMA integrity_check answered nothing")?
        .try_get_by_index::<String>(0)?;
    ensure!(
        integrity == "ok",
        "{} is damaged: {integrity}",
        file.display()
    );
    let migrations = db
        .query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            "SELECT COUNT(*) FROM seaql_migrations",
        ))
        .await
        .with_context(|| format!("{} is not an Emporium database", file.display()))?
        .context("no migration count")?
        .try_get_by_index::<i64>(0)?;
    ensure!(
        migrations > 0,
        "{} is not an Emporium database (no migrations)",
        file.display()
    );
    db.close().await.ok();
    Ok(())
}

/// Puts the backup `source` in place of the SQLite database file `database` (the
/// server must be stopped). The replaced database and its write-ahead log are kept
/// beside it, suffixed `.before-restore-<unix time>`; returns that suffix's files.
pub async fn restore_sqlite(source: &Path, database: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let dir = database.parent().context("the database has no directory")?;
    std::fs::create_dir_all(dir)?;
    // The copy is checked, not the file given (checking opens it read-write).
    let staged = dir.join(".restore.partial");
    std::fs::copy(source, &staged)
        .with_context(|| format!("copying {} into {}", source.display(), dir.display()))?;
    if let Err(error) = check(&staged).await {
        let _ = std::fs::remove_file(&staged);
        return Err(error);
    }
    std::fs::File::open(&staged)?.sync_all()?;
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|since| since.as_secs())
        .unwrap_or(0);
    let mut kept = Vec::new();
    for suffix in ["", "-wal", "-shm"] {
        let current = PathBuf::from(format!("{}{suffix}", database.display()));
        if current.exists() {
            let aside = PathBuf::from(format!(
                "{}{suffix}.before-restore-{stamp}",
                database.display()
            ));
            std::fs::rename(&current, &aside)
                .with_context(|| format!("moving {} aside", current.display()))?;
            kept.push(aside);
        }
    }
    if let Err(error) = std::fs::rename(&staged, database) {
        bail!(
            "putting the backup in place of {}: {error}",
            database.display()
        );
    }
    Ok(kept)
}
