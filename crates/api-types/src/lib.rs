//! Wire types of Cutover's two HTTP protocols.
//!
//! API boundary: these structs are what travels on the wire and nothing else. They depend on serde only, never on
//! the domain crate, so the wire format does not move when domain internals change. Unknown fields are tolerated
//! (an old agent can talk to a new server) and optional fields are skipped when empty.
//!
//! - [`codedeploy`]: CodeDeploy's JSON 1.1 API (`POST /`, `X-Amz-Target: CodeDeploy_20141006.<Op>`), with
//!   botocore's member names.
//! - [`agent`]: the host agent protocol under `/agent/v1/`.
//! - [`cutover`]: Cutover's own operations on the same JSON 1.1 endpoint (`X-Amz-Target: Cutover_20261122.<Op>`):
//!   access keys, enrolment tokens, the audit log, revision signatures.

pub mod agent;
pub mod codedeploy;
pub mod cutover;
