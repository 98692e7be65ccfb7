-- Scale-out: several server replicas on one PostgreSQL.

-- Leases: which replica drives a running deployment (name = deployment id) or runs a singleton worker
-- (name = `worker:<name>`). A lease is held until `expires_ms`; `epoch` grows by one whenever another replica takes it
-- over, so a replica can tell that what it held was taken from it.
CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    expires_ms BIGINT NOT NULL,
    epoch BIGINT NOT NULL
);
CREATE INDEX leases_by_owner ON leases (owner);

-- Sequence numbers handed out by one row update each: the update locks the row until commit, so numbers are unique
-- under concurrent transactions (MAX(seq)+1 was only safe on SQLite's single connection) and follow commit order.
CREATE TABLE counters (
    name TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO counters (name, value) SELECT 'trigger_events', COALESCE(MAX(seq), 0) FROM trigger_events;
INSERT INTO counters (name, value) SELECT 'audit_events', COALESCE(MAX(seq), 0) FROM audit_events;
INSERT INTO counters (name, value) SELECT 'log_chunks', COALESCE(MAX(seq), 0) FROM log_chunks;
