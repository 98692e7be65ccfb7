-- Security: access keys (API users and host agents), enrolment tokens, the audit log, and revision signatures.

-- An access key signs requests with AWS Signature V4, so the server needs the secret itself (a hash would not do);
-- it is stored sealed under the server's master key (`secret_sealed`), never in the clear.
CREATE TABLE access_keys (
    access_key_id TEXT PRIMARY KEY,
    secret_sealed TEXT NOT NULL,
    -- admin | deployer | viewer, or agent for a host agent's own credential.
    role TEXT NOT NULL,
    description TEXT NOT NULL,
    -- Set for agent credentials: the one instance this key speaks for.
    instance_name TEXT,
    create_time BIGINT NOT NULL,
    last_used_time BIGINT
);
CREATE INDEX access_keys_instance ON access_keys (instance_name);

-- Join tokens for agents. Only a SHA-256 of the token's secret is kept.
CREATE TABLE enrollment_tokens (
    token_id TEXT PRIMARY KEY,
    secret_sha256 TEXT NOT NULL,
    expire_time BIGINT NOT NULL,
    -- NULL: any number of hosts may enrol until the token expires.
    uses_left BIGINT,
    create_time BIGINT NOT NULL
);

-- Every mutating API call and console action: who, what, when, from where, and how it ended.
CREATE TABLE audit_events (
    seq BIGINT PRIMARY KEY,
    event_time BIGINT NOT NULL,
    access_key_id TEXT NOT NULL,
    principal TEXT NOT NULL,
    action TEXT NOT NULL,
    resource TEXT NOT NULL,
    source TEXT NOT NULL,
    outcome TEXT NOT NULL
);

-- ed25519 signatures of revision bundles, by bundle digest and signing key.
CREATE TABLE bundle_signatures (
    sha256 TEXT NOT NULL,
    public_key TEXT NOT NULL,
    signature TEXT NOT NULL,
    create_time BIGINT NOT NULL,
    PRIMARY KEY (sha256, public_key)
);

-- Public keys a deployment group trusts; a group with any requires every revision it deploys to be signed by one.
CREATE TABLE group_trusted_keys (
    deployment_group_id TEXT NOT NULL,
    public_key TEXT NOT NULL,
    PRIMARY KEY (deployment_group_id, public_key)
);
