package dev.featherweight.kernels.quant;

/**
 * A calibrated quantization whose one-block working set does not fit in this JVM's heap, found before any block
 * runs (rather than an OutOfMemoryError minutes later): names the model, the largest allocation and both sizes.
 */
public class InsufficientHeapException extends RuntimeException {
    private final long neededBytes;
    private final long maxHeapBytes;

    public InsufficientHeapException(String message, long neededBytes, long maxHeapBytes) {
        super(message);
        this.neededBytes = neededBytes;
        this.maxHeapBytes = maxHeapBytes;
    }

    public long neededBytes() {
        return neededBytes;
    }

    public long maxHeapBytes() {
        return maxHeapBytes;
    }
}
