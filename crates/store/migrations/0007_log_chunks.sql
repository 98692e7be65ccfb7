-- Hook output streamed by agents while events run (`cutover deploy logs -f`), kept after the fact. One row per
-- piece, in the order received (`seq`, a cursor across hosts); each event's pieces are its log, contiguous from
-- byte 0 (`byte_offset`, `end_offset`): the server appends only where its copy ends.
CREATE TABLE log_chunks (
    seq BIGINT PRIMARY KEY,
    deployment_id TEXT NOT NULL,
    instance_name TEXT NOT NULL,
    position BIGINT NOT NULL,
    byte_offset BIGINT NOT NULL,
    end_offset BIGINT NOT NULL,
    text TEXT NOT NULL,
    create_time BIGINT NOT NULL
);
CREATE INDEX log_chunks_deployment ON log_chunks (deployment_id, seq);
CREATE INDEX log_chunks_event ON log_chunks (deployment_id, instance_name, position, end_offset);
