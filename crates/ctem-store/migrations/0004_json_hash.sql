-- json_hash: a 64-bit FNV-1a hash of the finding's finding_json row (data
-- and risk, see codec::json_hash). A run that sees a finding again
-- compares it with the hash of the report's JSON and skips writing the
-- finding_json row when they are equal, so an unchanged report costs no
-- read of the stored JSON. NULL until a run writes the JSON.
ALTER TABLE findings ADD COLUMN json_hash INTEGER;
