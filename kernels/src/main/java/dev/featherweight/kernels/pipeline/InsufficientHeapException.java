package dev.featherweight.kernels.pipeline;

/**
 * A calibrated quantization whose one-block working set does not fit in this JVM's heap, found before any block
 * runs (rather than an OutOfMemoryError minutes later): the message names the model, the sizes and the -Xmx to use.
 */
public class InsufficientHeapException extends RuntimeException {
    public InsufficientHeapException(String message) {
        super(message);
    }
}
