-- sync_runs.status says "ok" for a run that succeeded, as the documented
-- contract has it (running, ok, failed, interrupted); older versions wrote
-- "succeeded".
UPDATE sync_runs SET status = 'ok' WHERE status = 'succeeded';
