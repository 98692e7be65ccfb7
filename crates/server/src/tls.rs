//! TLS for everything the server serves (API, S3, agent protocol, console), with rustls.
//!
//! `--tls auto` (the default) turns TLS on when the server listens beyond loopback: traffic that leaves the host is
//! always encrypted, and a laptop's `cutover dev` stays plain HTTP that any client reaches without a CA file.
//! `--tls-cert`/`--tls-key` serve a certificate the user provides (production); without them the server generates,
//! on first start, a private CA (`DATA_DIR/tls/ca.pem`, its key beside it, mode 0600) and a server certificate it
//! signs, for `localhost`, the loopback addresses, this host's name and every `--tls-san`. Clients trust the CA file:
//! `cutover --ca-file`, `cutover-agent --ca-file`, `aws --ca-bundle` / `AWS_CA_BUNDLE`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// `--tls`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TlsMode {
    /// TLS when the listen address is not a loopback address.
    Auto,
    On,
    Off,
}

/// The rustls configuration to serve with, or None for plain HTTP.
pub(crate) fn server_config(
    config: &crate::Config,
    addr: SocketAddr,
) -> anyhow::Result<Option<Arc<rustls::ServerConfig>>> {
    let on = match config.tls {
        TlsMode::On => true,
        TlsMode::Off => false,
        TlsMode::Auto => !addr.ip().is_loopback() || config.tls_cert.is_some(),
    };
    if !on {
        return Ok(None);
    }
    // One process-wide provider (aws-lc-rs): reqwest uses the same, and rustls refuses to guess between two.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let (cert, key) = match (&config.tls_cert, &config.tls_key) {
        (Some(cert), Some(key)) => (cert.clone(), key.clone()),
        (None, None) => generated(&config.data_dir.join("tls"), &config.tls_san)?,
        _ => anyhow::bail!("--tls-cert and --tls-key go together"),
    };
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&cert)
        .with_context(|| format!("cannot read the certificate {}", cert.display()))?
        .collect::<Result<_, _>>()
        .with_context(|| format!("{} is not a PEM certificate chain", cert.display()))?;
    anyhow::ensure!(!chain.is_empty(), "{} holds no certificate", cert.display());
    let key =
        PrivateKeyDer::from_pem_file(&key).with_context(|| format!("{} is not a PEM private key", key.display()))?;
    let server = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .context("the certificate and key do not match")?;
    Ok(Some(Arc::new(server)))
}

/// The generated CA and server certificate under `dir`, created on first use; returns (cert, key) paths.
fn generated(dir: &Path, extra_names: &[String]) -> anyhow::Result<(PathBuf, PathBuf)> {
    let (cert, key) = (dir.join("server.pem"), dir.join("server.key"));
    if cert.exists() && key.exists() {
        return Ok((cert, key));
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let ca_key = rcgen::KeyPair::generate()?;
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(rcgen::DnType::CommonName, "Cutover private CA");
    ca_params.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::CrlSign,
        rcgen::KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca_params.self_signed(&ca_key)?;
    let issuer = rcgen::Issuer::new(ca_params, &ca_key);

    let mut names = vec!["localhost".to_owned(), "127.0.0.1".to_owned(), "::1".to_owned()];
    if let Ok(host) = std::fs::read_to_string("/proc/sys/kernel/hostname") {
        names.push(host.trim().to_owned());
    }
    names.extend(extra_names.iter().cloned());
    names.retain(|name| !name.is_empty());
    names.dedup();
    let leaf_key = rcgen::KeyPair::generate()?;
    let mut leaf = rcgen::CertificateParams::new(names)?;
    leaf.distinguished_name.push(rcgen::DnType::CommonName, "cutover-server");
    leaf.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    let leaf_cert = leaf.signed_by(&leaf_key, &issuer)?;

    crate::auth::write_private(&dir.join("ca.key"), &ca_key.serialize_pem())?;
    crate::auth::write_private(&key, &leaf_key.serialize_pem())?;
    // The certificates are public; the chain file holds the leaf then the CA.
    std::fs::write(dir.join("ca.pem"), ca_cert.pem())?;
    std::fs::write(&cert, format!("{}{}", leaf_cert.pem(), ca_cert.pem()))?;
    tracing::info!(message = "Generated a private CA and a server certificate.", dir = %dir.display());
    Ok((cert, key))
}
