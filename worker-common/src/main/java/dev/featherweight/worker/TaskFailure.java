package dev.featherweight.worker;

/** A task failed with a reason for the user; {@code retryable} false when another attempt cannot help. */
public class TaskFailure extends Exception {
    public final boolean retryable;

    public TaskFailure(String reason, boolean retryable) {
        super(reason);
        this.retryable = retryable;
    }

    public TaskFailure(String reason, boolean retryable, Throwable cause) {
        super(reason, cause);
        this.retryable = retryable;
    }
}
