package dev.featherweight.catalog.capacity;

/** A sizing question that has no answer as asked (unknown GPU, model that does not fit, context too long), with the numbers. */
public class CapacityException extends RuntimeException {
    public CapacityException(String message) {
        super(message);
    }
}
