-- Zonal deployments: the zone of each target (from the instance's zone tag at creation), and the bake state.
ALTER TABLE deployment_targets ADD COLUMN zone TEXT;
