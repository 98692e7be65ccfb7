//! The agent's own credential: a per-instance access key it generates on first start, proposes to the server when
//! it enrols with a join token, and signs every later request with (AWS Signature V4).
//!
//! The key is written to `ROOT/credentials.json` (mode 0600) *before* it is sent, so an enrolment whose answer is
//! lost can be retried with the same key: the server accepts the same key twice, and refuses a different one for
//! an instance that already has one. `enrolled` records that the server accepted it.
//! Hooks never see this file's contents: they run with a clean environment and the file is readable by root only.

use std::path::{Path, PathBuf};

use anyhow::Context;
use cutover_client::Credentials;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Stored {
    instance_name: String,
    access_key_id: String,
    secret_access_key: String,
    enrolled: bool,
}

/// The credential file of an agent root.
#[derive(Debug, Clone)]
pub struct Identity {
    path: PathBuf,
    stored: Stored,
}

impl Identity {
    /// Loads the credential of `root`, or creates one (not yet enrolled) for `instance_name`.
    pub fn load_or_create(root: &Path, instance_name: &str) -> anyhow::Result<Identity> {
        let path = root.join("credentials.json");
        match std::fs::read(&path) {
            Ok(bytes) => {
                let stored: Stored = serde_json::from_slice(&bytes)
                    .with_context(|| format!("{} is not an agent credential file", path.display()))?;
                anyhow::ensure!(
                    stored.instance_name == instance_name,
                    "{} holds the credential of instance {:?}, not {instance_name:?}: an agent root belongs to one \
                     instance (remove the file to enrol this host under a new name)",
                    path.display(),
                    stored.instance_name
                );
                Ok(Identity { path, stored })
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                let identity = Identity {
                    path,
                    stored: Stored {
                        instance_name: instance_name.to_owned(),
                        access_key_id: format!("CUTA{}", random_text(16, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")),
                        secret_access_key: random_text(
                            48,
                            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
                        ),
                        enrolled: false,
                    },
                };
                identity.save()?;
                Ok(identity)
            }
            Err(error) => Err(error).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    pub fn credentials(&self) -> Credentials {
        Credentials {
            access_key_id: self.stored.access_key_id.clone(),
            secret_access_key: self.stored.secret_access_key.clone(),
        }
    }

    pub fn enrolled(&self) -> bool {
        self.stored.enrolled
    }

    /// Records that the server accepted the key.
    pub fn mark_enrolled(&mut self) -> anyhow::Result<()> {
        self.stored.enrolled = true;
        self.save()
    }

    fn save(&self) -> anyhow::Result<()> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let tmp = self.path.with_extension("json.tmp");
        let _ = std::fs::remove_file(&tmp);
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            .with_context(|| format!("cannot write {}", tmp.display()))?;
        file.write_all(&serde_json::to_vec_pretty(&self.stored)?)?;
        file.sync_all()?;
        std::fs::rename(&tmp, &self.path).with_context(|| format!("cannot write {}", self.path.display()))?;
        Ok(())
    }
}

/// `len` characters drawn uniformly from `alphabet` (64 or 32 symbols) with the operating system's randomness.
fn random_text(len: usize, alphabet: &[u8]) -> String {
    let mut bytes = vec![0u8; len];
    getrandom::getrandom(&mut bytes).expect("the operating system's random number generator");
    bytes.iter().map(|byte| alphabet[usize::from(*byte) % alphabet.len()] as char).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_once_private_and_bound_to_the_instance() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let mut first = Identity::load_or_create(dir.path(), "host-1").unwrap();
        assert!(!first.enrolled());
        let mode = std::fs::metadata(dir.path().join("credentials.json")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        first.mark_enrolled().unwrap();
        let again = Identity::load_or_create(dir.path(), "host-1").unwrap();
        assert!(again.enrolled());
        assert_eq!(again.credentials(), first.credentials());
        assert!(again.credentials().access_key_id.starts_with("CUTA"));
        assert!(Identity::load_or_create(dir.path(), "host-2").is_err());
    }
}
