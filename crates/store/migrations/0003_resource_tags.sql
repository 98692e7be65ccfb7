-- Tags of applications, deployment groups and deployment configurations (TagResource, UntagResource,
-- ListTagsForResource, and the `tags` of CreateApplication / CreateDeploymentGroup).
-- Keyed by the resource's id rather than its name, so renaming an application or a group keeps its tags and a
-- resource created again under an old name starts without them. Predefined configurations have no id of their
-- own and are keyed by their (immutable) name.
CREATE TABLE resource_tags (
    resource_type TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    tag_key TEXT NOT NULL,
    tag_value TEXT NOT NULL,
    PRIMARY KEY (resource_type, resource_id, tag_key)
);
