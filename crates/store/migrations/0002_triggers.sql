-- Deployment and instance events to be delivered to a group's triggers (an outbox: written in the same
-- transaction as the state change, delivered later by a worker, so notifications are never lost and never block).
CREATE TABLE trigger_events (
    seq BIGINT PRIMARY KEY,
    deployment_id TEXT NOT NULL,
    deployment_group_id TEXT NOT NULL,
    trigger_event TEXT NOT NULL,
    instance_name TEXT,
    status TEXT NOT NULL,
    create_time BIGINT NOT NULL,
    expanded BIGINT NOT NULL
);
CREATE INDEX trigger_events_unexpanded ON trigger_events (expanded, seq);

-- One row per (event, trigger) to deliver, with its retry state.
CREATE TABLE trigger_deliveries (
    seq BIGINT NOT NULL,
    trigger_name TEXT NOT NULL,
    target TEXT NOT NULL,
    payload TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt BIGINT NOT NULL,
    delivered_time BIGINT,
    last_error TEXT,
    PRIMARY KEY (seq, trigger_name)
);
CREATE INDEX trigger_deliveries_pending ON trigger_deliveries (delivered_time, next_attempt);
