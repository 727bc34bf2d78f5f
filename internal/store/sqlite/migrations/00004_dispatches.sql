-- Dispatches of admitted releases to a Slurm cluster: recorded by a
-- dispatcher (POST /api/v1/releases/{id}/dispatches) or submitted by the
-- server itself (POST /api/v1/releases/{id}/dispatch), each with its
-- dispatch-recorded log entry and receipt. The id is a function of the
-- release, the run id (the dispatcher's idempotency key) and the job id,
-- so that recording the same dispatch again finds it. State columns are
-- the job's latest known state, kept for dispatches the server submitted
-- and follows ('' and -1 when unknown; started and ended NULL until known).

-- +goose Up
CREATE TABLE dispatches (
	id              TEXT    NOT NULL PRIMARY KEY,       -- d-<16 hex>
	release_id      TEXT    NOT NULL REFERENCES releases (id),
	run_id          TEXT    NOT NULL,                   -- the idempotency key (Slurm job comment)
	job_id          TEXT    NOT NULL,                   -- Slurm's job id, decimal
	cluster         TEXT    NOT NULL,                   -- '' for the local cluster
	slurm_partition TEXT    NOT NULL,                   -- '' for the default partition
	builder_id      TEXT    NOT NULL,                   -- the dispatcher's configured id
	requester       TEXT    NOT NULL,                   -- the identity that recorded it, by name
	created         INTEGER NOT NULL,
	log_index       INTEGER NOT NULL,
	log_entry       BLOB    NOT NULL,
	receipt         BLOB    NOT NULL,
	submitted       INTEGER NOT NULL,                   -- 1: the server submitted the job and follows it
	state           TEXT    NOT NULL,
	exit_code       INTEGER NOT NULL,
	started         INTEGER,
	ended           INTEGER,
	is_final        INTEGER NOT NULL
) STRICT;
CREATE INDEX dispatches_by_release ON dispatches (release_id, created);
CREATE INDEX dispatches_unfinished ON dispatches (submitted, is_final, created);

-- +goose Down
DROP TABLE dispatches;
