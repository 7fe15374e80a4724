-- store_generation: one number that every write transaction increments.
-- A reader that splits a scan across two connections compares the number
-- both read transactions see: equal numbers mean one snapshot, because no
-- write committed between the two transactions' first reads.
CREATE TABLE store_generation (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    value INTEGER NOT NULL
);
INSERT INTO store_generation (id, value) VALUES (1, 0);
