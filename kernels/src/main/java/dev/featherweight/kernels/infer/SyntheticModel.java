package dev.featherweight.kernels.infer;

import dev.featherweight.kernels.core.Parallel;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Llama-shaped Hugging Face folders with seeded random weights (normal, std 0.02; norms 1, biases 0) at real
 * sizes, for benchmarks and memory checks: config.json, one model.safetensors written tensor by tensor (never
 * held in memory), and a demo model's tokenizer files. The weights depend only on (seed, tensor name, row
 * block), not on the thread count.
 */
public final class SyntheticModel {

    /** A named real-model shape (its config.json fields). */
    public record Shape(String name, String modelType, int hidden, int ffn, int layers, int heads, int kvHeads, int vocab,
                        double ropeTheta, double rmsEps, int maxPositions, boolean tied, boolean qkvBias) {
        public Shape withLayers(int n) {
            return new Shape(name, modelType, hidden, ffn, n, heads, kvHeads, vocab, ropeTheta, rmsEps, maxPositions, tied, qkvBias);
        }

        public int headDim() {
            return hidden / heads;
        }
    }

    public static final Map<String, Shape> SHAPES = new LinkedHashMap<>();

    static {
        for (Shape s : List.of(
                new Shape("TinyLlama-1.1B", "llama", 2048, 5632, 22, 32, 4, 32000, 10000, 1e-5, 2048, false, false),
                new Shape("Llama-2-7B", "llama", 4096, 11008, 32, 32, 32, 32000, 10000, 1e-5, 4096, false, false),
                new Shape("Llama-2-13B", "llama", 5120, 13824, 40, 40, 40, 32000, 10000, 1e-5, 4096, false, false),
                new Shape("Llama-3-8B", "llama", 4096, 14336, 32, 32, 8, 128256, 500000, 1e-5, 8192, false, false),
                new Shape("Qwen2.5-0.5B", "qwen2", 896, 4864, 24, 14, 2, 151936, 1000000, 1e-6, 32768, true, true))) {
            SHAPES.put(s.name().toLowerCase(Locale.ROOT), s);
        }
    }

    public static Shape shape(String name) {
        Shape s = SHAPES.get(name.toLowerCase(Locale.ROOT));
        if (s == null) throw new IllegalArgumentException("unknown shape '" + name + "'; known: " + String.join(", ", SHAPES.values().stream().map(Shape::name).toList()));
        return s;
    }

    private record Entry(String name, long[] shape, Fill fill) {
        long elements() {
            long n = 1;
            for (long d : shape) n *= d;
            return n;
        }
    }

    private enum Fill { NORMAL, ONES, ZEROS }

    /**
     * Writes the folder {@code out} (created; written under a temporary name and renamed when complete).
     *
     * @param dtype "f32", "f16" or "bf16"
     * @param tokenizerFrom a model folder whose tokenizer*.json / special_tokens_map.json / tokenizer.model are copied
     */
    public static void write(Shape s, long seed, String dtype, Path out, Path tokenizerFrom, Parallel pool) throws IOException {
        write(s, seed, dtype, out, tokenizerFrom, pool, false);
    }

    /**
     * A model of the same shape whose weights are all zero, stored as a sparse file (the data section is a hole:
     * instant, no disk used). Its logits are all equal, so its perplexity is exactly the vocabulary size — a
     * cheap full-size model for memory checks.
     */
    public static void writeZeros(Shape s, String dtype, Path out, Path tokenizerFrom) throws IOException {
        write(s, 0, dtype, out, tokenizerFrom, null, true);
    }

