package dev.featherweight.kernels.cli;

import dev.featherweight.kernels.SharedData;
import dev.featherweight.kernels.formats.FormatException.Kind;
import dev.featherweight.kernels.formats.gguf.GgufFile;
import dev.featherweight.kernels.formats.gguf.GgufTensorInfo;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 14's acceptance table: damaged copies of feather-3m (config.json, tokenizer.json, the safetensors
 * header and data) and of its golden F32 GGUF (counts, names, dimensions, metadata, data) given to
 * {@code fw quantize} (and {@code fw perplexity} / {@code fw inspect} where they read differently). Every one
 * must exit 1 with one printable line {@code fw CMD: [kind] FILE...: problem} of exactly the expected kind,
 * and nothing may appear in the output folder — not the file, not a temporary, not a lock.
 */
class DamagedModelTest {
    private static final JsonMapper JSON = JsonMapper.builder().build();

    @TempDir
    static Path tmp;

    static Path feather;
    static Path goldenF32;
    static Path tokens;
    /** feather-3m's tensors in file order. */
    static List<Entry> original;

    /** One safetensors tensor: what a header entry says and its bytes. */
    record Entry(String name, String dtype, long[] shape, byte[] data) {
        Entry with(String n, String d, long[] s, byte[] b) {
            return new Entry(n == null ? name : n, d == null ? dtype : d, s == null ? shape : s, b == null ? data : b);
        }
    }

    /** A model folder being damaged: every part editable, written out by {@link #write}. */
    static final class Folder {
        ObjectNode config;
        /** config.json as text, when the damage is to its syntax. */
        String rawConfig;
        String tokenizer;
        List<Entry> tensors = new ArrayList<>(original);
        boolean tensorsChanged;
        /** Raw model.safetensors bytes, when the damage is below the header's level. */
        byte[] raw;

        Folder() throws IOException {
            config = (ObjectNode) JSON.readTree(feather.resolve("config.json").toFile());
            tokenizer = Files.readString(feather.resolve("tokenizer.json"));
        }

        void tensors(Consumer<List<Entry>> edit) {
            edit.accept(tensors);
            tensorsChanged = true;
        }

        Path write(Path dir) throws IOException {
            Files.createDirectories(dir);
            Files.writeString(dir.resolve("config.json"), rawConfig != null ? rawConfig : JSON.writeValueAsString(config));
            Files.writeString(dir.resolve("tokenizer.json"), tokenizer);
            for (String f : List.of("tokenizer_config.json", "special_tokens_map.json")) Files.copy(feather.resolve(f), dir.resolve(f));
            Path st = dir.resolve("model.safetensors");
            if (raw != null) Files.write(st, raw);
            else if (tensorsChanged) Files.write(st, safetensors(tensors));
            else Files.createSymbolicLink(st, feather.resolve("model.safetensors").toAbsolutePath());
            return dir;
        }
    }

    /** A damaged input, the command to give it to, and the kind of refusal expected. */
    record Case(String id, Kind kind, String fileNamed, Damage damage, String command) {
        @Override
        public String toString() {
            return command + " " + id + " -> " + kind.label();
        }
    }

    @FunctionalInterface
    interface Damage {
        /** Builds the damaged model under {@code dir}; returns the path to give to --model. */
        Path make(Path dir) throws IOException;
    }

