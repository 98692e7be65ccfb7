//! `cutover push`: validate the AppSpec, bundle the directory, upload it, register the revision.

use std::path::{Path, PathBuf};

use clap::Args;
use cutover_api_types::codedeploy::{self as wire, Operation};

use super::{Api, shell_word};
use crate::bundle::{self, BundleType};
use crate::cli::DEFAULT_ENDPOINT;
use crate::error::{CliError, CliResult};
use crate::output;

/// Bucket of the server's revision store that `push` uploads to unless told otherwise.
pub(crate) const DEFAULT_BUCKET: &str = "cutover-revisions";

#[derive(Debug, Args)]
pub(crate) struct PushArgs {
    /// Application to register the revision with (it must exist).
    #[arg(long, value_name = "NAME")]
    pub(crate) application_name: String,
    /// The revision's directory; appspec.yml (or appspec.yaml) must be at its root.
    #[arg(long, value_name = "DIR")]
    pub(crate) source: PathBuf,
    /// Archive format of the bundle.
    #[arg(long, value_enum, default_value_t = BundleType::Tgz)]
    pub(crate) bundle_type: BundleType,
    /// Bucket of the server's revision store.
    #[arg(long, value_name = "BUCKET", default_value = DEFAULT_BUCKET)]
    pub(crate) bucket: String,
    /// Object key [default: <application>/<sha256>.<bundle type>]
    #[arg(long, value_name = "KEY")]
    pub(crate) key: Option<String>,
    /// Description of the revision.
    #[arg(long)]
    pub(crate) description: Option<String>,
    /// Leave out files and directories whose name starts with a dot.
    #[arg(long)]
    pub(crate) ignore_hidden_files: bool,
    /// Print only the revision location as JSON: what `deploy --revision` and CreateDeployment's `revision` accept.
    #[arg(long)]
    pub(crate) json: bool,
    /// Sign the bundle with this ed25519 secret key (`cutover signing generate-key`), for deployment groups that
    /// require signed revisions.
    #[arg(long, value_name = "KEY_FILE")]
    pub(crate) sign: Option<PathBuf>,
}

/// A pushed revision.
pub(crate) struct Pushed {
    pub(crate) revision: wire::RevisionLocation,
    pub(crate) bucket: String,
    pub(crate) key: String,
    pub(crate) bundle_type: BundleType,
    pub(crate) size: usize,
    pub(crate) files: usize,
    pub(crate) sha256: String,
}

pub(crate) async fn run(api: &Api, args: PushArgs) -> CliResult<()> {
    let pushed = push(api, &args).await?;
    if args.json {
        return output::json(&pushed.revision);
    }
    output::line(format!(
        "Pushed revision s3://{}/{} of application {} ({}, {}, {} files, sha256 {})",
        pushed.bucket,
        pushed.key,
        args.application_name,
        pushed.bundle_type,
        size(pushed.size),
        pushed.files,
        pushed.sha256
    ))?;
    output::line("Deploy it with:")?;
    output::line(format!("  {}", deploy_command(api.endpoint(), &args.application_name, &pushed)))
}

/// Checks, bundles, uploads and registers a revision. Nothing touches the network before the AppSpec passed.
pub(crate) async fn push(api: &Api, args: &PushArgs) -> CliResult<Pushed> {
    let appspec = super::appspec::find_in(&args.source)?;
    super::appspec::check(&appspec)?;
    check_location(&args.bucket, args.key.as_deref())?;
    let bundle = bundle::build(&args.source, args.bundle_type, args.ignore_hidden_files)
        .map_err(|error| CliError::user(format!("cannot bundle {}: {error}", args.source.display())))?;
    let key = args
        .key
        .clone()
        .unwrap_or_else(|| format!("{}/{}.{}", args.application_name, bundle.sha256, bundle.bundle_type));

    // Refuse an unknown application before uploading, so a typo costs no upload.
    let application = api
        .client()
        .call::<_, serde_json::Value>(
            Operation::GetApplication,
            &wire::GetApplicationInput { application_name: Some(args.application_name.clone()) },
        )
        .await;
    if let Err(error) = application {
        if error.exception() == Some("ApplicationDoesNotExistException") {
            return Err(CliError::user(error.to_string()).hint(format!(
                "create it with `cutover create-application --application-name {}`",
                shell_word(&args.application_name)
            )));
        }
        return Err(error.into());
    }

    let size = bundle.bytes.len();
    let etag = api.client().put_object(&args.bucket, &key, bundle.bytes).await?;
    if !etag.is_empty() && etag != bundle.sha256 {
        return Err(CliError::user(format!(
            "the upload of s3://{}/{key} was corrupted: the server stored sha256 {etag}, the bundle has {}",
            args.bucket, bundle.sha256
        )));
    }
    let revision = wire::RevisionLocation {
        revision_type: Some("S3".to_owned()),
        s3_location: Some(wire::S3Location {
            bucket: Some(args.bucket.clone()),
            key: Some(key.clone()),
            bundle_type: Some(bundle.bundle_type.as_str().to_owned()),
            version: None,
            e_tag: Some(bundle.sha256.clone()),
        }),
        ..Default::default()
    };
    if let Some(key_file) = &args.sign {
        let public_key = super::security::sign_bundle(api, key_file, &bundle.sha256).await?;
        if !args.json {
            output::line(format!("Signed sha256 {} with {public_key}", bundle.sha256))?;
        }
    }
    let input = wire::RegisterApplicationRevisionInput {
        application_name: Some(args.application_name.clone()),
        description: args.description.clone(),
        revision: Some(revision.clone()),
    };
    let _: serde_json::Value = api.call(Operation::RegisterApplicationRevision, &input).await?;
    Ok(Pushed {
        revision,
        bucket: args.bucket.clone(),
        key,
        bundle_type: bundle.bundle_type,
        size,
        files: bundle.entries.iter().filter(|entry| entry.kind != bundle::EntryKind::Directory).count(),
        sha256: bundle.sha256,
    })
}

