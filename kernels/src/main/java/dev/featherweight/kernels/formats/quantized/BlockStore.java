package dev.featherweight.kernels.formats.quantized;

/** Where a block-by-block quantization puts finished blocks (and gets them back from on resume). */
public interface BlockStore {
    /** The last block whose state is complete, −1 when none. */
    int lastFinishedBlock();

    /** The hidden states saved after block {@code layer} (inputs of layer + 1), [sample][seqLen · dim]. */
    float[][] loadHidden(int layer);

    /** Persists a finished block and, for calibrated methods, the next block's inputs (null otherwise); atomic. */
    void saveBlock(BlockResult result, float[][] nextHidden);
}
