package dev.featherweight.worker;

import org.springframework.web.client.HttpServerErrorException;
import org.springframework.web.client.ResourceAccessException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.concurrent.TimeoutException;

/**
 * Which failures another attempt can cure. Transient: I/O, the network, a broker or store that is down or
 * slow, a 5xx of another service — retried (the job-service backs off between attempts). Deterministic:
 * everything the task's own input decides — a corrupt or unparsable model, an invalid parameter, a shape
 * that does not fit — fails at once with its reason, since every attempt would fail the same way.
 * A {@link TaskFailure} says which it is itself.
 */
public final class FailureKind {
    static boolean retryable(Throwable e) {
        if (e instanceof TaskFailure f) return f.retryable;
        for (Throwable c = e; c != null; c = c.getCause()) {
            if (c instanceof IOException || c instanceof UncheckedIOException || c instanceof ResourceAccessException
                    || c instanceof HttpServerErrorException || c instanceof TimeoutException
                    || c instanceof org.apache.kafka.common.errors.RetriableException) return true;
            if (c instanceof TaskFailure f) return f.retryable;
        }
        return e instanceof OutOfMemoryError; // the heap of this worker, not the task: another worker may have room
    }

    private FailureKind() {}
}
