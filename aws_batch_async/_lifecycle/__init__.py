"""A job's whole life: run_job, why a job failed, resubmitting with changes, array reruns,
job definitions by content, idempotency keys, the cap on unfinished jobs.

Import-free: import the modules themselves (the package stays cheap to import)."""
