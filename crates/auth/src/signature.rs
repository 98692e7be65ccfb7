//! Revision signatures: ed25519 over a revision bundle's SHA-256 digest.
//!
//! `cutover push --sign KEY` signs; a deployment group that trusts public keys refuses revisions without a valid
//! signature by one of them, and the agent checks the signature again before it extracts anything. Signing the
//! digest (not the bytes) lets a signature be checked without reading the bundle twice; SHA-256 binds it to the
//! bytes. The message is domain-separated so a signature can never be replayed as anything else.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};

const PUBLIC_PREFIX: &str = "ed25519:";
const SECRET_PREFIX: &str = "cutover-ed25519-secret:";

/// Why a key or signature was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("not an ed25519 public key (expected `ed25519:` followed by 32 bytes in base64): {0:?}")]
    BadPublicKey(String),
    #[error("not a Cutover signing key file (expected `cutover-ed25519-secret:` followed by 32 bytes in base64)")]
    BadSecretKey,
    #[error("not a signature (expected 64 bytes in base64)")]
    BadSignature,
    #[error("the signature does not verify with any trusted key")]
    Untrusted,
}

fn message(bundle_sha256: &str) -> Vec<u8> {
    format!("cutover-revision-signature-v1\n{}", bundle_sha256.to_ascii_lowercase()).into_bytes()
}

/// A key pair from 32 random bytes (the caller supplies the randomness).
pub fn keypair_from_seed(seed: [u8; 32]) -> (String, String) {
    let key = SigningKey::from_bytes(&seed);
    (format!("{SECRET_PREFIX}{}\n", STANDARD.encode(seed)), public_key_text(&key.verifying_key()))
}

fn public_key_text(key: &VerifyingKey) -> String {
    format!("{PUBLIC_PREFIX}{}", STANDARD.encode(key.as_bytes()))
}

/// Parses a secret key file's text.
pub fn parse_secret_key(text: &str) -> Result<SigningKey, SignatureError> {
    let encoded = text.trim().strip_prefix(SECRET_PREFIX).ok_or(SignatureError::BadSecretKey)?;
    let bytes = STANDARD.decode(encoded).map_err(|_| SignatureError::BadSecretKey)?;
    let seed: [u8; 32] = bytes.try_into().map_err(|_| SignatureError::BadSecretKey)?;
    Ok(SigningKey::from_bytes(&seed))
}

/// Parses `ed25519:<base64>`; returns the canonical text of the key.
pub fn parse_public_key(text: &str) -> Result<String, SignatureError> {
    Ok(public_key_text(&verifying_key(text)?))
}

fn verifying_key(text: &str) -> Result<VerifyingKey, SignatureError> {
    let bad = || SignatureError::BadPublicKey(text.to_owned());
    let encoded = text.trim().strip_prefix(PUBLIC_PREFIX).ok_or_else(bad)?;
    let bytes: [u8; 32] = STANDARD.decode(encoded).map_err(|_| bad())?.try_into().map_err(|_| bad())?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| bad())
}

/// Signs a bundle digest; returns (public key text, signature in base64).
pub fn sign(key: &SigningKey, bundle_sha256: &str) -> (String, String) {
    let signature = key.sign(&message(bundle_sha256));
    (public_key_text(&key.verifying_key()), STANDARD.encode(signature.to_bytes()))
}

/// Checks that `signature` over `bundle_sha256` was made by one of `trusted` keys; returns the key that made it.
pub fn verify<'a>(trusted: &'a [String], bundle_sha256: &str, signature: &str) -> Result<&'a str, SignatureError> {
    let bytes: [u8; 64] = STANDARD
        .decode(signature.trim())
        .map_err(|_| SignatureError::BadSignature)?
        .try_into()
        .map_err(|_| SignatureError::BadSignature)?;
    let signature = ed25519_dalek::Signature::from_bytes(&bytes);
    let message = message(bundle_sha256);
    trusted
        .iter()
        .find(|key| verifying_key(key).is_ok_and(|key| key.verify_strict(&message, &signature).is_ok()))
        .map(String::as_str)
        .ok_or(SignatureError::Untrusted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_and_verifies_only_with_the_trusted_key_and_digest() {
        let (secret, public) = keypair_from_seed([7; 32]);
        let (_, other_public) = keypair_from_seed([8; 32]);
        let key = parse_secret_key(&secret).unwrap();
        let digest = "ab".repeat(32);
        let (signer, sig) = sign(&key, &digest);
        assert_eq!(signer, public);
        assert_eq!(verify(std::slice::from_ref(&public), &digest, &sig), Ok(public.as_str()));
        assert_eq!(verify(std::slice::from_ref(&other_public), &digest, &sig), Err(SignatureError::Untrusted));
        assert_eq!(verify(std::slice::from_ref(&public), &"cd".repeat(32), &sig), Err(SignatureError::Untrusted));
        assert_eq!(verify(std::slice::from_ref(&public), &digest, "nope"), Err(SignatureError::BadSignature));
        assert_eq!(parse_public_key(&public), Ok(public.clone()));
        assert!(parse_public_key("ed25519:AAAA").is_err());
        assert!(parse_secret_key("garbage").is_err());
    }
}