/// Refuses bucket and key names that cannot travel in the upload's URL path.
fn check_location(bucket: &str, key: Option<&str>) -> CliResult<()> {
    let bucket_ok = !bucket.is_empty()
        && bucket.len() <= 63
        && bucket.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
    if !bucket_ok {
        return Err(CliError::user(format!(
            "invalid bucket {bucket:?}: use 1-63 characters of lowercase letters, digits, '-' and '.'"
        )));
    }
    if let Some(key) = key {
        let key_ok = !key.is_empty()
            && !key.starts_with('/')
            && !key.split('/').any(|segment| segment.is_empty() || segment == "." || segment == "..")
            && !key.chars().any(|c| c.is_control() || matches!(c, '?' | '#' | '%' | '\\'));
        if !key_ok {
            return Err(CliError::user(format!(
                "invalid key {key:?}: use '/'-separated names without empty, '.' or '..' parts, and without \
                 '?', '#', '%', '\\' or control characters"
            )));
        }
    }
    Ok(())
}

/// `1.2 KiB`.
fn size(bytes: usize) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} bytes");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// A ready-made `cutover deploy` command for a pushed revision (the group is a placeholder).
fn deploy_command(endpoint: &str, application: &str, pushed: &Pushed) -> String {
    let mut words = vec!["cutover".to_owned()];
    let from_env = std::env::var("CUTOVER_ENDPOINT").is_ok_and(|value| value.trim_end_matches('/') == endpoint);
    if endpoint != DEFAULT_ENDPOINT && !from_env {
        words.push("--endpoint".to_owned());
        words.push(shell_word(endpoint));
    }
    words.extend([
        "deploy".to_owned(),
        "--application-name".to_owned(),
        shell_word(application),
        "--deployment-group-name".to_owned(),
        "<GROUP>".to_owned(),
        "--s3-location".to_owned(),
        shell_word(&format!("{}/{}", pushed.bucket, pushed.key)),
        "--bundle-type".to_owned(),
        pushed.bundle_type.as_str().to_owned(),
        "--wait".to_owned(),
    ]);
    words.join(" ")
}

/// The directory `dev` writes its sample into, and other callers that push a path they made themselves.
pub(crate) fn args_for(application: &str, source: &Path) -> PushArgs {
    PushArgs {
        application_name: application.to_owned(),
        source: source.to_owned(),
        bundle_type: BundleType::Tgz,
        bucket: DEFAULT_BUCKET.to_owned(),
        key: None,
        description: None,
        ignore_hidden_files: false,
        json: false,
        sign: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_human() {
        assert_eq!(size(12), "12 bytes");
        assert_eq!(size(1536), "1.5 KiB");
        assert_eq!(size(3 * 1024 * 1024), "3.0 MiB");
    }

    #[test]
    fn keys_must_fit_in_a_url_path() {
        assert!(check_location("cutover-revisions", Some("app/rev.tgz")).is_ok());
        assert!(check_location("cutover-revisions", Some("/app/rev.tgz")).is_err());
        assert!(check_location("cutover-revisions", Some("app/../rev.tgz")).is_err());
        assert!(check_location("cutover-revisions", Some("app/rev?.tgz")).is_err());
        assert!(check_location("Cutover", None).is_err());
    }
}