    @BeforeAll
    static void readOriginals() throws IOException {
        feather = SharedData.demoModel("feather-3m");
        goldenF32 = SharedData.shared("golden/gguf/feather-3m-F32.gguf");
        byte[] st = Files.readAllBytes(feather.resolve("model.safetensors"));
        long headerLen = ByteBuffer.wrap(st, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        JsonNode header = JSON.readTree(new String(st, 8, (int) headerLen, StandardCharsets.UTF_8));
        List<Entry> entries = new ArrayList<>();
        for (Map.Entry<String, JsonNode> e : header.properties()) {
            if (e.getKey().equals("__metadata__")) continue;
            JsonNode v = e.getValue();
            long[] shape = new long[v.get("shape").size()];
            for (int i = 0; i < shape.length; i++) shape[i] = v.get("shape").get(i).asLong();
            int begin = v.get("data_offsets").get(0).asInt(), end = v.get("data_offsets").get(1).asInt();
            entries.add(new Entry(e.getKey(), v.get("dtype").asString(), shape, Arrays.copyOfRange(st, (int) (8 + headerLen + begin), (int) (8 + headerLen + end))));
        }
        original = List.copyOf(entries);
        tokens = tmp.resolve("tokens.u32");
        ByteBuffer bb = ByteBuffer.allocate(200 * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 200; i++) bb.putInt(i == 0 ? 1 : 3 + (i * 37) % 500);
        Files.write(tokens, bb.array());
    }

    /** A safetensors file of these entries, data in list order (a name listed twice is written twice). */
    static byte[] safetensors(List<Entry> entries) {
        StringBuilder h = new StringBuilder("{\"__metadata__\":{\"format\":\"pt\"}");
        long off = 0;
        for (Entry e : entries) {
            h.append(",\"").append(e.name).append("\":{\"dtype\":\"").append(e.dtype).append("\",\"shape\":").append(Arrays.toString(e.shape).replace(" ", ""))
                    .append(",\"data_offsets\":[").append(off).append(',').append(off + e.data.length).append("]}");
            off += e.data.length;
        }
        h.append('}');
        while ((h.length() + 8) % 8 != 0) h.append(' ');
        byte[] hb = h.toString().getBytes(StandardCharsets.UTF_8);
        ByteBuffer bb = ByteBuffer.allocate((int) (8 + hb.length + off)).order(ByteOrder.LITTLE_ENDIAN);
        bb.putLong(hb.length).put(hb);
        for (Entry e : entries) bb.put(e.data);
        return bb.array();
    }

    static int index(List<Entry> l, String name) {
        for (int i = 0; i < l.size(); i++) if (l.get(i).name.equals(name)) return i;
        throw new IllegalArgumentException(name);
    }

    static byte[] floatAt(byte[] data, int element, float v) {
        byte[] c = data.clone();
        ByteBuffer.wrap(c).order(ByteOrder.LITTLE_ENDIAN).putFloat(element * 4, v);
        return c;
    }

    // ---- the Hugging Face folder cases ---------------------------------------------------------------

    static final String GATE0 = "model.layers.0.mlp.gate_proj.weight", Q0 = "model.layers.0.self_attn.q_proj.weight";

    static Case hf(String id, Kind kind, String fileNamed, Consumer<Folder> damage) {
        return hf(id, kind, fileNamed, damage, "quantize");
    }

    static Case hf(String id, Kind kind, String fileNamed, Consumer<Folder> damage, String command) {
        return new Case(id, kind, fileNamed, dir -> {
            Folder f = new Folder();
            damage.accept(f);
            return f.write(dir);
        }, command);
    }

    static Stream<Case> folderCases() {
        return Stream.of(
                // structure of model.safetensors
                hf("header-entry-deleted", Kind.LAYOUT, "model.safetensors", f -> {
                    // the first example: the entry is gone, its bytes stay (every other tensor keeps its offsets)
                    byte[] st = safetensors(original);
                    String header = new String(st, 8, (int) ByteBuffer.wrap(st, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong(), StandardCharsets.UTF_8);
                    int at = header.indexOf(",\"" + GATE0 + "\"");
                    int end = header.indexOf('}', at) + 1;
                    String damaged = header.substring(0, at) + header.substring(end);
                    f.raw = withHeader(st, damaged, header.length());
                }),
                hf("tensor-deleted", Kind.MISSING_TENSOR, "", f -> f.tensors(l -> l.remove(index(l, GATE0)))),
                hf("tensor-duplicated", Kind.DUPLICATE_TENSOR, "model.safetensors", f -> f.tensors(l -> l.add(l.get(index(l, GATE0))))),
                hf("tensor-renamed", Kind.UNKNOWN_TENSOR, "model.safetensors",
                        f -> f.tensors(l -> l.set(index(l, GATE0), l.get(index(l, GATE0)).with("model.layers.0.mlp.gatf_proj.weight", null, null, null)))),
                hf("tensor-extra", Kind.UNKNOWN_TENSOR, "model.safetensors",
                        f -> f.tensors(l -> l.add(new Entry("model.layers.0.mlp.extra.weight", "F32", new long[]{4}, new byte[16])))),
                hf("tensor-reshaped", Kind.SHAPE, "model.safetensors",
                        f -> f.tensors(l -> l.set(index(l, Q0), l.get(index(l, Q0)).with(null, null, new long[]{128, 512}, null)))),
                hf("tensor-zero-dimension", Kind.SHAPE, "model.safetensors",
                        f -> f.tensors(l -> l.set(index(l, Q0), l.get(index(l, Q0)).with(null, null, new long[]{0, 256}, new byte[0])))),
                hf("tensor-dtype", Kind.DTYPE, "model.safetensors",
                        f -> f.tensors(l -> l.set(index(l, Q0), l.get(index(l, Q0)).with(null, "I32", null, null)))),
                hf("tensor-nan", Kind.NON_FINITE, "model.safetensors",
                        f -> f.tensors(l -> l.set(index(l, GATE0), l.get(index(l, GATE0)).with(null, null, null, floatAt(l.get(index(l, GATE0)).data, 1000, Float.NaN))))),
                hf("tensor-inf", Kind.NON_FINITE, "model.safetensors",
                        f -> f.tensors(l -> l.set(0, l.getFirst().with(null, null, null, floatAt(l.getFirst().data, 7, Float.NEGATIVE_INFINITY))))),
                hf("header-length-minus-1", Kind.LAYOUT, "model.safetensors", f -> f.raw = headerLength(-1)),
                hf("header-length-plus-1", Kind.MALFORMED, "model.safetensors", f -> f.raw = headerLength(+1)),
                // config.json
                hf("hidden-size-512", Kind.SHAPE, "model.safetensors", f -> f.config.put("hidden_size", 512)),
                hf("layers-5", Kind.MISSING_TENSOR, "", f -> f.config.put("num_hidden_layers", 5)),
                hf("layers-3", Kind.UNKNOWN_TENSOR, "model.safetensors", f -> f.config.put("num_hidden_layers", 3)),
                hf("layers-2^31-1", Kind.LIMIT, "config.json", f -> f.config.put("num_hidden_layers", Integer.MAX_VALUE)),
                hf("vocab-511", Kind.SHAPE, "model.safetensors", f -> f.config.put("vocab_size", 511)),
                hf("vocab-513", Kind.SHAPE, "model.safetensors", f -> f.config.put("vocab_size", 513)),
                hf("vocab-10^6", Kind.SHAPE, "model.safetensors", f -> f.config.put("vocab_size", 1_000_000)),
                hf("vocab-2147483647", Kind.LIMIT, "config.json", f -> f.config.put("vocab_size", Integer.MAX_VALUE)),
                hf("vocab-2147483647-perplexity", Kind.LIMIT, "config.json", f -> f.config.put("vocab_size", Integer.MAX_VALUE), "perplexity"),
                hf("kv-heads-missing", Kind.SHAPE, "model.safetensors", f -> f.config.remove("num_key_value_heads")),
                hf("kv-heads-3", Kind.CONFIG, "config.json", f -> f.config.put("num_key_value_heads", 3)),
                hf("heads-0", Kind.CONFIG, "config.json", f -> f.config.put("num_attention_heads", 0)),
                hf("hidden-size-0", Kind.CONFIG, "config.json", f -> f.config.put("hidden_size", 0)),
                hf("intermediate-size-missing", Kind.CONFIG, "config.json", f -> f.config.remove("intermediate_size")),
                hf("head-dim-odd", Kind.CONFIG, "config.json", f -> f.config.put("head_dim", 33)),
                hf("eps-negative", Kind.CONFIG, "config.json", f -> f.config.put("rms_norm_eps", -1)),
                hf("eps-string", Kind.CONFIG, "config.json", f -> f.config.put("rms_norm_eps", "1e-5")),
                hf("rope-theta-0", Kind.CONFIG, "config.json", f -> f.config.put("rope_theta", 0)),
                hf("rope-scaling-factor", Kind.CONFIG, "config.json", f -> f.config.putObject("rope_scaling").put("rope_type", "llama3").put("factor", -8)),
                hf("eos-outside-vocab", Kind.CONFIG, "config.json", f -> f.config.put("eos_token_id", 512)),
                hf("tie-string", Kind.CONFIG, "config.json", f -> f.config.put("tie_word_embeddings", "no")),
                hf("config-truncated", Kind.MALFORMED, "config.json", f -> f.rawConfig = JSON.writeValueAsString(f.config).substring(0, 100)),
                // tokenizer.json
                hf("tokenizer-added-token-600", Kind.TOKENIZER, "tokenizer.json", f -> f.tokenizer = addedToken(f.tokenizer, 600)),
                hf("tokenizer-vocab-id-512", Kind.TOKENIZER, "tokenizer.json", f -> f.tokenizer = f.tokenizer.replaceFirst("\"<unk>\": ?0", "\"<unk>\":512")),
                hf("tokenizer-truncated", Kind.MALFORMED, "tokenizer.json", f -> f.tokenizer = f.tokenizer.substring(0, f.tokenizer.length() / 2)),
                // the same damage reaches every entry point
                hf("tensor-nan-perplexity", Kind.NON_FINITE, "model.safetensors",
                        f -> f.tensors(l -> l.set(index(l, GATE0), l.get(index(l, GATE0)).with(null, null, null, floatAt(l.get(index(l, GATE0)).data, 1000, Float.NaN)))),
                        "perplexity"),
                hf("header-length-minus-1-perplexity", Kind.LAYOUT, "model.safetensors", f -> f.raw = headerLength(-1), "perplexity"),
                hf("layers-5-method", Kind.MISSING_TENSOR, "", f -> f.config.put("num_hidden_layers", 5), "quantize-rtn"),
                hf("tensor-renamed-inspect", Kind.UNKNOWN_TENSOR, "model.safetensors",
                        f -> f.tensors(l -> l.set(index(l, GATE0), l.get(index(l, GATE0)).with("model.layers.0.mlp.gatf_proj.weight", null, null, null))),
                        "inspect"));
    }

    static byte[] withHeader(byte[] st, String header, int oldLength) {
        byte[] hb = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer bb = ByteBuffer.allocate(st.length - oldLength + hb.length).order(ByteOrder.LITTLE_ENDIAN);
        bb.putLong(hb.length).put(hb).put(st, 8 + oldLength, st.length - 8 - oldLength);
        return bb.array();
    }

    static byte[] headerLength(int delta) {
        byte[] st = safetensors(original);
        ByteBuffer bb = ByteBuffer.wrap(st).order(ByteOrder.LITTLE_ENDIAN);
        bb.putLong(0, bb.getLong(0) + delta);
        return st;
    }

    static String addedToken(String tokenizer, int id) {
        ObjectNode t = (ObjectNode) JSON.readTree(tokenizer);
        ((ArrayNode) t.get("added_tokens")).addObject().put("id", id).put("content", "<extra>").put("special", true);
        return JSON.writeValueAsString(t);
    }

    // ---- the GGUF cases ------------------------------------------------------------------------------

    static Case gguf(String id, Kind kind, Consumer<byte[]> damage) {
        return gguf(id, kind, damage, "quantize");
    }

    static Case gguf(String id, Kind kind, Consumer<byte[]> damage, String command) {
        return new Case(id, kind, "f3m.gguf", dir -> {
            byte[] b = Files.readAllBytes(goldenF32);
            damage.accept(b);
            Files.createDirectories(dir);
            return Files.write(dir.resolve("f3m.gguf"), b);
        }, command);
    }

    static int find(byte[] b, String s) {
        byte[] k = s.getBytes(StandardCharsets.UTF_8);
        outer:
        for (int i = 0; i + k.length <= b.length; i++) {
            for (int j = 0; j < k.length; j++) if (b[i + j] != k[j]) continue outer;
            return i;
        }
        throw new IllegalArgumentException(s);
    }

    static ByteBuffer le(byte[] b) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Position of the first ne of a tensor info (after its name and dimension count). */
    static int ne(byte[] b, String tensor) {
        return find(b, tensor) + tensor.length() + 4;
    }

    /** Position of a metadata value (after its key and value type). */
    static int value(byte[] b, String key) {
        return find(b, key) + key.length() + 4;
    }

    static Stream<Case> ggufCases() {
        return Stream.of(
                gguf("tensor-count-0", Kind.LAYOUT, b -> le(b).putLong(8, 0)),
                gguf("tensor-count-minus-1", Kind.LAYOUT, b -> le(b).putLong(8, le(b).getLong(8) - 1)),
                gguf("tensor-count-plus-1", Kind.MALFORMED, b -> le(b).putLong(8, le(b).getLong(8) + 1)),
                gguf("name-flipped", Kind.UNKNOWN_TENSOR, b -> b[find(b, "blk.0.ffn_gate.weight") + 13] ^= 1),
                gguf("name-raw-byte", Kind.UNKNOWN_TENSOR, b -> b[find(b, "blk.0.ffn_gate.weight") + 13] = 1),
                gguf("ne-swapped", Kind.SHAPE, b -> {
                    int p = ne(b, "token_embd.weight");
                    long a = le(b).getLong(p), c = le(b).getLong(p + 8);
                    le(b).putLong(p, c).putLong(p + 8, a);
                }),
                gguf("ne-zero", Kind.SHAPE, b -> le(b).putLong(ne(b, "token_embd.weight") + 8, 0)),
                gguf("ne-huge", Kind.MALFORMED, b -> le(b).putLong(ne(b, "token_embd.weight") + 8, 1L << 40)),
                gguf("block-count-5", Kind.MISSING_TENSOR, b -> le(b).putInt(value(b, "llama.block_count"), 5)),
                gguf("block-count-3", Kind.UNKNOWN_TENSOR, b -> le(b).putInt(value(b, "llama.block_count"), 3)),
                gguf("block-count-2^31-1", Kind.LIMIT, b -> le(b).putInt(value(b, "llama.block_count"), Integer.MAX_VALUE)),
                gguf("embedding-length-512", Kind.SHAPE, b -> le(b).putInt(value(b, "llama.embedding_length"), 512)),
                gguf("vocab-size-511", Kind.TOKENIZER, b -> le(b).putInt(value(b, "llama.vocab_size"), 511)),
                gguf("eps-negative", Kind.CONFIG, b -> le(b).putFloat(value(b, "llama.attention.layer_norm_rms_epsilon"), -1f)),
                gguf("eps-nan", Kind.CONFIG, b -> le(b).putFloat(value(b, "llama.attention.layer_norm_rms_epsilon"), Float.NaN)),
                gguf("data-nan", Kind.NON_FINITE, b -> le(b).putFloat(dataOf("blk.1.ffn_down.weight") + 4 * 300, Float.NaN)),
                gguf("data-nan-perplexity", Kind.NON_FINITE, b -> le(b).putFloat(dataOf("blk.1.ffn_down.weight") + 4 * 300, Float.NaN), "perplexity"),
                gguf("tensor-count-minus-1-perplexity", Kind.LAYOUT, b -> le(b).putLong(8, le(b).getLong(8) - 1), "perplexity"),
                gguf("name-raw-byte-inspect", Kind.UNKNOWN_TENSOR, b -> b[find(b, "blk.0.ffn_gate.weight") + 13] = 1, "inspect"),
                gguf("offset-shifted", Kind.LAYOUT, b -> {
                    int p = ne(b, "blk.0.ffn_gate.weight") + 16 + 4; // 2 dims, then the type
                    le(b).putLong(p, le(b).getLong(p) + 32);
                }));
    }

    static int dataOf(String tensor) {
        try (GgufFile g = GgufFile.open(goldenF32)) {
            GgufTensorInfo t = g.tensorInfo(tensor);
            return (int) (g.dataOffset() + t.offset());
        }
    }

    static Stream<Case> cases() {
        return Stream.concat(folderCases(), ggufCases());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void damagedModelIsRefusedWithOneTypedLineAndNothingWritten(Case c) throws IOException {
        Path dir = tmp.resolve(c.command + "-" + c.id.replaceAll("[^A-Za-z0-9-]", "_"));
        Path model = c.damage.make(dir);
        Path outDir = Files.createDirectories(tmp.resolve("out-" + dir.getFileName()));
        String[] args = switch (c.command) {
            case "quantize" -> new String[]{"quantize", "--model", model.toString(), "--type", "Q8_0", "--out", outDir.resolve("m.gguf").toString()};
            case "quantize-rtn" -> new String[]{"quantize", "--model", model.toString(), "--method", "rtn", "--out", outDir.resolve("rtn").toString()};
            case "perplexity" -> new String[]{"perplexity", "--model", model.toString(), "--tokens", tokens.toString(), "--ctx", "64", "--chunks", "1"};
            case "inspect" -> new String[]{"inspect", model.toString()};
            default -> throw new IllegalArgumentException(c.command);
        };
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        PrintStream oldOut = System.out, oldErr = System.err;
        int code;
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            code = Fw.run(args);
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
        String message = err.toString(StandardCharsets.UTF_8);
        System.out.println(c.id + ": " + message.strip());
        String command = c.command.startsWith("quantize") ? "quantize" : c.command;
        assertThat(code).as(c + ": " + message).isEqualTo(1);
        assertThat(out.size()).as(c + ": nothing on stdout").isZero();
        assertThat(message).as(c.toString()).startsWith("fw " + command + ": [" + c.kind.label() + "] " + dir);
        assertThat(message).as(c.toString()).contains(c.fileNamed);
        assertThat(message.strip()).as(c + ": one line").doesNotContain("\n");
        assertThat(message.chars().filter(ch -> ch < 0x20 && ch != '\n')).as(c + ": printable").isEmpty();
        try (var s = Files.list(outDir)) {
            assertThat(s.toList()).as(c + ": nothing written beside --out").isEmpty();
        }
    }
}
