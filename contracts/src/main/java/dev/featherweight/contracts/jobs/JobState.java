package dev.featherweight.contracts.jobs;

/** job: SUBMITTED → RUNNING → SUCCEEDED | FAILED | CANCELLED (the names are the database values and the JSON). */
public enum JobState {
    SUBMITTED, RUNNING, SUCCEEDED, FAILED, CANCELLED;

    /** No task of the job will run any more. */
    public boolean terminal() {
        return this == SUCCEEDED || this == FAILED || this == CANCELLED;
    }
}
