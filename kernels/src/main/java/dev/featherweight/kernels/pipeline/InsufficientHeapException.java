package dev.featherweight.kernels.pipeline;

/**
 * A job whose working set does not fit in this JVM's heap, found before the work starts (rather than an
 * OutOfMemoryError minutes later): the message names the model, the sizes and the -Xmx to use, and
 * {@link #heapNeeded} is that -Xmx in bytes (bin/fw restarts the JVM with it).
 */
public class InsufficientHeapException extends RuntimeException {
    private final long heapNeeded;

    public InsufficientHeapException(String message, long heapNeeded) {
        super(message);
        this.heapNeeded = heapNeeded;
    }

    /** The -Xmx, in bytes, the job needs. */
    public long heapNeeded() {
        return heapNeeded;
    }
}
