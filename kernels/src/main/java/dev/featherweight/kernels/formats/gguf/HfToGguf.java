package dev.featherweight.kernels.formats.gguf;

import dev.featherweight.kernels.formats.FormatException;
import dev.featherweight.kernels.formats.ModelCheck;
import dev.featherweight.kernels.core.Tensor;
import dev.featherweight.kernels.formats.TensorSource;
import dev.featherweight.kernels.formats.hf.LlamaConfig;
import dev.featherweight.kernels.formats.safetensors.SafetensorsModel;
import dev.featherweight.kernels.core.GgmlType;
import dev.featherweight.kernels.quant.gguf.GgufBlockCodecs;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Hugging Face Llama-family folder → GGUF, as llama.cpp's convert_hf_to_gguf.py does it (LlamaModel):
 * the same metadata keys, values, types and order; tensors renamed (model.layers.N.self_attn.q_proj →
 * blk.N.attn_q …) in the order the converter enumerates them (sorted HF names); Q and K rows permuted
 * back from the rotate-half layout to the interleaved one llama.cpp's RoPE expects; 1-D tensors and
 * norms kept F32, the rest in the output type. Tensors stay mapped; rows are produced on demand.
 */
public final class HfToGguf {
    private static final Pattern LAYER = Pattern.compile("model\\.layers\\.(\\d+)\\.(.+)");
    private static final Map<String, String> LAYER_NAMES = Map.of(
            "input_layernorm.weight", "attn_norm.weight",
            "self_attn.q_proj.weight", "attn_q.weight",
            "self_attn.k_proj.weight", "attn_k.weight",
            "self_attn.v_proj.weight", "attn_v.weight",
            "self_attn.o_proj.weight", "attn_output.weight",
            "post_attention_layernorm.weight", "ffn_norm.weight",
            "mlp.gate_proj.weight", "ffn_gate.weight",
            "mlp.up_proj.weight", "ffn_up.weight",
            "mlp.down_proj.weight", "ffn_down.weight");
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private HfToGguf() {
    }

    /** llama_ftype numbers of the converter's output types. */
    public static int fileType(GgmlType outType) {
        return switch (outType) {
            case F32 -> 0;
            case F16 -> 1;
            case BF16 -> 32;
            default -> throw new IllegalArgumentException("the converter writes F32, F16 or BF16, not " + outType);
        };
    }

    /**
     * Plans the conversion of {@code dir} (weights must stay open while the plan is used).
     *
     * @param outType F32, F16 or BF16: the type of every 2-D weight; norms and 1-D tensors stay F32
     */
    public static GgufModelPlan plan(Path dir, TensorSource weights, GgmlType outType) {
        LlamaConfig cfg = ModelCheck.check(weights, dir, true);
        if (!cfg.architecture().equals("llama") && !cfg.architecture().equals("mistral")) {
            throw new FormatException(dir.resolve("config.json"), "GGUF conversion supports the llama and mistral architectures, not '" + cfg.architecture() + "'");
        }
        if (cfg.ropeScaling() != null) {
            throw new FormatException(dir.resolve("config.json"), "GGUF conversion of rope_scaling '" + cfg.ropeScaling().type() + "' is not supported yet");
        }
        List<String> names = new ArrayList<>(weights.names());
        names.sort(null); // the converter's enumeration order: sorted safetensors keys
        List<GgufModelPlan.SourceTensor> tensors = new ArrayList<>();
        long totalParams = 0;
        for (String hf : names) {
            if (hf.endsWith("rotary_emb.inv_freq")) continue;
            String name = ggufName(dir, hf);
            Tensor t = weights.tensor(hf);
            if (t.type() != GgmlType.F32 && t.type() != GgmlType.F16 && t.type() != GgmlType.BF16) {
                throw new FormatException(weights.path(), hf, "is " + t.type() + "; conversion reads F32, F16 or BF16 weights");
            }
            long[] shape = t.shape();
            long[] ne = new long[shape.length];
            for (int i = 0; i < shape.length; i++) ne[i] = shape[shape.length - 1 - i];
            int permuteHeads = name.endsWith("attn_q.weight") ? cfg.heads() : name.endsWith("attn_k.weight") ? cfg.kvHeads() : 0;
            GgufModelPlan.RowReader rows = rowReader(t, permuteHeads);
            boolean keepF32 = shape.length == 1 || name.endsWith("_norm.weight");
            GgmlType type = keepF32 ? GgmlType.F32 : outType;
            tensors.add(new GgufModelPlan.SourceTensor(name, ne, type, rows, null));
            totalParams += t.elements();
        }
        return new GgufModelPlan(metadata(dir, cfg, outType, totalParams), tensors);
    }

    private static String ggufName(Path dir, String hf) {
        switch (hf) {
            case "model.embed_tokens.weight":
                return "token_embd.weight";
            case "model.norm.weight":
                return "output_norm.weight";
            case "lm_head.weight":
                return "output.weight";
            default:
                Matcher m = LAYER.matcher(hf);
                if (m.matches() && LAYER_NAMES.containsKey(m.group(2))) return "blk." + m.group(1) + "." + LAYER_NAMES.get(m.group(2));
                throw new FormatException(dir, hf, "has no GGUF name for a llama model (unexpected tensor)");
        }
    }

