package dev.featherweight.kernels.quant.gguf;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import dev.featherweight.kernels.core.Tensor;
import dev.featherweight.kernels.formats.safetensors.SafetensorsFile;
import dev.featherweight.kernels.core.GgmlType;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The F32 source of the synth256 golden files, which the reference run did not keep: the HF float32
 * safetensors renamed to GGUF names, with attn_q / attn_k rows un-permuted as convert_hf_to_gguf.py's
 * LlamaModel.permute does (rows of head h: new row 2i+j = old row j·half+i), everything else as is.
 * Read with formats.safetensors.SafetensorsFile.
 */
final class Synth256Source implements AutoCloseable {
    private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final Pattern LAYER = Pattern.compile("model\\.layers\\.(\\d+)\\.(.*)");
    private static final Map<String, String> LAYER_NAMES = Map.of(
            "self_attn.q_proj.weight", "attn_q.weight", "self_attn.k_proj.weight", "attn_k.weight",
            "self_attn.v_proj.weight", "attn_v.weight", "self_attn.o_proj.weight", "attn_output.weight",
            "mlp.gate_proj.weight", "ffn_gate.weight", "mlp.up_proj.weight", "ffn_up.weight",
            "mlp.down_proj.weight", "ffn_down.weight", "input_layernorm.weight", "attn_norm.weight",
            "post_attention_layernorm.weight", "ffn_norm.weight");

    private final SafetensorsFile file;
    private final int nHead;
    private final int nHeadKv;

    Synth256Source(Path folder) throws IOException {
        JsonNode config = JsonMapper.builder().build().readTree(folder.resolve("config.json"));
        nHead = config.get("num_attention_heads").asInt();
        nHeadKv = config.get("num_key_value_heads").asInt();
        file = SafetensorsFile.open(folder.resolve("model.safetensors"));
    }

    static String hfName(String ggufName) {
        switch (ggufName) {
            case "token_embd.weight": return "model.embed_tokens.weight";
            case "output_norm.weight": return "model.norm.weight";
            case "output.weight": return "lm_head.weight";
            default:
        }
        Matcher m = Pattern.compile("blk\\.(\\d+)\\.(.*)").matcher(ggufName);
        if (!m.matches()) throw new IllegalArgumentException("unknown tensor " + ggufName);
        for (var e : LAYER_NAMES.entrySet()) {
            if (e.getValue().equals(m.group(2))) return "model.layers." + m.group(1) + "." + e.getKey();
        }
        throw new IllegalArgumentException("unknown tensor " + ggufName);
    }

    /** The GGUF F32 tensor data of a GGUF name, row-major. */
    float[] f32(String ggufName) {
        Tensor t = file.tensor(hfName(ggufName));
        if (t.type() != GgmlType.F32) throw new IllegalArgumentException("not F32: " + t);
        float[] data = t.data().toArray(F32_LE);
        if (ggufName.endsWith("attn_q.weight")) return unpermute(data, t.shape(), nHead);
        if (ggufName.endsWith("attn_k.weight")) return unpermute(data, t.shape(), nHeadKv);
        return data;
    }

    private static float[] unpermute(float[] w, long[] shape, int heads) {
        int rows = (int) shape[0];
        int cols = (int) shape[1];
        int half = rows / heads / 2;
        float[] out = new float[w.length];
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < half; i++) {
                for (int j = 0; j < 2; j++) {
                    int newRow = h * 2 * half + 2 * i + j;
                    int oldRow = h * 2 * half + j * half + i;
                    System.arraycopy(w, oldRow * cols, out, newRow * cols, cols);
                }
            }
        }
        return out;
    }

    @Override
    public void close() {
        file.close();
    }
}
