package dev.featherweight.contracts.jobs;

/**
 * task: ASSIGNED(attempt n) → RUNNING → SUCCEEDED | FAILED | CANCELLED; a lease that ran out or a retryable
 * failure hands it out again as ASSIGNED(n+1). The names are the database values and the JSON.
 */
public enum TaskState {
    ASSIGNED, RUNNING, SUCCEEDED, FAILED, CANCELLED;

    /** A worker may still (or again) run it. */
    public boolean open() {
        return this == ASSIGNED || this == RUNNING;
    }
}
