package dev.featherweight.kernels.formats.quantized;

import dev.featherweight.kernels.core.GgmlType;
import dev.featherweight.kernels.quant.AwqParams;
import dev.featherweight.kernels.quant.CompressedTensorsParams;
import dev.featherweight.kernels.quant.CompressedTensorsScheme;
import dev.featherweight.kernels.quant.Fp8E4M3;
import dev.featherweight.kernels.quant.GptqParams;
import dev.featherweight.kernels.quant.Packing;
import dev.featherweight.kernels.quant.QuantizedLinear;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.List;

/**
 * compressed-tensors checkpoints as llm-compressor saves them and vLLM's {@code CompressedTensorsConfig} reads them:
 * <ul>
 *   <li>{@code pack-quantized} (W4A16, W8A16; vLLM CompressedTensorsWNA16): {@code weight_packed} int32 [out, in·b/32]
 *   ({@link Packing#compressedTensorsPack}), {@code weight_scale} fp16 [out, groups] (groups = 1 per channel),
 *   {@code weight_shape} int64 [2] = [out, in], and for an asymmetric grid {@code weight_zero_point} int32
 *   [⌈out·b/32⌉, groups] packed along the output dimension;</li>
 *   <li>{@code int-quantized} (W8A8; vLLM CompressedTensorsW8A8Int8): {@code weight} int8 [out, in] = code − 128,
 *   {@code weight_scale} fp32 [out, 1];</li>
 *   <li>{@code float-quantized} (FP8_DYNAMIC, FP8; vLLM CompressedTensorsW8A8Fp8): {@code weight} float8_e4m3fn [out,
 *   in], {@code weight_scale} fp32 [out, 1] per channel or [1] per tensor, and with static activations
 *   {@code input_scale} fp32 [1].</li>
 * </ul>
 * Dequantized, every form gives exactly {@link QuantizedLinear#dequantize} / {@link Fp8E4M3.Weight#dequantize}: the
 * stored codes, zero points and scales are the quantizer's own.
 */
public final class CompressedTensorsLayout {
    /** The compressed-tensors release whose config fields and tensor names this layout follows. */
    public static final String VERSION = "0.12.2";
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private CompressedTensorsLayout() {
    }

    static List<TensorData> intTensors(String p, QuantizedLinear q, CompressedTensorsScheme scheme) {
        if (!q.trivialGIdx()) throw new IllegalArgumentException(p + ": act-order g_idx is not written in compressed-tensors checkpoints here");
        int rows = q.rows(), cols = q.cols(), b = q.bits(), groups = q.groups(), offset = 1 << (b - 1);
        List<TensorData> out = new ArrayList<>();
        if (scheme == CompressedTensorsScheme.W8A8) {
            byte[] w = new byte[rows * cols];
            for (int r = 0; r < rows; r++) {
                if (q.zeros()[r] != offset) throw new IllegalArgumentException(p + ": W8A8 weights are symmetric; row " + r + " has zero point " + q.zeros()[r]);
                for (int c = 0; c < cols; c++) w[r * cols + c] = (byte) (q.code(r, c) - offset);
            }
            out.add(TensorData.bytes(p + ".weight", GgmlType.I8, new long[]{rows, cols}, w));
            out.add(TensorData.floats(p + ".weight_scale", new long[]{rows, 1}, q.scales()));
            return out;
        }
        int[] codes = new int[rows * cols];
        for (int i = 0; i < codes.length; i++) codes[i] = q.codes()[i] & 0xFF;
        out.add(TensorData.ints(p + ".weight_packed", new long[]{rows, (cols + 32 / b - 1) / (32 / b)}, Packing.compressedTensorsPack(codes, rows, cols, b, false)));
        out.add(TensorData.halves(p + ".weight_scale", new long[]{rows, groups}, transpose(q.scales(), groups, rows)));
        out.add(new TensorData(p + ".weight_shape", GgmlType.I64, new long[]{2}, longs(rows, cols)));
        int[] zeros = transposeInts(q.zeros(), groups, rows);
        if (q.sym()) {
            for (int z : zeros) if (z != offset) throw new IllegalArgumentException(p + ": symmetric grid with zero point " + z + " ≠ " + offset);
        } else {
            out.add(TensorData.ints(p + ".weight_zero_point", new long[]{(rows + 32 / b - 1) / (32 / b), groups}, Packing.compressedTensorsPack(zeros, rows, groups, b, true)));
        }
        return out;
    }

    static List<TensorData> fp8Tensors(String p, Fp8E4M3.Weight w) {
        List<TensorData> out = new ArrayList<>();
        out.add(TensorData.bytes(p + ".weight", GgmlType.F8_E4M3, new long[]{w.rows(), w.cols()}, w.codes()));
        out.add(TensorData.floats(p + ".weight_scale", w.scales().length == 1 ? new long[]{1} : new long[]{w.rows(), 1}, w.scales()));
        if (!Float.isNaN(w.inputScale())) out.add(TensorData.floats(p + ".input_scale", new long[]{1}, new float[]{w.inputScale()}));
        return out;
    }

