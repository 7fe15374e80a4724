-- Findings merged across tools, triage and validation, run statistics and
-- asset coverage.
--
-- A row of findings is now one weakness, which one or more tools report.
-- Each tool's report of it is a row of finding_sources, under the report's
-- own fingerprint; the lifecycle follows the sources scope by scope, and a
-- finding is fixed when no source of it is active any more.

-- merge_key: the MergeKey that joined the sources (NULL for findings stored
-- before this migration, until `ctem redupe` computes it). tools: the
-- sorted tools of the sources, separated by commas. component and vuln_id:
-- the component identity and the primary vulnerability id, for the
-- introduction time and for validation. introduced_at: see
-- FindingFacts::introduced_at. verified_at: when a covering run confirmed
-- the fix. validation: 'confirmed' or 'refuted'. crown_jewel: 1 when the
-- asset was a crown jewel in the latest run that saw it. accepted_until:
-- the end of a risk acceptance. status_source: what set the status: 'run',
-- 'triage', 'vex' or 'expiry'.
ALTER TABLE findings ADD COLUMN merge_key TEXT;
ALTER TABLE findings ADD COLUMN tools TEXT NOT NULL DEFAULT '';
ALTER TABLE findings ADD COLUMN component TEXT;
ALTER TABLE findings ADD COLUMN vuln_id TEXT;
ALTER TABLE findings ADD COLUMN introduced_at TEXT;
ALTER TABLE findings ADD COLUMN verified_at TEXT;
ALTER TABLE findings ADD COLUMN validation TEXT;
ALTER TABLE findings ADD COLUMN crown_jewel INTEGER NOT NULL DEFAULT 0;
ALTER TABLE findings ADD COLUMN accepted_until TEXT;
ALTER TABLE findings ADD COLUMN status_source TEXT NOT NULL DEFAULT 'run';

UPDATE findings SET tools = tool, verified_at = fixed_at, vuln_id = rule_id,
    introduced_at = first_seen;

-- NULL keys do not collide in a UNIQUE index.
CREATE UNIQUE INDEX findings_merge_key ON findings (merge_key);

-- The lifecycle reads sources by scope now, so findings_scope only serves
-- filters; findings_state covers the run statistics (active findings by
-- tier, crown jewels, scores) and the filters by status.
DROP INDEX findings_scope;
CREATE INDEX findings_state ON findings (status, tier, crown_jewel, score);
DROP INDEX findings_asset;
CREATE INDEX findings_asset ON findings (asset_key, component, vuln_id);

-- One tool's report of a finding. fingerprint is the report's Fingerprint;
-- active is 1 while the latest run that covered (tool, target) saw it.
-- merged_by names the rule that joined it to its finding: 'first' for the
-- source that created the finding, a MergeRule name ('vulnerability',
-- 'secret', 'fingerprint'), or 'drift' for a code finding that moved; basis
-- says which values matched. drift_key and line are set for sources that a
-- moved line could match: code findings with a line and no tool
-- fingerprint.
CREATE TABLE finding_sources (
    id          INTEGER PRIMARY KEY,
    finding_id  INTEGER NOT NULL REFERENCES findings (id),
    fingerprint TEXT    NOT NULL UNIQUE,
    tool        TEXT    NOT NULL,
    target      TEXT    NOT NULL,
    active      INTEGER NOT NULL,
    first_seen  TEXT    NOT NULL,
    merged_by   TEXT    NOT NULL,
    basis       TEXT,
    drift_key   TEXT,
    line        INTEGER
);

CREATE INDEX finding_sources_scope ON finding_sources (tool, target, active);
CREATE INDEX finding_sources_finding ON finding_sources (finding_id);

INSERT INTO finding_sources (finding_id, fingerprint, tool, target, active, first_seen, merged_by)
    SELECT id, fingerprint, tool, target, status <> 'fixed', first_seen, 'first' FROM findings ORDER BY id;

-- Every change of a finding: status changes by runs (cause 'run'), by
-- people ('triage'), by VEX ('vex'), by an expired risk acceptance
-- ('expiry'); merges of a new source ('merge'); validation marks
-- ('validation'). status is the status after the event. run_id is NULL for
-- changes made outside a run.
CREATE TABLE finding_history (
    id         INTEGER PRIMARY KEY,
    finding_id INTEGER NOT NULL REFERENCES findings (id),
    run_id     INTEGER REFERENCES runs (id),
    at         TEXT    NOT NULL,
    status     TEXT    NOT NULL,
    cause      TEXT    NOT NULL,
    reason     TEXT,
    actor      TEXT,
    approver   TEXT,
    expires_at TEXT,
    validation TEXT
);

CREATE INDEX finding_history_finding ON finding_history (finding_id, id);

-- The latest change that people or the clock made, which a run must not
-- predate: one entry of this small index instead of a scan of the history.
CREATE INDEX finding_history_changes ON finding_history (at)
    WHERE cause IN ('triage', 'validation', 'expiry');

INSERT INTO finding_history (finding_id, run_id, at, status, cause)
    SELECT finding_id, run_id, at, status, 'run' FROM finding_events ORDER BY run_id, finding_id;
DROP TABLE finding_events;

-- The whole store's state after each run (RunStats). Runs recorded before
-- this migration have no row.
CREATE TABLE run_stats (
    run_id     INTEGER PRIMARY KEY REFERENCES runs (id),
    open_p1    INTEGER NOT NULL,
    open_p2    INTEGER NOT NULL,
    open_p3    INTEGER NOT NULL,
    open_p4    INTEGER NOT NULL,
    risk_p1    REAL    NOT NULL,
    risk_p2    REAL    NOT NULL,
    risk_p3    REAL    NOT NULL,
    risk_p4    REAL    NOT NULL,
    crown_open INTEGER NOT NULL,
    crown_risk REAL    NOT NULL,
    accepted   INTEGER NOT NULL
);

-- The latest run that assessed the asset: saw a finding on it or covered
-- a scope whose target is the asset.
ALTER TABLE assets ADD COLUMN last_assessed TEXT;
UPDATE assets SET last_assessed = (SELECT max(last_seen) FROM findings WHERE asset_key = assets.key);
