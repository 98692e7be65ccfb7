-- Traffic control and blue/green. A deployment runs in phases (fleet-wide steps of a blue/green deployment: install
-- the replacement hosts, reroute, block the originals); an event is runnable only once its deployment reached its
-- phase. `runner` says who runs an event: the host's agent, or the server (BlockTraffic/AllowTraffic, which drive the
-- router). A target's `role` is Blue (original) or Green (replacement) in a blue/green deployment.
ALTER TABLE deployments ADD COLUMN phase BIGINT NOT NULL DEFAULT 0;
ALTER TABLE lifecycle_events ADD COLUMN phase BIGINT NOT NULL DEFAULT 0;
ALTER TABLE lifecycle_events ADD COLUMN runner TEXT NOT NULL DEFAULT 'agent';
ALTER TABLE deployment_targets ADD COLUMN role TEXT;
