package dev.featherweight.kernels.infer;

import dev.featherweight.kernels.core.WeightMatrix;

/**
 * A {@link dev.featherweight.kernels.formats.TensorSource} whose weight matrices are not single tensors — GPTQ
 * (qweight, qzeros, scales, g_idx), AWQ, bitsandbytes 4-bit (weight + absmax + quant_map …) and 8-bit (weight +
 * SCB). {@link LlamaModel#load} asks it first for every "….weight" matrix name.
 */
public interface MatrixSource {
    /** The matrix stored under the HF weight name (e.g. "model.layers.0.mlp.up_proj.weight"), or null when it is a plain tensor. */
    WeightMatrix matrix(String weightName);
}
