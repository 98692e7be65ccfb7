-- Portable DDL: runs unchanged on SQLite and PostgreSQL.
-- Types are limited to TEXT and BIGINT; times are epoch milliseconds; JSON documents are TEXT; booleans are 0/1.

CREATE TABLE applications (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    compute_platform TEXT NOT NULL,
    create_time BIGINT NOT NULL,
    tags TEXT NOT NULL
);

CREATE TABLE deployment_configs (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    compute_platform TEXT NOT NULL,
    spec TEXT NOT NULL,
    create_time BIGINT NOT NULL
);

CREATE TABLE deployment_groups (
    id TEXT PRIMARY KEY,
    application_id TEXT NOT NULL,
    name TEXT NOT NULL,
    config_name TEXT NOT NULL,
    spec TEXT NOT NULL,
    target_revision TEXT,
    last_successful_deployment_id TEXT,
    last_attempted_deployment_id TEXT,
    active_deployment_id TEXT,
    create_time BIGINT NOT NULL,
    UNIQUE (application_id, name)
);

CREATE TABLE revisions (
    application_id TEXT NOT NULL,
    revision_key TEXT NOT NULL,
    location TEXT NOT NULL,
    description TEXT,
    register_time BIGINT NOT NULL,
    first_used_time BIGINT,
    last_used_time BIGINT,
    PRIMARY KEY (application_id, revision_key)
);

CREATE TABLE objects (
    bucket TEXT NOT NULL,
    object_key TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size BIGINT NOT NULL,
    create_time BIGINT NOT NULL,
    PRIMARY KEY (bucket, object_key)
);

CREATE TABLE instances (
    name TEXT PRIMARY KEY,
    arn TEXT NOT NULL,
    iam_user_arn TEXT,
    iam_session_arn TEXT,
    register_time BIGINT NOT NULL,
    deregister_time BIGINT,
    tags TEXT NOT NULL,
    agent_version TEXT,
    hostname TEXT,
    last_seen BIGINT
);

CREATE TABLE deployments (
    id TEXT PRIMARY KEY,
    application_id TEXT NOT NULL,
    application_name TEXT NOT NULL,
    deployment_group_id TEXT NOT NULL,
    deployment_group_name TEXT NOT NULL,
    config_name TEXT NOT NULL,
    status TEXT NOT NULL,
    creator TEXT NOT NULL,
    revision TEXT NOT NULL,
    bundle TEXT NOT NULL,
    previous_revision TEXT,
    options TEXT NOT NULL,
    min_healthy BIGINT,
    error_code TEXT,
    error_message TEXT,
    stop_requested BIGINT NOT NULL,
    create_time BIGINT NOT NULL,
    start_time BIGINT,
    complete_time BIGINT
);
CREATE INDEX deployments_by_group ON deployments (deployment_group_id, create_time);
CREATE INDEX deployments_by_status ON deployments (status);

CREATE TABLE deployment_targets (
    deployment_id TEXT NOT NULL,
    instance_name TEXT NOT NULL,
    position BIGINT NOT NULL,
    status TEXT NOT NULL,
    last_updated BIGINT NOT NULL,
    PRIMARY KEY (deployment_id, instance_name)
);
CREATE INDEX deployment_targets_by_instance ON deployment_targets (instance_name, status);

CREATE TABLE lifecycle_events (
    deployment_id TEXT NOT NULL,
    instance_name TEXT NOT NULL,
    position BIGINT NOT NULL,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    start_time BIGINT,
    end_time BIGINT,
    error_code TEXT,
    script_name TEXT,
    message TEXT,
    log_tail TEXT,
    PRIMARY KEY (deployment_id, instance_name, position)
);
CREATE INDEX lifecycle_events_by_instance ON lifecycle_events (instance_name, status);

CREATE TABLE event_logs (
    deployment_id TEXT NOT NULL,
    instance_name TEXT NOT NULL,
    position BIGINT NOT NULL,
    log TEXT NOT NULL,
    PRIMARY KEY (deployment_id, instance_name, position)
);

CREATE TABLE group_instances (
    deployment_group_id TEXT NOT NULL,
    instance_name TEXT NOT NULL,
    healthy BIGINT NOT NULL,
    revision_key TEXT,
    PRIMARY KEY (deployment_group_id, instance_name)
);
