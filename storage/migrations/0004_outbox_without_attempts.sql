-- The outbox never counted attempts (retries back off in memory); the column was always 0.
ALTER TABLE outbox DROP COLUMN attempts;
