package dev.featherweight.kernels.quant.gguf;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The F32 source of the synth256 golden files, which the reference run did not keep: the HF float32
 * safetensors renamed to GGUF names, with attn_q / attn_k rows un-permuted as convert_hf_to_gguf.py's
 * LlamaModel.permute does (rows of head h: new row 2i+j = old row j·half+i), everything else as is.
 * Test-only minimal safetensors reading until the formats branch's reader is merged.
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

    private final Arena arena = Arena.ofShared();
    private final MemorySegment mapped;
    private final JsonNode header;
    private final long dataStart;
    private final int nHead;
    private final int nHeadKv;

    Synth256Source(Path folder) throws IOException {
        JsonNode config = JsonMapper.builder().build().readTree(folder.resolve("config.json"));
        nHead = config.get("num_attention_heads").asInt();
        nHeadKv = config.get("num_key_value_heads").asInt();
        try (FileChannel ch = FileChannel.open(folder.resolve("model.safetensors"), StandardOpenOption.READ)) {
            mapped = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
        }
        long n = mapped.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
        byte[] json = mapped.asSlice(8, n).toArray(ValueLayout.JAVA_BYTE);
        header = JsonMapper.builder().build().readTree(new String(json, StandardCharsets.UTF_8));
        dataStart = 8 + n;
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
        String hf = hfName(ggufName);
        JsonNode t = header.get(hf);
        if (t == null || !"F32".equals(t.get("dtype").asString())) throw new IllegalArgumentException("no F32 tensor " + hf);
        long begin = t.get("data_offsets").get(0).asLong();
        long end = t.get("data_offsets").get(1).asLong();
        float[] data = new float[(int) ((end - begin) / 4)];
        MemorySegment.copy(mapped, F32_LE, dataStart + begin, data, 0, data.length);
        if (ggufName.endsWith("attn_q.weight")) return unpermute(data, t, nHead);
        if (ggufName.endsWith("attn_k.weight")) return unpermute(data, t, nHeadKv);
        return data;
    }

    private static float[] unpermute(float[] w, JsonNode t, int heads) {
        int rows = t.get("shape").get(0).asInt();
        int cols = t.get("shape").get(1).asInt();
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
        arena.close();
    }
}
