-- Container services (computePlatform ECS): the task sets each host is to run (written by the server's ECS
-- deployments) and what its agent last reported of them (written only by the agent's task-set report). A service is
-- `<cluster>/<service>`; its `primary` task sets serve production, a deployment's `replacement` ones are being
-- rolled out. Removing a row is how a host is told to stop a task set.
CREATE TABLE task_set_assignments (
    instance_name TEXT NOT NULL,
    task_set_id TEXT NOT NULL,
    service TEXT NOT NULL,
    deployment_id TEXT NOT NULL,
    role TEXT NOT NULL,
    definition TEXT NOT NULL,
    task_count BIGINT NOT NULL,
    container_name TEXT NOT NULL,
    container_port BIGINT NOT NULL,
    assigned_at BIGINT NOT NULL,
    running BIGINT NOT NULL DEFAULT 0,
    healthy BIGINT NOT NULL DEFAULT 0,
    upstreams TEXT NOT NULL DEFAULT '[]',
    error TEXT,
    replaced BIGINT NOT NULL DEFAULT 0,
    messages TEXT NOT NULL DEFAULT '',
    reported_at BIGINT,
    logs TEXT,
    logs_at BIGINT,
    logs_wanted_until BIGINT,
    PRIMARY KEY (instance_name, task_set_id)
);
CREATE INDEX task_set_assignments_service ON task_set_assignments (service);
CREATE INDEX task_set_assignments_deployment ON task_set_assignments (deployment_id);
