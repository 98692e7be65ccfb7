//! Identifier formats: deployment ids, and the names of applications, deployment groups and deployment configs.
//!
//! Randomness is an input: the caller draws the bytes, so this module stays deterministic.

/// The alphabet of the random part of a deployment id, as in CodeDeploy's `d-XXXXXXXXX`.
const DEPLOYMENT_ID_ALPHABET: &[u8; 36] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// The prefix every deployment id starts with.
pub const DEPLOYMENT_ID_PREFIX: &str = "d-";

/// The number of random characters after the prefix.
pub const DEPLOYMENT_ID_RANDOM_LEN: usize = 9;

/// The longest application, deployment group or deployment config name.
pub const MAX_NAME_LEN: usize = 100;

/// Builds a deployment id, `d-` followed by nine characters of `[A-Z0-9]`, from nine random bytes.
///
/// Each byte picks one character by `byte % 36`. That slightly favours the first four characters (256 is not a
/// multiple of 36), which is harmless: ids need to be unlikely to collide, not uniformly distributed, and the store
/// rejects a duplicate anyway.
pub fn deployment_id(random: [u8; DEPLOYMENT_ID_RANDOM_LEN]) -> String {
    let mut id = String::with_capacity(DEPLOYMENT_ID_PREFIX.len() + DEPLOYMENT_ID_RANDOM_LEN);
    id.push_str(DEPLOYMENT_ID_PREFIX);
    for byte in random {
        let index = usize::from(byte) % DEPLOYMENT_ID_ALPHABET.len();
        id.push(char::from(DEPLOYMENT_ID_ALPHABET[index]));
    }
    id
}

/// Returns true when `id` has the shape of a deployment id: `d-` and nine characters of `[A-Z0-9]`.
pub fn is_valid_deployment_id(id: &str) -> bool {
    match id.strip_prefix(DEPLOYMENT_ID_PREFIX) {
        Some(random) => {
            random.len() == DEPLOYMENT_ID_RANDOM_LEN
                && random.bytes().all(|byte| byte.is_ascii_uppercase() || byte.is_ascii_digit())
        }
        None => false,
    }
}

/// Returns true when `name` is a valid application, deployment group or deployment config name: 1–100 characters
/// of `[A-Za-z0-9+=,.@_-]`.
///
/// Reserved prefixes (such as `CodeDeployDefault.` for configs) are the caller's concern, because only some kinds of
/// names have them.
pub fn is_valid_name(name: &str) -> bool {
    // Every allowed character is ASCII, so the byte length is the character count.
    (1..=MAX_NAME_LEN).contains(&name.len()) && name.bytes().all(is_name_byte)
}

fn is_name_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'+' | b'=' | b',' | b'.' | b'@' | b'_' | b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deployment_ids_are_built_from_the_bytes() {
        let cases: &[([u8; 9], &str)] = &[
            ([0; 9], "d-AAAAAAAAA"),
            ([0, 1, 2, 25, 26, 35, 36, 37, 255], "d-ABCZ09ABD"),
            ([35; 9], "d-999999999"),
            ([255; 9], "d-DDDDDDDDD"),
        ];
        for (random, expected) in cases {
            let id = deployment_id(*random);
            assert_eq!(id, *expected);
            assert!(is_valid_deployment_id(&id), "{id}");
        }
    }

    #[test]
    fn every_byte_gives_a_valid_id() {
        for byte in 0..=u8::MAX {
            let id = deployment_id([byte; 9]);
            assert!(is_valid_deployment_id(&id), "{id}");
            assert_eq!(id.len(), 11);
        }
    }

    #[test]
    fn deployment_id_shapes() {
        let cases = [
            ("d-ABCDEFGH1", true),
            ("d-123456789", true),
            ("d-ABCDEFGH", false),
            ("d-ABCDEFGH12", false),
            ("d-abcdefgh1", false),
            ("D-ABCDEFGH1", false),
            ("x-ABCDEFGH1", false),
            ("ABCDEFGH1", false),
            ("d-ABCD_FGH1", false),
            ("d-ABCDÉFGH", false),
            ("", false),
            ("d-", false),
        ];
        for (id, valid) in cases {
            assert_eq!(is_valid_deployment_id(id), valid, "{id:?}");
        }
    }

    #[test]
    fn name_rules() {
        let longest = "a".repeat(100);
        let too_long = "a".repeat(101);
        let cases = [
            ("MyApp", true),
            ("my-app_1.2", true),
            ("a+b=c,d.e@f_g-h", true),
            ("x", true),
            (longest.as_str(), true),
            (too_long.as_str(), false),
            ("", false),
            ("my app", false),
            ("my/app", false),
            ("app:1", false),
            ("café", false),
            ("tab\t", false),
        ];
        for (name, valid) in cases {
            assert_eq!(is_valid_name(name), valid, "{name:?}");
        }
    }
}