    /** [g·rows + r] → [r·groups + g]. */
    private static float[] transpose(float[] v, int groups, int rows) {
        float[] t = new float[v.length];
        for (int g = 0; g < groups; g++) for (int r = 0; r < rows; r++) t[r * groups + g] = v[g * rows + r];
        return t;
    }

    private static int[] transposeInts(int[] v, int groups, int rows) {
        int[] t = new int[v.length];
        for (int g = 0; g < groups; g++) for (int r = 0; r < rows; r++) t[r * groups + g] = v[g * rows + r];
        return t;
    }

    private static byte[] longs(long... v) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(8 * v.length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (long x : v) b.putLong(x);
        return b.array();
    }

    /**
     * config.json's {@code quantization_config}: compressed-tensors' {@code QuantizationConfig} dumped as llm-compressor
     * saves it — one config group targeting {@code Linear} with the scheme's weight and input-activation
     * {@code QuantizationArgs}, {@code ignore} = lm_head and any skipped module, status {@code compressed}.
     */
    static ObjectNode quantizationConfig(CompressedTensorsParams p, List<String> skippedModules) {
        CompressedTensorsScheme s = p.scheme();
        ObjectNode q = JSON.createObjectNode();
        ObjectNode group = q.putObject("config_groups").putObject("group_0");
        group.putArray("targets").add("Linear");
        ObjectNode w = group.putObject("weights");
        String weightStrategy = s == CompressedTensorsScheme.FP8 ? "tensor" : p.groupSize() > 0 ? "group" : "channel";
        args(w, s.bits, s.fp8 ? "float" : "int", p.symmetric(), p.groupSize() > 0 ? p.groupSize() : null, weightStrategy, false, "minmax");
        if (p.grid() instanceof GptqParams) w.put("actorder", (String) null);
        if (s.weightOnly()) {
            group.putNull("input_activations");
        } else if (s.activations == CompressedTensorsScheme.Activations.DYNAMIC_TOKEN) {
            args(group.putObject("input_activations"), 8, s.fp8 ? "float" : "int", true, null, "token", true, null);
        } else {
            args(group.putObject("input_activations"), 8, "float", true, null, "tensor", false, "minmax");
        }
        group.putNull("output_activations");
        q.put("format", s.format);
        q.putNull("global_compression_ratio");
        ArrayNode ignore = q.putArray("ignore");
        ignore.add("lm_head");
        skippedModules.forEach(ignore::add);
        q.putNull("kv_cache_scheme");
        q.put("quant_method", "compressed-tensors");
        q.put("quantization_status", "compressed");
        q.putObject("sparsity_config");
        q.putObject("transform_config");
        q.put("version", VERSION);
        return q;
    }

    /** QuantizationArgs.model_dump(), fields in their declaration order. */
    private static void args(ObjectNode a, int bits, String type, boolean symmetric, Integer groupSize, String strategy, boolean dynamic, String observer) {
        a.put("num_bits", bits);
        a.put("type", type);
        a.put("symmetric", symmetric);
        if (groupSize == null) a.putNull("group_size");
        else a.put("group_size", groupSize);
        a.put("strategy", strategy);
        a.putNull("block_structure");
        a.put("dynamic", dynamic);
        a.putNull("actorder");
        if (observer == null) a.putNull("observer");
        else a.put("observer", observer);
        a.putObject("observer_kwargs");
    }

    /**
     * The recipe as llm-compressor saves it beside the model (recipe.yaml): the modifiers that made the checkpoint,
     * SmoothQuant's mappings and strength, the quantization modifier with its scheme, targets and ignore list.
     */
    static String recipeYaml(CompressedTensorsParams p, List<String> skippedModules) {
        StringBuilder y = new StringBuilder("default_stage:\n  default_modifiers:\n");
        if (p.smoothing() != null) {
            y.append("    SmoothQuantModifier:\n      smoothing_strength: ").append(p.smoothing()).append('\n')
                    .append("      mappings:\n")
                    .append("      - - ['re:.*q_proj', 're:.*k_proj', 're:.*v_proj']\n        - re:.*input_layernorm\n")
                    .append("      - - ['re:.*gate_proj', 're:.*up_proj']\n        - re:.*post_attention_layernorm\n");
        }
        String modifier = switch (p.grid()) {
            case GptqParams g -> "GPTQModifier";
            case AwqParams a -> "AWQModifier";
            case null, default -> "QuantizationModifier";
        };
        y.append("    ").append(modifier).append(":\n      targets: [Linear]\n      ignore: [lm_head");
        for (String m : skippedModules) y.append(", '").append(m).append('\'');
        y.append("]\n      scheme: ").append(p.scheme().name()).append('\n');
        if (p.grid() != null && p.groupSize() != (p.scheme() == CompressedTensorsScheme.W4A16 ? 128 : -1))
            y.append("      # group size ").append(p.groupSize()).append(" instead of the preset's\n");
        if (p.grid() instanceof GptqParams g) y.append("      dampening_frac: ").append(g.dampPercent()).append('\n');
        y.append("      # written by featherweight (algorithm ").append(p.algorithm()).append(")\n");
        return y.toString();
    }
}