    private static void write(Shape s, long seed, String dtype, Path out, Path tokenizerFrom, Parallel pool, boolean sparseZeros) throws IOException {
        String st = switch (dtype.toLowerCase(Locale.ROOT)) {
            case "f32" -> "F32";
            case "f16" -> "F16";
            case "bf16" -> "BF16";
            default -> throw new IllegalArgumentException("dtype must be f32, f16 or bf16, got " + dtype);
        };
        int elemBytes = st.equals("F32") ? 4 : 2;
        List<Entry> entries = tensors(s);

        Path parent = out.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Path tmp = Files.createTempDirectory(parent, "." + out.getFileName() + ".tmp");
        try {
            // Header: offsets are known up front, so the data can be streamed right after it.
            ObjectMapper om = new ObjectMapper();
            ObjectNode header = om.createObjectNode();
            header.putObject("__metadata__").put("format", "pt");
            long off = 0;
            for (Entry e : entries) {
                ObjectNode t = header.putObject(e.name());
                t.put("dtype", st);
                var shp = t.putArray("shape");
                for (long d : e.shape()) shp.add(d);
                long bytes = e.elements() * elemBytes;
                t.putArray("data_offsets").add(off).add(off + bytes);
                off += bytes;
            }
            byte[] hb = om.writeValueAsString(header).getBytes(StandardCharsets.UTF_8);
            int pad = (8 - hb.length % 8) % 8;
            try (FileChannel ch = FileChannel.open(tmp.resolve("model.safetensors"), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(hb.length + pad).flip();
                writeFully(ch, len);
                ByteBuffer hbuf = ByteBuffer.allocate(hb.length + pad);
                hbuf.put(hb);
                while (hbuf.hasRemaining()) hbuf.put((byte) ' ');
                writeFully(ch, hbuf.flip());
                if (sparseZeros) {
                    ch.write(ByteBuffer.allocate(1), ch.position() + off - 1); // extends the file, leaving a hole
                } else {
                    for (Entry e : entries) writeTensor(ch, e, st, seed, pool);
                }
            }
            Files.writeString(tmp.resolve("config.json"), configJson(s, om));
            for (String f : List.of("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "tokenizer.model", "generation_config.json")) {
                if (Files.exists(tokenizerFrom.resolve(f))) Files.copy(tokenizerFrom.resolve(f), tmp.resolve(f));
            }
            if (Files.exists(out)) {
                throw new IOException(out + " already exists; remove it or choose another --out");
            }
            Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            if (Files.exists(tmp)) {
                try (var walk = Files.walk(tmp)) {
                    for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
                }
            }
        }
    }

    private static List<Entry> tensors(Shape s) {
        List<Entry> e = new ArrayList<>();
        int hd = s.headDim(), q = s.heads() * hd, kv = s.kvHeads() * hd;
        e.add(new Entry("model.embed_tokens.weight", new long[]{s.vocab(), s.hidden()}, Fill.NORMAL));
        for (int l = 0; l < s.layers(); l++) {
            String p = "model.layers." + l + ".";
            e.add(new Entry(p + "input_layernorm.weight", new long[]{s.hidden()}, Fill.ONES));
            e.add(new Entry(p + "self_attn.q_proj.weight", new long[]{q, s.hidden()}, Fill.NORMAL));
            e.add(new Entry(p + "self_attn.k_proj.weight", new long[]{kv, s.hidden()}, Fill.NORMAL));
            e.add(new Entry(p + "self_attn.v_proj.weight", new long[]{kv, s.hidden()}, Fill.NORMAL));
            if (s.qkvBias()) {
                e.add(new Entry(p + "self_attn.q_proj.bias", new long[]{q}, Fill.ZEROS));
                e.add(new Entry(p + "self_attn.k_proj.bias", new long[]{kv}, Fill.ZEROS));
                e.add(new Entry(p + "self_attn.v_proj.bias", new long[]{kv}, Fill.ZEROS));
            }
            e.add(new Entry(p + "self_attn.o_proj.weight", new long[]{s.hidden(), q}, Fill.NORMAL));
            e.add(new Entry(p + "post_attention_layernorm.weight", new long[]{s.hidden()}, Fill.ONES));
            e.add(new Entry(p + "mlp.gate_proj.weight", new long[]{s.ffn(), s.hidden()}, Fill.NORMAL));
            e.add(new Entry(p + "mlp.up_proj.weight", new long[]{s.ffn(), s.hidden()}, Fill.NORMAL));
            e.add(new Entry(p + "mlp.down_proj.weight", new long[]{s.hidden(), s.ffn()}, Fill.NORMAL));
        }
        e.add(new Entry("model.norm.weight", new long[]{s.hidden()}, Fill.ONES));
        if (!s.tied()) e.add(new Entry("lm_head.weight", new long[]{s.vocab(), s.hidden()}, Fill.NORMAL));
        return e;
    }

    private static final int CHUNK = 1 << 20; // elements generated per task

    private static void writeTensor(FileChannel ch, Entry e, String dtype, long seed, Parallel pool) throws IOException {
        long n = e.elements();
        int elemBytes = dtype.equals("F32") ? 4 : 2;
        long nameHash = e.name().hashCode() * 0x9E3779B97F4A7C15L;
        int group = pool.threads() * 2;
        ByteBuffer[] bufs = new ByteBuffer[group];
        for (long c0 = 0; c0 < n; c0 += (long) CHUNK * group) {
            final long base = c0;
            int tasks = (int) Math.min(group, (n - c0 + CHUNK - 1) / CHUNK);
            pool.forEach(tasks, i -> {
                long start = base + (long) i * CHUNK;
                int len = (int) Math.min(CHUNK, n - start);
                ByteBuffer b = ByteBuffer.allocate(len * elemBytes).order(ByteOrder.LITTLE_ENDIAN);
                SplittableRandom r = new SplittableRandom(seed ^ nameHash ^ (start * 0xBF58476D1CE4E5B9L));
                for (int k = 0; k < len; k++) {
                    float v = switch (e.fill()) {
                        case ONES -> 1f;
                        case ZEROS -> 0f;
                        case NORMAL -> (float) (gaussian(r) * 0.02);
                    };
                    switch (dtype) {
                        case "F32" -> b.putFloat(v);
                        case "F16" -> b.putShort(Float.floatToFloat16(v));
                        default -> b.putShort((short) (Float.floatToRawIntBits(v) + 0x7FFF + ((Float.floatToRawIntBits(v) >>> 16) & 1) >>> 16));
                    }
                }
                bufs[i] = b.flip();
            });
            for (int i = 0; i < tasks; i++) writeFully(ch, bufs[i]);
        }
    }

    /** Box–Muller on two uniforms (one value per call keeps the stream simple and deterministic). */
    private static double gaussian(SplittableRandom r) {
        double u1 = 1.0 - r.nextDouble(), u2 = r.nextDouble();
        return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) ch.write(b);
    }

    private static String configJson(Shape s, ObjectMapper om) {
        ObjectNode c = om.createObjectNode();
        c.putArray("architectures").add(s.modelType().equals("qwen2") ? "Qwen2ForCausalLM" : "LlamaForCausalLM");
        c.put("model_type", s.modelType());
        c.put("hidden_size", s.hidden());
        c.put("intermediate_size", s.ffn());
        c.put("num_hidden_layers", s.layers());
        c.put("num_attention_heads", s.heads());
        c.put("num_key_value_heads", s.kvHeads());
        c.put("head_dim", s.headDim());
        c.put("vocab_size", s.vocab());
        c.put("max_position_embeddings", s.maxPositions());
        c.put("hidden_act", "silu");
        c.put("rms_norm_eps", s.rmsEps());
        c.put("rope_theta", s.ropeTheta());
        c.putNull("rope_scaling");
        c.put("tie_word_embeddings", s.tied());
        c.put("torch_dtype", "float32");
        c.put("bos_token_id", 1);
        c.put("eos_token_id", 2);
        c.put("_featherweight_synthetic", s.name());
        return c.toPrettyString();
    }
}
