-- Initial ctem schema.
--
-- Times are RFC 3339 text in UTC with nine fractional digits
-- (2024-05-01T12:00:00.000000000Z): the fixed width makes text order equal
-- time order, and SQLite's date functions (julianday, unixepoch) read it.
-- Enumerations are stored as their snake_case names (status 'new', 'open',
-- 'reopened', 'fixed'; severity 'info' to 'critical'; tier 'P1' to 'P4').

-- One assessment cycle. The counts are those of the run's own lifecycle
-- pass: finding_count findings seen (after merging duplicate fingerprints),
-- of which new_count new, open_count still open and reopened_count
-- reopened; fixed_count findings of the run's scopes that it no longer saw.
CREATE TABLE runs (
    id             INTEGER PRIMARY KEY,
    observed_at    TEXT    NOT NULL,
    recorded_at    TEXT    NOT NULL,
    finding_count  INTEGER NOT NULL,
    new_count      INTEGER NOT NULL,
    open_count     INTEGER NOT NULL,
    reopened_count INTEGER NOT NULL,
    fixed_count    INTEGER NOT NULL
);

CREATE INDEX runs_observed_at ON runs (observed_at);

-- The files a run ingested; error is set for a file that was skipped.
CREATE TABLE run_sources (
    run_id        INTEGER NOT NULL REFERENCES runs (id),
    path          TEXT    NOT NULL,
    format        TEXT    NOT NULL,
    sha256        TEXT    NOT NULL,
    finding_count INTEGER NOT NULL,
    error         TEXT
);

CREATE INDEX run_sources_run ON run_sources (run_id);

-- The (tool, target) scopes a run covered: only these can close findings.
CREATE TABLE run_scopes (
    run_id INTEGER NOT NULL REFERENCES runs (id),
    tool   TEXT    NOT NULL,
    target TEXT    NOT NULL,
    PRIMARY KEY (run_id, tool, target)
) WITHOUT ROWID;

-- Assets merged across runs; data is the model Asset as JSON.
CREATE TABLE assets (
    key        TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    name       TEXT NOT NULL,
    data       TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    last_seen  TEXT NOT NULL
);

-- Edges between assets. The endpoints need not be rows of assets: a source
-- may name an asset that only another source describes.
CREATE TABLE relationships (
    from_key   TEXT    NOT NULL,
    to_key     TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    protocol   TEXT,
    port       INTEGER,
    first_seen TEXT    NOT NULL,
    last_seen  TEXT    NOT NULL
);

-- Expressions, because a UNIQUE constraint treats every NULL as distinct
-- and would let edges without a port or protocol repeat.
CREATE UNIQUE INDEX relationships_edge
    ON relationships (from_key, to_key, kind, coalesce(protocol, ''), coalesce(port, -1));

-- The current state of every finding ever seen. data is the model Finding
-- and risk the model RiskAssessment, both as JSON; the other columns copy
-- what queries filter and sort on. target is '' for a finding without one.
-- History tables refer to a finding by id, an integer, which keeps them
-- small and their foreign key checks cheap.
CREATE TABLE findings (
    id          INTEGER PRIMARY KEY,
    fingerprint TEXT    NOT NULL UNIQUE,
    tool        TEXT    NOT NULL,
    target      TEXT    NOT NULL,
    rule_id     TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    severity    TEXT    NOT NULL,
    title       TEXT    NOT NULL,
    asset_key   TEXT    NOT NULL,
    status      TEXT    NOT NULL,
    first_seen  TEXT    NOT NULL,
    last_seen   TEXT    NOT NULL,
    fixed_at    TEXT,
    last_run_id INTEGER NOT NULL,
    score       REAL    NOT NULL,
    tier        TEXT    NOT NULL,
    data        TEXT    NOT NULL,
    risk        TEXT    NOT NULL
);

-- Every index costs each recorded finding a B-tree insert, so there are
-- only these. findings_scope covers the lifecycle's read of a scope (ids
-- are the rowid) and serves filters by tool, target and status within
-- them; findings_score serves the listing by score, which is also how
-- filters by status alone are read; findings_asset serves the findings of
-- one asset.
CREATE INDEX findings_scope ON findings (tool, target, status, fingerprint);
CREATE INDEX findings_score ON findings (score DESC, fingerprint);
CREATE INDEX findings_asset ON findings (asset_key);

-- Lifecycle history: one row each time a run changes a finding's stored
-- status (first sighting 'new', 'open' on the next sighting, 'fixed',
-- 'reopened', and 'open' again after a reopening). A run that sees a
-- finding that is already open writes no event; finding_scores records
-- every run that saw it. at is the observation time of the run.
CREATE TABLE finding_events (
    finding_id INTEGER NOT NULL REFERENCES findings (id),
    run_id     INTEGER NOT NULL REFERENCES runs (id),
    status     TEXT    NOT NULL,
    at         TEXT    NOT NULL,
    PRIMARY KEY (finding_id, run_id)
) WITHOUT ROWID;

-- The score and tier of every finding in every run that saw it.
CREATE TABLE finding_scores (
    run_id     INTEGER NOT NULL REFERENCES runs (id),
    finding_id INTEGER NOT NULL REFERENCES findings (id),
    score      REAL    NOT NULL,
    tier       TEXT    NOT NULL,
    PRIMARY KEY (run_id, finding_id)
) WITHOUT ROWID;
