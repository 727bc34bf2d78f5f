-- The nodes a dispatched job runs on, as Slurm names them (its node list,
-- "node1" or "node[1-4]"): recorded with the job's state by the server that
-- follows it; empty while the job waits or when no one followed it.

-- +goose Up
ALTER TABLE dispatches ADD COLUMN node VARCHAR(1024) NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE dispatches DROP COLUMN node;
