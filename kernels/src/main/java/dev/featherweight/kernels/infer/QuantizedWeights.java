package dev.featherweight.kernels.infer;

import dev.featherweight.kernels.core.WeightMatrix;
import dev.featherweight.kernels.formats.FormatException;
import dev.featherweight.kernels.core.Tensor;
import dev.featherweight.kernels.formats.TensorSource;
import dev.featherweight.kernels.core.GgmlType;
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
 * (NF4/FP4, with or without double quantization) and 8-bit — read through config.json's
 * {@code quantization_config}, as transformers' {@code AutoHfQuantizer} dispatches on {@code quant_method}.
 * Plain tensors pass through; a linear whose weight is stored in pieces is returned by {@link #matrix}.
 */
public final class QuantizedWeights implements TensorSource, MatrixSource {
    private static final ValueLayout.OfFloat LE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private final TensorSource base;
    private final String method;
    private final int bits;
    private final boolean gptqV2;

    private QuantizedWeights(TensorSource base, JsonNode q) {
        this.base = base;
        this.method = q.path("quant_method").asString("");
        this.bits = q.path("bits").asInt(q.path("w_bit").asInt(4));
        this.gptqV2 = "gptq_v2".equals(q.path("checkpoint_format").asString("gptq"));
        if (!List.of("gptq", "awq", "bitsandbytes").contains(method)) {
            throw new FormatException(base.path(), null, "quantization_config.quant_method '" + method + "' is not supported (gptq, awq, bitsandbytes)");
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
        return base.has(p + ".qweight");
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
