package dev.featherweight.kernels.infer;

import dev.featherweight.kernels.core.WeightMatrix;
import dev.featherweight.kernels.formats.FormatException;
import dev.featherweight.kernels.core.Tensor;
import dev.featherweight.kernels.formats.TensorSource;
import dev.featherweight.kernels.core.GgmlType;
import dev.featherweight.kernels.quant.ActivationQuantization;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The weights of a quantized Hugging Face folder — GPTQ (classic or gptq_v2), AutoAWQ gemm, bitsandbytes 4-bit
 * (NF4/FP4, with or without double quantization) and 8-bit, compressed-tensors (pack-quantized, int-quantized,
 * float-quantized; W8A8 inputs rounded per token or with the static input_scale) — read through config.json's
 * {@code quantization_config}, as transformers' {@code AutoHfQuantizer} dispatches on {@code quant_method}.
 * Plain tensors pass through; a linear whose weight is stored in pieces is returned by {@link #matrix}.
 */
public final class QuantizedWeights implements TensorSource, MatrixSource {
    private static final ValueLayout.OfFloat LE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private final TensorSource base;
    private final String method;
    private final int bits;
    private final boolean gptqV2;
    /** compressed-tensors: the checkpoint format and how the serving engine rounds the inputs (null: 16-bit activations). */
    private final String ctFormat;
    private final JsonNode ctActivations;

    private QuantizedWeights(TensorSource base, JsonNode q) {
        this.base = base;
        this.method = q.path("quant_method").asString("");
        this.gptqV2 = "gptq_v2".equals(q.path("checkpoint_format").asString("gptq"));
        if (!List.of("gptq", "awq", "bitsandbytes", "compressed-tensors").contains(method)) {
            throw new FormatException(base.path(), null, "quantization_config.quant_method '" + method + "' is not supported (gptq, awq, bitsandbytes, compressed-tensors)");
        }
        if (method.equals("compressed-tensors")) {
            JsonNode groups = q.path("config_groups");
            if (groups.size() != 1) throw new FormatException(base.path(), null, "compressed-tensors: expected one config group, found " + groups.size());
            JsonNode g = groups.iterator().next();
            JsonNode w = g.path("weights");
            this.bits = w.path("num_bits").asInt(8);
            this.ctFormat = q.path("format").asString("");
            this.ctActivations = g.path("input_activations").isObject() ? g.path("input_activations") : null;
            if (!List.of("pack-quantized", "int-quantized", "float-quantized").contains(ctFormat))
                throw new FormatException(base.path(), null, "compressed-tensors format '" + ctFormat + "' is not supported (pack-quantized, int-quantized, float-quantized)");
            if (ctActivations != null && (ctActivations.path("num_bits").asInt() != 8 || !List.of("token", "tensor").contains(ctActivations.path("strategy").asString(""))))
                throw new FormatException(base.path(), null, "compressed-tensors input_activations " + ctActivations + " are not supported (8-bit, per token or per tensor)");
        } else {
            this.bits = q.path("bits").asInt(q.path("w_bit").asInt(4));
            this.ctFormat = null;
            this.ctActivations = null;
        }
        if (method.equals("awq") && !"gemm".equalsIgnoreCase(q.path("version").asString("gemm"))) {
            throw new FormatException(base.path(), null, "AWQ version '" + q.path("version").asString() + "' is not supported (gemm)");
        }
    }

    /** The source itself when the folder's config.json has no quantization_config, else a wrapper. */
    public static TensorSource wrapIfQuantized(TensorSource src, Path folder) {
        Path cfg = folder.resolve("config.json");
        if (!Files.isRegularFile(cfg)) return src;
        JsonNode root;
        try {
            root = JsonMapper.builder().build().readTree(cfg.toFile());
        } catch (RuntimeException e) {
            throw new FormatException(cfg, null, "cannot read config.json: " + e.getMessage(), e);
        }
        JsonNode q = root.get("quantization_config");
        return q == null || q.isNull() ? src : new QuantizedWeights(src, q);
    }

    public String method() {
        return method;
    }

    @Override
    public WeightMatrix matrix(String weightName) {
        if (!weightName.endsWith(".weight")) return null;
        String p = weightName.substring(0, weightName.length() - ".weight".length());
        try {
            if (ctFormat != null) return compressedTensors(weightName, p);
            if (base.has(p + ".qweight")) {
                if (method.equals("awq")) return new AwqMatrix(base.tensor(p + ".qweight"), base.tensor(p + ".qzeros"), base.tensor(p + ".scales"));
                return new GptqMatrix(base.tensor(p + ".qweight"), base.tensor(p + ".qzeros"), base.tensor(p + ".scales"),
                        base.has(p + ".g_idx") ? base.tensor(p + ".g_idx") : null, bits, gptqV2);
            }
            if (base.has(p + ".SCB")) return new Int8Matrix(base.tensor(weightName), base.tensor(p + ".SCB"));
            if (base.has(weightName + ".absmax")) return bnb4(weightName);
        } catch (RuntimeException e) {
            if (e instanceof FormatException) throw e;
            throw new FormatException(base.path(), weightName, e.getMessage(), e);
        }
        return null;
    }

    private WeightMatrix compressedTensors(String weightName, String p) {
        if (!base.has(p + ".weight_scale")) return null; // not quantized (ignored: lm_head, skipped modules)
        WeightMatrix m = switch (ctFormat) {
            case "pack-quantized" -> CompressedTensorsMatrix.packed(base.tensor(p + ".weight_packed"), base.tensor(p + ".weight_scale"),
                    base.tensor(p + ".weight_shape"), base.has(p + ".weight_zero_point") ? base.tensor(p + ".weight_zero_point") : null, bits);
            case "int-quantized" -> CompressedTensorsMatrix.int8(base.tensor(weightName), base.tensor(p + ".weight_scale"));
            default -> CompressedTensorsMatrix.fp8(base.tensor(weightName), base.tensor(p + ".weight_scale"));
        };
        if (ctActivations == null) return m;
        boolean fp8 = "float".equals(ctActivations.path("type").asString("int"));
        ActivationQuantization a;
        if (ctActivations.path("dynamic").asBoolean(false)) {
            a = fp8 ? new ActivationQuantization.Fp8PerToken() : new ActivationQuantization.Int8PerToken();
        } else {
            if (!fp8) throw new FormatException(base.path(), weightName, "static int8 input scales are not supported (W8A8 is dynamic per token)");
            a = new ActivationQuantization.Fp8Static(CompressedTensorsMatrix.floats(base.tensor(p + ".input_scale"))[0]);
        }
        return new ActivationQuantizedMatrix(m, a);
    }

    private WeightMatrix bnb4(String w) {
        String stateName = null;
        for (String t : new String[]{"nf4", "fp4"}) if (base.has(w + ".quant_state.bitsandbytes__" + t)) stateName = w + ".quant_state.bitsandbytes__" + t;
        if (stateName == null) throw new FormatException(base.path(), w, "4-bit weight without a quant_state.bitsandbytes__nf4|fp4 entry");
        Tensor st = base.tensor(stateName);
        JsonNode state = JsonMapper.builder().build().readTree(new String(st.data().toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8));
        int blocksize = state.path("blocksize").asInt(64);
        JsonNode shape = state.path("shape");
        int rows = shape.get(0).asInt(), cols = shape.get(1).asInt();
        float[] code = floats(base.tensor(w + ".quant_map"));
        Tensor am = base.tensor(w + ".absmax");
        float[] absmax;
        if (am.type() == GgmlType.U8) {
            float[] nested = floats(base.tensor(w + ".nested_absmax"));
            float[] ncode = floats(base.tensor(w + ".nested_quant_map"));
            int nb = state.path("nested_blocksize").asInt(256);
            float offset = (float) state.path("nested_offset").asDouble();
            absmax = new float[(int) am.elements()];
            for (int i = 0; i < absmax.length; i++) absmax[i] = ncode[am.data().get(ValueLayout.JAVA_BYTE, i) & 0xFF] * nested[i / nb] + offset;
        } else {
            absmax = floats(am);
        }
        return new Bnb4Matrix(base.tensor(w), rows, cols, blocksize, absmax, code, state.path("quant_type").asString("nf4"));
    }

    private float[] floats(Tensor t) {
        if (t.type() != GgmlType.F32) throw new FormatException(base.path(), t.name(), "expected F32, found " + t.type());
        float[] f = new float[(int) t.elements()];
        for (int i = 0; i < f.length; i++) f[i] = t.data().get(LE_FLOAT, 4L * i);
        return f;
    }

    @Override
    public Path path() {
        return base.path();
    }

    @Override
    public List<String> names() {
        return base.names();
    }

    /** True for stored tensors and for the weight names of quantized linears ("….weight"). */
    @Override
    public boolean has(String name) {
        if (base.has(name)) return true;
        if (!name.endsWith(".weight")) return false;
        String p = name.substring(0, name.length() - ".weight".length());
        return base.has(p + ".qweight") || base.has(p + ".weight_packed");
    }

    @Override
    public Tensor tensor(String name) {
        return base.tensor(name);
    }

    @Override
    public void close() {
        base.close();
    }
}
