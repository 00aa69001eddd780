-- Honest times: a step or note done offline is recorded at the time it was tapped (bounded),
-- and when the platform received it, so timelines can say "sent late".
ALTER TABLE order_timeline ADD COLUMN received_at INTEGER;
ALTER TABLE job_notes ADD COLUMN received_at INTEGER;
