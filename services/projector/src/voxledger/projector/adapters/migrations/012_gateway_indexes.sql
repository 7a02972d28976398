-- The gateway's cheap counts: /metrics counts jobs by status from an index (never a table scan),
-- and the per-tenant queued-jobs and insight-run quotas read small partial indexes.
CREATE INDEX jobs_by_status ON jobs (status);
CREATE INDEX jobs_active_by_tenant ON jobs (tenant_id, status) WHERE status IN ('queued', 'running');
CREATE INDEX insights_in_flight_by_tenant ON insights (tenant_id, run_id) WHERE status IN ('pending', 'running');
