-- findings_rank: the order in which finding reads list findings, the most
-- urgent tier first (P1 sorts before P4), then the highest score. Within a
-- tier the score orders findings as the expected loss does, because the
-- score is 100 times the square root of likelihood times impact. The index
-- lets a read of the top N findings stop after N rows.
CREATE INDEX findings_rank ON findings (tier, score DESC, fingerprint);
DROP INDEX findings_score;