    /**
     * Rows of a stored tensor as floats; for Q/K weights with {@code heads} > 0, output row
     * h·hr + 2i + j reads source row h·hr + j·hr/2 + i (LlamaModel.permute: reshape to
     * (heads, 2, hr/2, cols), swap axes 1 and 2).
     */
    static GgufModelPlan.RowReader rowReader(Tensor t, int heads) {
        long n = t.rowLength();
        long rows = t.rows();
        MemorySegment data = t.data();
        GgmlType type = t.type();
        long hr = heads > 0 ? rows / heads : 0;
        return (row, dst) -> {
            long src = row;
            if (heads > 0) {
                long h = row / hr, r = row % hr, i = r / 2, j = r % 2;
                src = h * hr + j * (hr / 2) + i;
            }
            long off = src * n * type.typeSize;
            switch (type) {
                case F32 -> MemorySegment.copy(data, F32, off, dst, 0, (int) n);
                case F16 -> {
                    for (int k = 0; k < n; k++) dst[k] = Float.float16ToFloat(data.get(U16, off + 2L * k));
                }
                case BF16 -> {
                    for (int k = 0; k < n; k++) dst[k] = Float.intBitsToFloat((data.get(U16, off + 2L * k) & 0xFFFF) << 16);
                }
                default -> throw new IllegalStateException(type.toString());
            }
        };
    }

    static LinkedHashMap<String, GgufValue> metadata(Path dir, LlamaConfig cfg, GgmlType outType, long totalParams) {
        LinkedHashMap<String, GgufValue> kv = new LinkedHashMap<>();
        String arch = "llama";
        kv.put("general.architecture", GgufValue.string(arch));
        kv.put("general.type", GgufValue.string("model"));
        GgufNaming naming = GgufNaming.fromModelId(dir.toAbsolutePath().normalize().getFileName().toString(), totalParams);
        kv.put("general.name", GgufValue.string(naming.name()));
        if (naming.finetune() != null) kv.put("general.finetune", GgufValue.string(naming.finetune()));
        if (naming.basename() != null) kv.put("general.basename", GgufValue.string(naming.basename()));
        if (naming.sizeLabel() != null) kv.put("general.size_label", GgufValue.string(naming.sizeLabel()));
        kv.put(arch + ".block_count", GgufValue.uint32(cfg.layers()));
        kv.put(arch + ".context_length", GgufValue.uint32(cfg.maxPositions()));
        kv.put(arch + ".embedding_length", GgufValue.uint32(cfg.hiddenSize()));
        kv.put(arch + ".feed_forward_length", GgufValue.uint32(cfg.intermediateSize()));
        kv.put(arch + ".attention.head_count", GgufValue.uint32(cfg.heads()));
        kv.put(arch + ".attention.head_count_kv", GgufValue.uint32(cfg.kvHeads()));
        kv.put(arch + ".rope.freq_base", GgufValue.float32((float) cfg.ropeTheta()));
        kv.put(arch + ".attention.layer_norm_rms_epsilon", GgufValue.float32((float) cfg.rmsNormEps()));
        JsonNode config = JsonMapper.builder().build().readTree(dir.resolve("config.json").toFile());
        if (config.has("head_dim") && !config.get("head_dim").isNull()) {
            kv.put(arch + ".attention.key_length", GgufValue.uint32(cfg.headDim()));
            kv.put(arch + ".attention.value_length", GgufValue.uint32(cfg.headDim()));
        }
        kv.put("general.file_type", GgufValue.uint32(fileType(outType)));
        kv.put(arch + ".vocab_size", GgufValue.uint32(cfg.vocabSize()));
        kv.put(arch + ".rope.dimension_count", GgufValue.uint32(cfg.headDim()));
        GgufVocab.sentencePiece(dir, cfg.vocabSize(), kv);
        kv.put("general.quantization_version", GgufValue.uint32(2));
        return kv;
    }

    /** Converts a folder to an F32/F16/BF16 GGUF file; returns its size. */
    public static long convert(Path dir, GgmlType outType, Path out) {
        try (SafetensorsModel weights = SafetensorsModel.open(dir)) {
            GgufModelPlan plan = plan(dir, weights, outType);
            List<GgufWriter.Entry> entries = new ArrayList<>();
            for (GgufModelPlan.SourceTensor t : plan.tensors()) entries.add(new GgufWriter.Entry(t.name(), t.type(), t.ne(), encoder(t, t.type())));
            return GgufWriter.write(out, plan.metadata(), entries);
        }
    }

    /** Writes a tensor's rows in {@code type} (F32, F16, BF16 or any block type) row by row. */
    public static GgufWriter.Filler encoder(GgufModelPlan.SourceTensor t, GgmlType type) {
        return dst -> {
            int n = (int) t.rowLength();
            long rowBytes = type.rowBytes(n);
            float[] row = new float[n];
            var codec = GgufBlockCodecs.of(type);
            for (long r = 0; r < t.rowCount(); r++) {
                t.rows().read(r, row);
                codec.quantizeRow(row, 0, n, dst, r * rowBytes, null);
            }
        };
    }
}
