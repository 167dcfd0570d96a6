package dev.featherweight.kernels.quant.gguf;

/** Per-thread float buffers for decoding one row before a dot product: the forward pass never allocates per row. */
final class RowScratch {
    private RowScratch() {
    }

    private static final ThreadLocal<float[]> FLOATS = ThreadLocal.withInitial(() -> new float[0]);

    /** A buffer of at least n floats, valid until this thread's next call. */
    static float[] floats(int n) {
        float[] w = FLOATS.get();
        if (w.length < n) {
            w = new float[n];
            FLOATS.set(w);
        }
        return w;
    }
}
