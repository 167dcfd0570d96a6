package dev.featherweight.kernels.pipeline.modifier;

import dev.featherweight.catalog.BlockShape;
import dev.featherweight.kernels.formats.quantized.BlockResult;
import dev.featherweight.kernels.infer.LlamaModel;

/**
 * One quantization method as the calibration pipeline runs it, one transformer block at a time (llm-compressor's
 * modifiers): the pipeline captures the block's inputs, calls {@link #quantizeBlock}, runs the block again with the
 * result to make the next block's inputs, and checkpoints. Everything method-specific — which inputs to observe,
 * in what order the modules are quantized, what is folded into norms — is here; the pipeline knows no method.
 *
 * <p>To add a method: a parameters record in {@code quant} (see {@link dev.featherweight.kernels.quant.QuantizationParams}),
 * a modifier here, its case in {@link Modifiers#of} and its checkpoint layout in
 * {@link dev.featherweight.kernels.formats.quantized.CheckpointLayout#of}.
 */
public interface QuantizationModifier {

    /**
     * Whether the modifier needs the block's inputs on calibration samples ({@link BlockContext#forward}); when
     * false the pipeline makes no forward passes and the modifier sees the weights only.
     */
    boolean calibrated();

    /**
     * Quantizes one block: every linear module (by HF suffix, {@link dev.featherweight.kernels.formats.hf.HfModules}),
     * kept as floats where {@link BlockContext#paramsFor} says so, and any norms or biases it replaced. Must not
     * change the model's weights or the block's inputs.
     */
    BlockResult quantizeBlock(BlockContext block);

    /**
     * Heap one block's quantization holds at its peak (the block's hidden states in and out included), in bytes,
     * for {@code tokens} calibration tokens (0 for a modifier that works one module at a time on the weights only).
     */
    default long blockWorkingSet(LlamaModel.Config c, long tokens) {
        return 0;
    }

    /** The block of {@code c} as the catalogue's working-set formulas see it (the one place they live). */
    static BlockShape blockShape(LlamaModel.Config c) {
        return new BlockShape(c.dim(), c.ffnDim(), c.qDim(), c.kvDim());
    }
}
