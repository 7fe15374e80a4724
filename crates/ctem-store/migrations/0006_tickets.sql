-- tickets: the tracker tickets that ticket sync opened, one per tracked
-- subject (a remediation action or a finding) and tracker.
--
-- A row is written with state 'creating' and no key before the tracker is
-- asked to create the ticket: the unique subject claims it, so that two
-- concurrent syncs never both create one. The key arrives in a second
-- transaction. A row left in 'creating' by a crash is resolved by
-- searching the tracker for the marker, which the ticket carries.
CREATE TABLE tickets (
    id            INTEGER PRIMARY KEY,
    tracker       TEXT NOT NULL,
    subject_kind  TEXT NOT NULL CHECK (subject_kind IN ('action', 'finding')),
    subject_key   TEXT NOT NULL,
    marker        TEXT NOT NULL,
    key           TEXT,
    url           TEXT,
    state         TEXT NOT NULL CHECK (state IN ('creating', 'open', 'closed')),
    remote_status TEXT,
    content_hash  TEXT,
    findings      TEXT NOT NULL DEFAULT '[]',
    claimed_at    TEXT NOT NULL,
    synced_at     TEXT,
    UNIQUE (tracker, subject_kind, subject_key),
    UNIQUE (tracker, marker)
);
CREATE UNIQUE INDEX tickets_key ON tickets (tracker, key) WHERE key IS NOT NULL;

-- ticket_pulls: when each tracker's changes were last read back.
CREATE TABLE ticket_pulls (
    tracker   TEXT PRIMARY KEY,
    pulled_at TEXT NOT NULL
);
