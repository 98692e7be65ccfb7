//! The AWS shared-credentials file (`~/.aws/credentials`): INI sections of `aws_access_key_id` and
//! `aws_secret_access_key`. The server writes its first admin key in this format; the CLI reads it.

use crate::Credentials;

/// Renders one profile.
pub fn render(profile: &str, credentials: &Credentials) -> String {
    format!(
        "# Written by cutover-server. Use with AWS_SHARED_CREDENTIALS_FILE=<this file>.\n[{profile}]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        credentials.access_key_id, credentials.secret_access_key
    )
}

/// Reads one profile's keys from the file's text; None when the profile or one of its two keys is missing.
pub fn parse(text: &str, profile: &str) -> Option<Credentials> {
    let mut in_profile = false;
    let mut access_key_id = None;
    let mut secret_access_key = None;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(section) = line.strip_prefix('[').and_then(|rest| rest.strip_suffix(']')) {
            in_profile = section.trim() == profile;
            continue;
        }
        if !in_profile {
            continue;
        }
        if let Some((key, value)) = line.split_once('=') {
            match key.trim() {
                "aws_access_key_id" => access_key_id = Some(value.trim().to_owned()),
                "aws_secret_access_key" => secret_access_key = Some(value.trim().to_owned()),
                _ => {}
            }
        }
    }
    Some(Credentials { access_key_id: access_key_id?, secret_access_key: secret_access_key? })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_picks_the_profile() {
        let creds = Credentials { access_key_id: "CUTOABC".into(), secret_access_key: "s3cr3t/+=".into() };
        let text = render("default", &creds);
        assert_eq!(parse(&text, "default"), Some(creds.clone()));
        assert_eq!(parse(&text, "other"), None);
        let two = format!("[other]\naws_access_key_id=X\naws_secret_access_key=Y\n{text}");
        assert_eq!(parse(&two, "default"), Some(creds));
        assert_eq!(parse(&two, "other").unwrap().access_key_id, "X");
    }
}
