-- The JSON of each finding moves out of findings into a table of its own.
--
-- data (the model Finding of the report that represents the finding) and
-- risk (its RiskAssessment) were about three quarters of a findings row,
-- so that a 4 KiB page held two rows. Without them a page holds about
-- eight, and scans of findings (the fact table of the metrics, the filters
-- that no index serves) read a quarter of the pages. A run that sees a
-- finding again writes its small row, and its finding_json row only where
-- the JSON changed: SQLite leaves a page unwritten when an UPDATE gives a
-- row the bytes it already had (btreeOverwriteContent, SQLite 3.50).
CREATE TABLE finding_json (
    finding_id INTEGER PRIMARY KEY REFERENCES findings (id),
    data       TEXT    NOT NULL,
    risk       TEXT    NOT NULL
);

INSERT INTO finding_json (finding_id, data, risk) SELECT id, data, risk FROM findings ORDER BY id;

-- ALTER TABLE DROP COLUMN would leave each shortened row where it was, two
-- to a page. Copying the rows into a new table packs them. The migration
-- runs with foreign keys off, as SQLite's procedure for rebuilding a table
-- requires ("Making Other Kinds Of Table Schema Changes" in the ALTER
-- TABLE documentation), and foreign_key_check runs before it commits.
-- The old pages stay in the file as free pages, which later runs reuse
-- and VACUUM returns to the file system.
CREATE TABLE findings_packed (
    id             INTEGER PRIMARY KEY,
    fingerprint    TEXT    NOT NULL UNIQUE,
    tool           TEXT    NOT NULL,
    target         TEXT    NOT NULL,
    rule_id        TEXT    NOT NULL,
    kind           TEXT    NOT NULL,
    severity       TEXT    NOT NULL,
    title          TEXT    NOT NULL,
    asset_key      TEXT    NOT NULL,
    status         TEXT    NOT NULL,
    first_seen     TEXT    NOT NULL,
    last_seen      TEXT    NOT NULL,
    fixed_at       TEXT,
    last_run_id    INTEGER NOT NULL,
    score          REAL    NOT NULL,
    tier           TEXT    NOT NULL,
    merge_key      TEXT,
    tools          TEXT    NOT NULL DEFAULT '',
    component      TEXT,
    vuln_id        TEXT,
    introduced_at  TEXT,
    verified_at    TEXT,
    validation     TEXT,
    crown_jewel    INTEGER NOT NULL DEFAULT 0,
    accepted_until TEXT,
    status_source  TEXT    NOT NULL DEFAULT 'run'
);

INSERT INTO findings_packed (id, fingerprint, tool, target, rule_id, kind, severity, title, asset_key, status,
                             first_seen, last_seen, fixed_at, last_run_id, score, tier, merge_key, tools,
                             component, vuln_id, introduced_at, verified_at, validation, crown_jewel,
                             accepted_until, status_source)
    SELECT id, fingerprint, tool, target, rule_id, kind, severity, title, asset_key, status,
           first_seen, last_seen, fixed_at, last_run_id, score, tier, merge_key, tools,
           component, vuln_id, introduced_at, verified_at, validation, crown_jewel,
           accepted_until, status_source
    FROM findings ORDER BY id;

DROP TABLE findings;
ALTER TABLE findings_packed RENAME TO findings;

CREATE INDEX findings_score ON findings (score DESC, fingerprint);
CREATE UNIQUE INDEX findings_merge_key ON findings (merge_key);
CREATE INDEX findings_state ON findings (status, tier, crown_jewel, score);
CREATE INDEX findings_asset ON findings (asset_key, component, vuln_id);
