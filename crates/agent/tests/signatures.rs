//! A deployment group that trusts signing keys: the agent fetches (or reuses) nothing unless the bundle's digest is
//! signed by one of the keys the command carries.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{Bundle, Deployment};
use cutover_agent::bundle::{Fetch, FetchFuture, LocalFetch};
use cutover_agent::layout::Layout;
use cutover_agent::{Executor, ExecutorOptions};
use cutover_api_types::agent::BundleSignature;

#[derive(Default)]
struct CountingFetch(AtomicUsize);

impl Fetch for CountingFetch {
    fn fetch<'a>(&'a self, url: &'a str, dest: &'a Path) -> FetchFuture<'a> {
        self.0.fetch_add(1, Ordering::SeqCst);
        LocalFetch.fetch(url, dest)
    }
}

#[tokio::test]
async fn unsigned_or_wrongly_signed_bundles_are_refused_before_any_fetch() {
    let dir = tempfile::tempdir().unwrap();
    let fetch = Arc::new(CountingFetch::default());
    let executor = Executor::new(Layout::new(dir.path().join("root")), fetch.clone(), ExecutorOptions::default());
    let bytes = Bundle::new().file("appspec.yml", "version: 0.0\nos: linux\n", 0o644).tgz();
    let deployment = Deployment::new(&executor, dir.path(), "d-SIGNED0001", &bytes, "tgz");
    let (trusted_secret, trusted) = cutover_auth::signature::keypair_from_seed([1; 32]);
    let (other_secret, _) = cutover_auth::signature::keypair_from_seed([2; 32]);
    let sign = |secret: &str| {
        let key = cutover_auth::signature::parse_secret_key(secret).unwrap();
        let (public_key, signature) = cutover_auth::signature::sign(&key, &deployment.sha256);
        BundleSignature { public_key, signature }
    };
    let with = |signatures: Vec<BundleSignature>| {
        let mut command = deployment.command("DownloadBundle");
        command.deployment.revision.trusted_keys = vec![trusted.clone()];
        command.deployment.revision.signatures = signatures;
        command
    };

    for (what, signatures) in [("no signature", vec![]), ("an untrusted key's signature", vec![sign(&other_secret)])] {
        let outcome = executor.run_event(&with(signatures)).await;
        assert!(!outcome.succeeded, "{what}");
        assert!(
            outcome.diagnostics.message.contains("is not signed by any of the 1 key(s)"),
            "{what}: {:?}",
            outcome.diagnostics
        );
        assert_eq!(fetch.0.load(Ordering::SeqCst), 0, "{what}: nothing fetched");
        assert!(!deployment.archive().exists(), "{what}: nothing extracted");
    }
    // A trusted key's signature of another digest does not count either.
    let mut forged = sign(&trusted_secret);
    let key = cutover_auth::signature::parse_secret_key(&trusted_secret).unwrap();
    forged.signature = cutover_auth::signature::sign(&key, &"0".repeat(64)).1;
    assert!(!executor.run_event(&with(vec![forged])).await.succeeded);
    assert_eq!(fetch.0.load(Ordering::SeqCst), 0);

    let outcome = executor.run_event(&with(vec![sign(&other_secret), sign(&trusted_secret)])).await;
    assert!(outcome.succeeded, "{:?}", outcome.diagnostics);
    assert_eq!(fetch.0.load(Ordering::SeqCst), 1);
    assert!(outcome.log.contains(&format!("signed by trusted key {trusted}")), "{}", outcome.log);
    assert!(deployment.archive().join("appspec.yml").exists());
}
