//! Cutover's credentials, with no I/O: AWS Signature V4 ([`sigv4`]), the roles of access keys and which API
//! operations each may call ([`role`]), revision signatures ([`signature`]) and the AWS shared-credentials file
//! format ([`credentials_file`]). Server, agent and CLI share this crate so both ends of every check agree.

pub mod credentials_file;
pub mod role;
pub mod signature;
pub mod sigv4;

pub use role::Role;
pub use sigv4::Credentials;
