package dev.featherweight.kernels.formats.quantized;

import dev.featherweight.kernels.core.GgmlType;
import dev.featherweight.kernels.quant.Nf4;
import dev.featherweight.kernels.quant.Packing;
import dev.featherweight.kernels.quant.QuantizedLinear;
import dev.featherweight.kernels.quant.QuantizedModule;
import dev.featherweight.kernels.quant.AwqParams;
import dev.featherweight.kernels.quant.Bnb4Params;
import dev.featherweight.kernels.quant.CompressedTensorsParams;
import dev.featherweight.kernels.quant.CompressedTensorsScheme;
import dev.featherweight.kernels.quant.GptqParams;
import dev.featherweight.kernels.quant.LlmInt8;
import dev.featherweight.kernels.quant.LlmInt8Params;
import dev.featherweight.kernels.quant.QuantizationParams;
import dev.featherweight.kernels.quant.Recipe;
import dev.featherweight.kernels.quant.RtnParams;
import dev.featherweight.kernels.quant.UniformGridParams;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The four checkpoint layouts written here — tensor names, dtypes and shapes per linear module, and the
 * {@code quantization_config} a loader reads:
 * <ul>
 *   <li>{@link #GPTQ}: {@code .qweight .qzeros .scales .g_idx} (vLLM gptq.py, transformers' GPTQ quantizer
 *   through GPTQModel); RTN checkpoints use it too;</li>
 *   <li>{@link #AWQ}: AutoAWQ gemm {@code .qweight .qzeros .scales};</li>
 *   <li>{@link #BNB4}: transformers' bitsandbytes 4-bit, {@code .weight} packed uint8 plus
 *   {@code .weight.absmax .weight.quant_map [.weight.nested_absmax .weight.nested_quant_map]
 *   .weight.quant_state.bitsandbytes__nf4|fp4} (bitsandbytes QuantState.as_dict(packed=True));</li>
 *   <li>{@link #BNB8}: {@code .weight} int8, {@code .SCB} fp32, {@code .weight_format} uint8 0 ("row").</li>
 *   <li>{@link #COMPRESSED_TENSORS}: what llm-compressor saves and vLLM's compressed-tensors loader reads —
 *   {@code pack-quantized} {@code .weight_packed .weight_scale .weight_shape [.weight_zero_point]},
 *   {@code int-quantized} / {@code float-quantized} {@code .weight .weight_scale [.input_scale]} (see
 *   {@link CompressedTensorsLayout}).</li>
 * </ul>
 */
public enum CheckpointLayout {
    GPTQ, AWQ, BNB4, BNB8, COMPRESSED_TENSORS;

    private static final JsonMapper JSON = JsonMapper.builder().build();

    /** The layout a recipe writes: AWQ gemm is 4-bit only, so AWQ at 2, 3 or 8 bits goes to the GPTQ layout (gptq_v2). */
    public static CheckpointLayout of(Recipe r) {
        return of(r.params());
    }

    public static CheckpointLayout of(QuantizationParams p) {
        return switch (p) {
            case RtnParams r -> GPTQ;
            case GptqParams g -> GPTQ;
            case AwqParams a -> a.bits() == 4 ? AWQ : GPTQ;
            case Bnb4Params b -> BNB4;
            case LlmInt8Params i -> BNB8;
            case CompressedTensorsParams c -> COMPRESSED_TENSORS;
        };
    }

    /**
     * Why a module of this shape cannot be written with these parameters, or null when it can. GPTQ packs the
     * input dimension (in·b/32 words) and the zero points along the output dimension (out·b/32 words); AWQ packs
     * 8 outputs per word; groups must divide the input dimension.
     */
    public String unpackableReason(int rows, int cols, int bits, int groupSize) {
        return switch (this) {
            case GPTQ -> !Packing.packable(cols, bits) ? cols + " input features × " + bits + " bits is not a whole number of int32 words"
                    : !Packing.packable(rows, bits) ? rows + " output features × " + bits + " bits (qzeros) is not a whole number of int32 words"
                    : groupSize > 0 && cols % groupSize != 0 ? "group size " + groupSize + " does not divide " + cols + " input features" : null;
            case AWQ -> rows % 8 != 0 ? rows + " output features are not a multiple of 8"
                    : groupSize > 0 && cols % groupSize != 0 ? "group size " + groupSize + " does not divide " + cols + " input features" : null;
            case COMPRESSED_TENSORS -> bits < 8 && !Packing.packable(cols, bits) ? cols + " input features × " + bits + " bits is not a whole number of int32 words"
                    : groupSize > 0 && cols % groupSize != 0 ? "group size " + groupSize + " does not divide " + cols + " input features" : null;
            case BNB4, BNB8 -> null;
        };
    }

    /** The tensors of one linear module {@code prefix} (e.g. "model.layers.0.self_attn.q_proj"). */
    public List<TensorData> moduleTensors(String prefix, QuantizedModule m, GgmlType sourceType, Recipe recipe) {
        List<TensorData> out = new ArrayList<>();
        switch (m) {
            case QuantizedModule.Kept k -> out.add(TensorData.floatsAs(prefix + ".weight", sourceType, new long[]{k.rows(), k.cols()}, k.w()));
            case QuantizedModule.Uniform u when this == GPTQ -> {
                QuantizedLinear q = u.q();
                int b = q.bits();
                out.add(TensorData.ints(prefix + ".qweight", new long[]{(long) q.cols() * b / 32, q.rows()}, Packing.gptqQweight(q)));
                out.add(TensorData.ints(prefix + ".qzeros", new long[]{q.groups(), (long) q.rows() * b / 32}, Packing.gptqQzeros(q, ((UniformGridParams) recipe.params()).gptqV2())));
                out.add(TensorData.halves(prefix + ".scales", new long[]{q.groups(), q.rows()}, q.scales()));
                out.add(TensorData.ints(prefix + ".g_idx", new long[]{q.cols()}, q.gIdx()));
            }
            case QuantizedModule.Uniform u when this == AWQ -> {
                QuantizedLinear q = u.q();
                out.add(TensorData.ints(prefix + ".qweight", new long[]{q.cols(), q.rows() / 8}, Packing.awqQweight(q)));
                out.add(TensorData.ints(prefix + ".qzeros", new long[]{q.groups(), q.rows() / 8}, Packing.awqQzeros(q)));
                out.add(TensorData.halves(prefix + ".scales", new long[]{q.groups(), q.rows()}, q.scales()));
            }
            case QuantizedModule.Bnb4 b when this == BNB4 -> {
                String w = prefix + ".weight";
                Nf4.Weight nw = b.w();
                out.add(TensorData.bytes(w, GgmlType.U8, new long[]{nw.packed().length, 1}, nw.packed()));
                if (b.nested() == null) {
                    out.add(TensorData.floats(w + ".absmax", new long[]{nw.absmax().length}, nw.absmax()));
                } else {
                    out.add(TensorData.bytes(w + ".absmax", GgmlType.U8, new long[]{b.nested().codes().length}, b.nested().codes()));
                }
                out.add(TensorData.floats(w + ".quant_map", new long[]{16}, nw.type().code()));
                if (b.nested() != null) {
                    out.add(TensorData.floats(w + ".nested_absmax", new long[]{b.nested().nestedAbsmax().length}, b.nested().nestedAbsmax()));
                    out.add(TensorData.floats(w + ".nested_quant_map", new long[]{256}, b.nested().nestedCode()));
                }
                byte[] json = quantStateJson(nw, b.nested(), sourceType).getBytes(StandardCharsets.UTF_8);
                out.add(TensorData.bytes(w + ".quant_state.bitsandbytes__" + nw.type().label, GgmlType.U8, new long[]{json.length}, json));
            }
            case QuantizedModule.Int8 i when this == BNB8 -> {
                out.add(TensorData.bytes(prefix + ".weight", GgmlType.I8, new long[]{i.w().rows(), i.w().cols()}, i.w().cb()));
                out.add(TensorData.floats(prefix + ".SCB", new long[]{i.w().rows()}, i.w().scb()));
                out.add(TensorData.bytes(prefix + ".weight_format", GgmlType.U8, new long[]{}, new byte[]{0}));
            }
            case QuantizedModule.Uniform u when this == COMPRESSED_TENSORS -> out.addAll(CompressedTensorsLayout.intTensors(prefix, u.q(), scheme(recipe)));
            case QuantizedModule.Fp8 f when this == COMPRESSED_TENSORS -> out.addAll(CompressedTensorsLayout.fp8Tensors(prefix, f.w()));
            default -> throw new IllegalArgumentException(prefix + ": a " + m.getClass().getSimpleName() + " module cannot be written in the " + this + " layout");
        }
        return out;
    }

    private static CompressedTensorsScheme scheme(Recipe r) {
        return ((CompressedTensorsParams) r.params()).scheme();
    }

    /** The non-tensor half of QuantState.as_dict(packed=True), serialized as Python's json.dumps does. */
    static String quantStateJson(Nf4.Weight w, Nf4.NestedAbsmax nested, GgmlType sourceType) {
        StringBuilder sb = new StringBuilder("{\"quant_type\": \"").append(w.type().label).append("\", \"blocksize\": ").append(Nf4.BLOCK)
                .append(", \"dtype\": \"").append(torchDtype(sourceType)).append("\", \"shape\": [");
        long[] s = w.shape();
        for (int i = 0; i < s.length; i++) sb.append(i > 0 ? ", " : "").append(s[i]);
        sb.append(']');
        if (nested != null) {
            sb.append(", \"nested_blocksize\": ").append(Nf4.NESTED_BLOCK).append(", \"nested_dtype\": \"float32\", \"nested_offset\": ")
                    .append(pythonFloat(nested.offset()));
        }
        return sb.append('}').toString();
    }

    /** repr() of a Python float holding this float32 value (shortest round-trip digits, Python's exponent rules). */
    static String pythonFloat(float f) {
        double d = f;
        if (d == 0) return "0.0";
        java.math.BigDecimal bd = new java.math.BigDecimal(Double.toString(d));
        double a = Math.abs(d);
        if (a >= 1e-4 && a < 1e16) {
            String p = bd.toPlainString();
            return p.contains(".") ? p : p + ".0";
        }
        String digits = bd.unscaledValue().abs().toString();
        int exp = digits.length() - 1 - bd.scale();
        String mant = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1).replaceAll("0+$", "");
        if (mant.endsWith(".")) mant = mant.substring(0, mant.length() - 1);
        return (d < 0 ? "-" : "") + mant + "e" + (exp < 0 ? "-" : "+") + String.format(Locale.ROOT, "%02d", Math.abs(exp));
    }

    static String torchDtype(GgmlType t) {
        return switch (t) {
            case F16 -> "float16";
            case BF16 -> "bfloat16";
            default -> "float32";
        };
    }

    /** The {@code quantization_config} object of config.json. */
    public ObjectNode quantizationConfig(Recipe r, GgmlType sourceType, List<String> skippedModules) {
        ObjectNode q = JSON.createObjectNode();
        switch (this) {
            case GPTQ -> {
                // RTN and AWQ have no act-order, static groups, damping or step order: their GPTQ configs carry GPTQModel's defaults
                UniformGridParams u = (UniformGridParams) r.params();
                GptqParams g = u instanceof GptqParams gp ? gp : GptqParams.DEFAULTS;
                q.put("bits", u.bits());
                q.put("group_size", u.groupSize());
                q.put("desc_act", g.actOrder());
                q.put("sym", u.sym());
                q.put("lm_head", false);
                q.put("quant_method", "gptq");
                q.put("checkpoint_format", u.gptqV2() ? "gptq_v2" : "gptq");
                q.put("pack_dtype", "int32");
                q.put("static_groups", g.staticGroups());
                q.put("true_sequential", g.trueSequential());
                q.put("damp_percent", g.dampPercent());
                ObjectNode dyn = q.putObject("dynamic");
                for (Recipe.Rule rule : r.rules()) {
                    ObjectNode o = dyn.putObject(rule.dynamicKey());
                    if (rule.bits() != null) o.put("bits", rule.bits());
                    if (rule.groupSize() != null) o.put("group_size", rule.groupSize());
                }
                ObjectNode meta = q.putObject("meta");
                meta.putArray("quantizer").add("featherweight:" + r.method());
                meta.put("damp_percent", g.dampPercent());
                meta.put("static_groups", g.staticGroups());
                meta.put("true_sequential", g.trueSequential());
                meta.put("zero_points", u.gptqV2() ? "stored as is (gptq_v2)" : "stored as zero - 1 (gptq); every zero point >= 1");
            }
            case AWQ -> {
                q.put("quant_method", "awq");
                q.put("bits", r.params().bits());
                q.put("group_size", r.params().groupSize());
                q.put("zero_point", true);
                q.put("version", "gemm");
                if (skippedModules.isEmpty()) q.putNull("modules_to_not_convert");
                else {
                    ArrayNode a = q.putArray("modules_to_not_convert");
                    skippedModules.forEach(a::add);
                }
            }
            case BNB4, BNB8 -> {
                boolean four = this == BNB4;
                q.put("quant_method", "bitsandbytes");
                q.put("_load_in_4bit", four);
                q.put("_load_in_8bit", !four);
                q.put("load_in_4bit", four);
                q.put("load_in_8bit", !four);
                q.put("bnb_4bit_compute_dtype", torchDtype(sourceType));
                q.put("bnb_4bit_quant_storage", "uint8");
                q.put("bnb_4bit_quant_type", r.params() instanceof Bnb4Params b && b.type() == Nf4.Type.FP4 ? "fp4" : "nf4");
                q.put("bnb_4bit_use_double_quant", r.params() instanceof Bnb4Params b && b.doubleQuant());
                q.put("llm_int8_enable_fp32_cpu_offload", false);
                q.put("llm_int8_has_fp16_weight", false);
                if (skippedModules.isEmpty()) q.putNull("llm_int8_skip_modules");
                else {
                    ArrayNode a = q.putArray("llm_int8_skip_modules");
                    skippedModules.forEach(a::add);
                }
                q.put("llm_int8_threshold", r.params() instanceof LlmInt8Params i ? i.threshold() : LlmInt8.DEFAULT_THRESHOLD);
            }
            case COMPRESSED_TENSORS -> {
                return CompressedTensorsLayout.quantizationConfig((CompressedTensorsParams) r.params(), skippedModules);
            }
        }
        return q;
    }

    /** GPTQ's quantize_config.json (read by AutoGPTQ/GPTQModel and older transformers). */
    public ObjectNode quantizeConfigJson(Recipe r) {
        return quantizationConfig(r, GgmlType.F32, List.of());
    }
}
