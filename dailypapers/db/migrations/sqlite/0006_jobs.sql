-- Jobs: one row per run of a named job (dailypapers/jobs). A scheduled run claims its slot by inserting the row
-- (job, slot, attempt): the unique index lets exactly one worker of however many win it, on every backend.
-- Manual runs have no slot (NULL), and NULLs never collide in a unique index (SQLite and PostgreSQL alike).
CREATE TABLE job_runs (
    id TEXT PRIMARY KEY,
    job TEXT NOT NULL,
    slot TEXT,
    attempt INTEGER NOT NULL,
    trigger TEXT NOT NULL,
    status TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    counts TEXT NOT NULL DEFAULT '{}',
    error TEXT NOT NULL DEFAULT '',
    host TEXT NOT NULL,
    pid INTEGER NOT NULL
);
CREATE UNIQUE INDEX ux_job_runs_slot ON job_runs (job, slot, attempt);
CREATE INDEX ix_job_runs_job_started ON job_runs (job, started_at);
