package dev.featherweight.kernels.quant.gguf;

import dev.featherweight.kernels.core.GgmlType;

/**
 * A type that llama.cpp only quantizes with an importance matrix was asked for without one: IQ2_XXS, IQ2_XS
 * and IQ1_S always ({@code ggml_quantize_requires_imatrix}), and llama-quantize's very-low-bit file types
 * (IQ1_S, IQ1_M, IQ2_XXS, IQ2_XS, IQ2_S) and tensors (IQ2_S, IQ1_M except token_embd/output), which it refuses
 * with "the result will be garbage".
 */
public class ImportanceMatrixRequiredException extends IllegalArgumentException {
    public ImportanceMatrixRequiredException(GgmlType type) {
        super(type + " needs an importance matrix (llama.cpp refuses to quantize it without one): pass --imatrix FILE");
    }

    public ImportanceMatrixRequiredException(String what) {
        super(what);
    }
}
