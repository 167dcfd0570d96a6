package dev.featherweight.kernels.formats.quantized;

import dev.featherweight.kernels.quant.QuantizedModule;

import java.util.Map;

/**
 * The result of one quantized transformer block: quantized linears by HF module suffix ("self_attn.q_proj"), and
 * what AWQ's folded scales replaced (null = unchanged): the two norms and v_proj's bias. Defined beside the writer
 * that stores it (not in the pipeline that produces it) so that formats never depend on the pipeline.
 */
public record BlockResult(int layer, Map<String, QuantizedModule> modules, float[] attnNorm, float[] ffnNorm, float[] vBias) {
    public BlockResult(int layer, Map<String, QuantizedModule> modules) {
        this(layer, modules, null, null, null);
    }
}
