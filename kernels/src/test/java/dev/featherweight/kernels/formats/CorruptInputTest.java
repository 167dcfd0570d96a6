package dev.featherweight.kernels.formats;

import dev.featherweight.kernels.SharedData;
import dev.featherweight.kernels.formats.gguf.GgufFile;
import dev.featherweight.kernels.formats.hf.LlamaConfig;
import dev.featherweight.kernels.formats.safetensors.SafetensorsFile;
import dev.featherweight.kernels.formats.safetensors.SafetensorsModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * The acceptance table for bad input: every damaged file fails with a {@link FormatException} whose
 * message names the file, the tensor (when one is at fault) and the problem — never an index error,
 * an OutOfMemoryError or a hang.
 */
class CorruptInputTest {
    @TempDir
    static Path tmp;

    /** A damaged input: its file name, bytes, the tensor that must be named (or null) and the problem text. */
    record Case(String file, byte[] bytes, String tensor, String problem) {
        @Override
        public String toString() {
            return file + " -> " + problem;
        }
    }

    // ---- safetensors -------------------------------------------------------------------------------

    static byte[] safetensors(String header, int dataBytes) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).put(h).array();
    }

    static byte[] headerLength(long len, int total) {
        return ByteBuffer.allocate(total).order(ByteOrder.LITTLE_ENDIAN).putLong(len).array();
    }

    static String f32(String name, String shape, long begin, long end) {
        return "\"" + name + "\":{\"dtype\":\"F32\",\"shape\":" + shape + ",\"data_offsets\":[" + begin + "," + end + "]}";
    }

    static Stream<Case> safetensorsCases() {
        return Stream.of(
                new Case("short.safetensors", new byte[]{1, 2, 3}, null, "truncated"),
                new Case("empty.safetensors", new byte[0], null, "truncated"),
                new Case("past.safetensors", headerLength(1000, 16), null, "header length 1000 runs past the end of the file"),
                new Case("huge.safetensors", headerLength(Long.MAX_VALUE, 16), null, "runs past the end of the file"),
                new Case("negative.safetensors", headerLength(-5, 16), null, "not plausible"),
                new Case("json.safetensors", safetensors("{\"a\": [", 0), null, "malformed header JSON"),
                new Case("array.safetensors", safetensors("[1, 2]", 0), null, "header is not a JSON object"),
                new Case("utf8.safetensors", safetensors("{\"\u00ff\u00fe\":1}", 0), "\u00ff\u00fe", "not an object"),
                new Case("range.safetensors", safetensors("{" + f32("w", "[4]", 0, 16) + "}", 8), "w", "out of range"),
                new Case("negoff.safetensors", safetensors("{" + f32("w", "[1]", -4, 0) + "}", 8), "w", "out of range"),
                new Case("reversed.safetensors", safetensors("{" + f32("w", "[1]", 8, 4) + "}", 8), "w", "out of range"),
                new Case("mismatch.safetensors", safetensors("{\"w\":{\"dtype\":\"F16\",\"shape\":[4],\"data_offsets\":[0,16]}}", 16), "w",
                        "holds 16 bytes but dtype F16 x shape [4] needs 8"),
                new Case("overlap.safetensors", safetensors("{" + f32("a", "[4]", 0, 16) + "," + f32("b", "[2]", 8, 16) + "}", 16), "b",
                        "overlap tensor 'a'"),
                new Case("dtype.safetensors", safetensors("{\"w\":{\"dtype\":\"F8_E9\",\"shape\":[4],\"data_offsets\":[0,4]}}", 4), "w",
                        "unsupported dtype 'F8_E9'"),
                new Case("nodtype.safetensors", safetensors("{\"w\":{\"shape\":[4],\"data_offsets\":[0,16]}}", 16), "w", "missing dtype"),
                new Case("noshape.safetensors", safetensors("{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,16]}}", 16), "w", "missing shape"),
                new Case("negshape.safetensors", safetensors("{" + f32("w", "[-4]", 0, 16) + "}", 16), "w", "invalid dimension"),
                new Case("bigshape.safetensors", safetensors("{" + f32("w", "[99999999999999999999999]", 0, 16) + "}", 16), "w", "invalid dimension"),
                new Case("overflow.safetensors", safetensors("{" + f32("w", "[4611686018427387904,4]", 0, 4) + "}", 4), "w", "overflows"),
                new Case("offsets.safetensors", safetensors("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 4), "w",
                        "data_offsets must be [begin, end]"),
                new Case("dup.safetensors", safetensors("{" + f32("w", "[1]", 0, 4) + "," + f32("w", "[1]", 4, 8) + "}", 8), null,
                        "Duplicate"),
                new Case("meta.safetensors", safetensors("{\"__metadata__\":{\"format\":7}}", 0), null, "__metadata__ value of 'format' is not a string"),
                new Case("entry.safetensors", safetensors("{\"w\":[1,2]}", 0), "w", "header entry is not an object"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("safetensorsCases")
    void damagedSafetensorsAreNamed(Case c) throws IOException {
        Path p = write(c);
        expect(() -> SafetensorsFile.open(p), c);
        // The in-memory entry point (used by the fuzzer) says the same.
        expect(() -> SafetensorsFile.read(p, java.lang.foreign.MemorySegment.ofArray(c.bytes)), c);
    }

    @Test
    void truncatedCopiesOfARealSafetensorsFileFailAtEveryCut() throws IOException {
        byte[] real = Files.readAllBytes(SharedData.demoModel("stories260K").resolve("model.safetensors"));
        long headerLen = ByteBuffer.wrap(real, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        for (int cut : new int[]{0, 7, 8, 20, (int) headerLen, (int) headerLen + 8, (int) headerLen + 100, real.length / 2, real.length - 1}) {
            Path p = tmp.resolve("cut" + cut + ".safetensors");
            Files.write(p, Arrays.copyOf(real, cut));
            FormatException e = catchThrowableOfType(FormatException.class, () -> SafetensorsFile.open(p));
            assertThat(e).as("cut at " + cut).isNotNull();
            assertThat(e.getMessage()).contains(p.getFileName().toString());
            // Past the header, the cut always lands inside some tensor's data: that tensor is named.
            if (cut >= headerLen + 8) assertThat(e.tensor()).as("cut at " + cut).isNotNull();
        }
    }

    // ---- GGUF --------------------------------------------------------------------------------------

    /** Builds GGUF bytes field by field (little-endian), as gguf.cpp reads them. */
    static final class Gguf {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Gguf u32(long v) {
            return raw(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) v).array());
        }

        Gguf u64(long v) {
            return raw(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array());
        }

        Gguf str(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            return u64(b.length).raw(b);
        }

        Gguf raw(byte[] b) {
            out.writeBytes(b);
            return this;
        }

        Gguf header(int version, long tensors, long kvs) {
            return u32(GgufFile.MAGIC).u32(version).u64(tensors).u64(kvs);
        }

        /** A tensor info: name, dims (ggml order), ggml type id, offset. */
        Gguf tensor(String name, long[] ne, int type, long offset) {
            str(name).u32(ne.length);
            for (long d : ne) u64(d);
            return u32(type).u64(offset);
        }

        /** Pads to 32 and appends {@code data} bytes of data section. */
        byte[] withData(int data) {
            int pad = (32 - out.size() % 32) % 32;
            raw(new byte[pad + data]);
            return out.toByteArray();
        }

        byte[] bytes() {
            return out.toByteArray();
        }
    }

    static Stream<Case> ggufCases() {
        return Stream.of(
                new Case("magic.gguf", new byte[32], null, "bad magic"),
                new Case("tiny.gguf", new byte[]{'G', 'G'}, null, "bad magic"),
                new Case("v1.gguf", new Gguf().header(1, 0, 0).bytes(), null, "unsupported GGUF version 1"),
                new Case("v4.gguf", new Gguf().header(4, 0, 0).bytes(), null, "unsupported GGUF version 4"),
                new Case("nohdr.gguf", new Gguf().u32(GgufFile.MAGIC).u32(3).u32(0).bytes(), null, "truncated"),
                new Case("tcount.gguf", new Gguf().header(3, Long.MAX_VALUE, 0).bytes(), null, "tensor count"),
                new Case("tneg.gguf", new Gguf().header(3, -1, 0).bytes(), null, "tensor count 18446744073709551615"),
                new Case("kvcount.gguf", new Gguf().header(3, 0, 1L << 40).bytes(), null, "metadata count"),
                new Case("strlen.gguf", new Gguf().header(3, 0, 1).str("general.name").u32(8).u64(1L << 40).raw(new byte[32]).bytes(), null,
                        "string length 1099511627776 of general.name at offset"),
                new Case("keylen.gguf", new Gguf().header(3, 0, 1).u64(-2).raw(new byte[32]).bytes(), null, "runs past the end of the file"),
                new Case("vtype.gguf", new Gguf().header(3, 0, 1).str("general.x").u32(13).raw(new byte[16]).bytes(), null,
                        "metadata 'general.x' has unknown value type 13"),
                new Case("atype.gguf", new Gguf().header(3, 0, 1).str("tokenizer.ggml.x").u32(9).u32(42).u64(1).raw(new byte[16]).bytes(), null,
                        "'tokenizer.ggml.x' is an array of unknown type 42"),
                new Case("nested.gguf", new Gguf().header(3, 0, 1).str("a").u32(9).u32(9).u64(1).raw(new byte[16]).bytes(), null, "array of arrays"),
                new Case("acount.gguf", new Gguf().header(3, 0, 1).str("tokenizer.ggml.tokens").u32(9).u32(8).u64(1L << 50).raw(new byte[64]).bytes(), null,
                        "'tokenizer.ggml.tokens' claims 1125899906842624 elements"),
                new Case("atrunc.gguf", new Gguf().header(3, 0, 1).str("tokenizer.ggml.scores").u32(9).u32(6).u64(4).u32(0).u32(0).bytes(), null,
                        "'tokenizer.ggml.scores' claims 4 elements"),
                new Case("bool.gguf", new Gguf().header(3, 0, 1).str("general.b").u32(7).raw(new byte[]{5}).bytes(), null, "bool value 5"),
                new Case("dupkey.gguf", new Gguf().header(3, 0, 2).str("k").u32(4).u32(1).str("k").u32(4).u32(2).bytes(), null,
                        "duplicate metadata key 'k'"),
                new Case("align.gguf", new Gguf().header(3, 0, 1).str("general.alignment").u32(4).u32(48).bytes(), null, "not a power of two"),
                new Case("aligntype.gguf", new Gguf().header(3, 0, 1).str("general.alignment").u32(5).u32(32).bytes(), null,
                        "general.alignment must be UINT32"),
                new Case("typeid.gguf", new Gguf().header(3, 1, 0).tensor("blk.0.attn_q.weight", new long[]{32, 4}, 77, 0).withData(64),
                        "blk.0.attn_q.weight", "unknown ggml type id 77"),
                new Case("removed.gguf", new Gguf().header(3, 1, 0).tensor("blk.0.ffn_up.weight", new long[]{32, 4}, 4, 0).withData(64),
                        "blk.0.ffn_up.weight", "unknown ggml type id 4"),
                new Case("block.gguf", new Gguf().header(3, 1, 0).tensor("blk.0.ffn_down.weight", new long[]{100, 2}, 2, 0).withData(256),
                        "blk.0.ffn_down.weight", "row length 100 is not a multiple of the Q4_0 block size 32"),
                new Case("kblock.gguf", new Gguf().header(3, 1, 0).tensor("output.weight", new long[]{128, 2}, 12, 0).withData(512),
                        "output.weight", "not a multiple of the Q4_K block size 256"),
                new Case("dims.gguf", new Gguf().header(3, 1, 0).tensor("w", new long[]{1, 1, 1, 1, 1}, 0, 0).withData(32), "w", "5 dimensions"),
                new Case("negne.gguf", new Gguf().header(3, 1, 0).tensor("w", new long[]{4, -1}, 0, 0).withData(32), "w", "is negative"),
                new Case("nebig.gguf", new Gguf().header(3, 1, 0).tensor("w", new long[]{1L << 40, 1L << 40}, 0, 0).withData(32), "w", "overflow"),
                new Case("offset.gguf", new Gguf().header(3, 1, 0).tensor("token_embd.weight", new long[]{32}, 0, 4096).withData(128),
                        "token_embd.weight", "runs past the end of the data section (128 bytes)"),
                new Case("misaligned.gguf", new Gguf().header(3, 1, 0).tensor("w", new long[]{4}, 0, 8).withData(64), "w",
                        "not a multiple of the alignment 32"),
                new Case("overlap2.gguf", new Gguf().header(3, 2, 0).tensor("a", new long[]{64}, 0, 0).tensor("b", new long[]{8}, 0, 32).withData(256),
                        "b", "overlaps tensor 'a'"),
                new Case("dupname.gguf", new Gguf().header(3, 2, 0).tensor("a", new long[]{8}, 0, 0).tensor("a", new long[]{8}, 0, 32).withData(64),
                        "a", "duplicate tensor name"),
                new Case("longname.gguf", new Gguf().header(3, 1, 0).tensor("x".repeat(64), new long[]{8}, 0, 0).withData(64),
                        "x".repeat(64), "at most 63"),
                new Case("nodata.gguf", new Gguf().header(3, 1, 0).tensor("w", new long[]{8}, 0, 0).bytes(), "w", "past the end of the data section"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("ggufCases")
    void damagedGgufFilesAreNamed(Case c) throws IOException {
        Path p = write(c);
        expect(() -> GgufFile.open(p), c);
    }

    @Test
    void truncatedCopiesOfARealGgufFileFailAtEveryCut() throws IOException {
        Path golden = SharedData.shared("golden/gguf/feather-3m-Q4_K_M.gguf");
        byte[] real = Files.readAllBytes(golden);
        long dataEnd;
        try (GgufFile g = GgufFile.open(golden)) {
            dataEnd = g.dataOffset() + g.tensorInfos().stream().mapToLong(t -> t.offset() + t.bytes()).max().orElseThrow();
        }
        // Every cut before the end of the last tensor's data (what follows is alignment padding) must fail.
        java.util.List<Long> cuts = new java.util.ArrayList<>();
        for (long cut = 0; cut < dataEnd; cut += cut < 4096 ? 7 : 99_991) cuts.add(cut);
        cuts.add(dataEnd - 1);
        for (long cut : cuts) {
            Path p = tmp.resolve("cut.gguf");
            Files.write(p, Arrays.copyOf(real, (int) cut));
            assertThatThrownBy(() -> GgufFile.open(p)).as("cut at " + cut).isInstanceOf(FormatException.class)
                    .hasMessageStartingWith(p.toString());
        }
    }

    @Test
    void ggufOfAnotherArchitectureIsRefusedByName() throws IOException {
        Path p = tmp.resolve("gpt2.gguf");
        Files.write(p, new Gguf().header(3, 0, 1).str("general.architecture").u32(8).str("gpt2").bytes());
        try (GgufFile g = GgufFile.open(p)) {
            assertThatThrownBy(() -> LlamaConfig.fromGguf(g)).isInstanceOf(FormatException.class)
                    .hasMessageContaining("gpt2.gguf").hasMessageContaining("unsupported architecture 'gpt2'");
        }
        Path q = tmp.resolve("mistyped.gguf");
        Files.write(q, new Gguf().header(3, 0, 2).str("general.architecture").u32(8).str("llama")
                .str("llama.embedding_length").u32(8).str("4096").bytes());
        try (GgufFile g = GgufFile.open(q)) {
            assertThatThrownBy(() -> LlamaConfig.fromGguf(g)).isInstanceOf(FormatException.class)
                    .hasMessageContaining("mistyped.gguf").hasMessageContaining("'llama.embedding_length' must be a positive integer, is STRING");
        }
    }

    // ---- Hugging Face folders and config.json ------------------------------------------------------

    @Test
    void shardIndexProblemsNameTheShardAndTheTensor() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("sharded"));
        Files.writeString(dir.resolve(SafetensorsModel.INDEX),
                "{\"weight_map\":{\"model.norm.weight\":\"model-00001-of-00002.safetensors\"}}");
        assertThatThrownBy(() -> SafetensorsModel.open(dir)).isInstanceOf(FormatException.class)
                .hasMessageContaining("model-00001-of-00002.safetensors").hasMessageContaining("'model.norm.weight'").hasMessageContaining("missing");

        Files.write(dir.resolve("model-00001-of-00002.safetensors"), safetensors("{" + f32("other", "[1]", 0, 4) + "}", 4));
        assertThatThrownBy(() -> SafetensorsModel.open(dir)).isInstanceOf(FormatException.class)
                .hasMessageContaining("model-00001-of-00002.safetensors").hasMessageContaining("'model.norm.weight'")
                .hasMessageContaining("listed in model.safetensors.index.json but not in this shard");

        Files.writeString(dir.resolve(SafetensorsModel.INDEX), "{\"weight_map\":{\"w\":\"../escape.safetensors\"}}");
        assertThatThrownBy(() -> SafetensorsModel.open(dir)).isInstanceOf(FormatException.class)
                .hasMessageContaining("'w'").hasMessageContaining("leaves the model folder");

        Files.writeString(dir.resolve(SafetensorsModel.INDEX), "{\"weight_map\": [");
        assertThatThrownBy(() -> SafetensorsModel.open(dir)).isInstanceOf(FormatException.class)
                .hasMessageContaining(SafetensorsModel.INDEX).hasMessageContaining("malformed index JSON");

        Files.writeString(dir.resolve(SafetensorsModel.INDEX), "{\"metadata\": {}}");
        assertThatThrownBy(() -> SafetensorsModel.open(dir)).isInstanceOf(FormatException.class).hasMessageContaining("no weight_map");
    }

    static Stream<List<String>> configCases() {
        String base = "\"hidden_size\":64,\"intermediate_size\":128,\"num_hidden_layers\":2,\"num_attention_heads\":4,\"vocab_size\":32";
        return Stream.of(
                List.of("{\"model_type\":\"gpt_neox\"," + base + "}", "unsupported architecture 'gpt_neox'"),
                List.of("{\"architectures\":[\"FalconForCausalLM\"]," + base + "}", "unsupported architecture 'FalconForCausalLM'"),
                List.of("{\"model_type\":\"llama\",\"hidden_size\":64}", "missing or invalid 'num_attention_heads'"),
                List.of("{\"model_type\":\"llama\"," + base.replace("\"hidden_size\":64", "\"hidden_size\":\"64\"") + "}", "missing or invalid 'hidden_size'"),
                List.of("{\"model_type\":\"llama\",\"num_key_value_heads\":3," + base + "}", "not a multiple of num_key_value_heads 3"),
                List.of("{\"model_type\":\"llama\",\"num_key_value_heads\":0," + base + "}", "missing or invalid 'num_key_value_heads'"),
                List.of("{\"model_type\":\"llama\",\"rope_scaling\":{\"rope_type\":\"yarn\",\"factor\":4}," + base + "}", "unsupported rope_scaling type 'yarn'"),
                List.of("{\"model_type\":\"llama\"," + base.replace("\"num_attention_heads\":4", "\"num_attention_heads\":5") + "}",
                        "hidden_size 64 is not a multiple of num_attention_heads 5"),
                List.of("[]", "not a JSON object"),
                List.of("{\"model_type\":", "malformed JSON"));
    }

    @ParameterizedTest
    @MethodSource("configCases")
    void badConfigsAreRefusedWithTheReason(List<String> c) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("cfg" + Math.abs(c.getFirst().hashCode())));
        Files.writeString(dir.resolve("config.json"), c.getFirst());
        assertThatThrownBy(() -> LlamaConfig.read(dir)).isInstanceOf(FormatException.class)
                .hasMessageContaining(dir.resolve("config.json").toString()).hasMessageContaining(c.get(1));
    }

    @Test
    void modelFilesRefusesWhatItCannotOpen() throws IOException {
        Path txt = Files.writeString(tmp.resolve("weights.bin"), "x");
        assertThatThrownBy(() -> ModelFiles.open(txt)).isInstanceOf(FormatException.class).hasMessageContaining("weights.bin").hasMessageContaining("unknown model format");
        Path empty = Files.createDirectories(tmp.resolve("empty-folder"));
        assertThatThrownBy(() -> ModelFiles.open(empty)).isInstanceOf(FormatException.class).hasMessageContaining("empty-folder");
        assertThatThrownBy(() -> ModelFiles.open(tmp.resolve("absent.gguf"))).isInstanceOf(FormatException.class).hasMessageContaining("absent.gguf");
    }

    // ---- helpers -----------------------------------------------------------------------------------

    private static Path write(Case c) throws IOException {
        Path p = tmp.resolve(c.file);
        Files.write(p, c.bytes);
        return p;
    }

    private static void expect(org.assertj.core.api.ThrowableAssert.ThrowingCallable open, Case c) {
        FormatException e = catchThrowableOfType(FormatException.class, open);
        assertThat(e).as(c.toString()).isNotNull();
        assertThat(e.getMessage()).as(c.toString()).contains(c.file).contains(c.problem);
        assertThat(e.tensor()).as(c.toString()).isEqualTo(c.tensor);
        // the parsers' refusals are malformed input, but for the two that have their own kind
        FormatException.Kind kind = c.problem.contains("overlap") ? FormatException.Kind.LAYOUT
                : c.problem.equals("Duplicate") ? FormatException.Kind.DUPLICATE_TENSOR : FormatException.Kind.MALFORMED;
        assertThat(e.kind()).as(c.toString()).isEqualTo(kind);
        if (c.tensor != null) assertThat(e.getMessage()).contains("tensor '" + c.tensor + "'");
    }
}
