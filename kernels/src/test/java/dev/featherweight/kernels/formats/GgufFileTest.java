package dev.featherweight.kernels.formats;

import dev.featherweight.kernels.core.Tensor;
import dev.featherweight.kernels.SharedData;
import dev.featherweight.kernels.formats.gguf.GgufFile;
import dev.featherweight.kernels.formats.gguf.GgufTensorInfo;
import dev.featherweight.kernels.formats.gguf.GgufValue;
import dev.featherweight.kernels.formats.hf.LlamaConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Reads every golden llama.cpp GGUF file and checks it against the reference run's own listing (.inspect.json). */
class GgufFileTest {
    @TempDir
    Path tmp;

    static List<Path> goldenFiles() throws IOException {
        List<Path> out = new ArrayList<>();
        for (Path dir : List.of(SharedData.shared("golden/gguf"), SharedData.shared("golden/gguf/synth256"))) {
            try (Stream<Path> s = Files.list(dir)) {
                s.filter(p -> p.toString().endsWith(".gguf")).sorted().forEach(out::add);
            }
        }
        return out;
    }

    @Test
    void everyGoldenFileMatchesItsListing() throws Exception {
        List<Path> files = goldenFiles();
        assertThat(files).hasSizeGreaterThan(30);
        JsonMapper json = JsonMapper.builder().build();
        for (Path f : files) {
            String name = f.getFileName().toString();
            Path inspect = f.resolveSibling(name.substring(0, name.length() - 5) + ".inspect.json");
            JsonNode ref = json.readTree(inspect.toFile());
            try (GgufFile g = GgufFile.open(f)) {
                assertThat(g.version()).isEqualTo(3);
                assertThat(g.tensorInfos()).as(name).hasSize(ref.get("n_tensors").asInt());
                // KVs: the listing starts with three pseudo-entries (GGUF.version, tensor_count, kv_count).
                List<String> refKeys = new ArrayList<>();
                for (JsonNode kv : ref.get("kv")) if (!kv.get("key").asString().startsWith("GGUF.")) refKeys.add(kv.get("key").asString());
                assertThat(new ArrayList<>(g.metadata().keySet())).as(name).isEqualTo(refKeys);
                for (JsonNode kv : ref.get("kv")) {
                    String key = kv.get("key").asString();
                    if (key.equals("GGUF.version")) assertThat(g.version()).isEqualTo(kv.get("value").asInt());
                    if (key.equals("GGUF.tensor_count")) assertThat(g.tensorInfos()).hasSize(kv.get("value").asInt());
                    if (key.equals("GGUF.kv_count")) assertThat(g.metadata()).hasSize(kv.get("value").asInt());
                    if (key.startsWith("GGUF.")) continue;
                    GgufValue v = g.get(key);
                    String type = v.elementType() == null ? v.type().name() : v.type().name() + "/" + v.elementType().name();
                    assertThat(type).as(name + " " + key).isEqualTo(kv.get("type").asString());
                    if (kv.get("value").isNumber()) assertThat(v.asDouble()).as(key).isEqualTo(kv.get("value").asDouble());
                    if (kv.get("value").isBoolean()) assertThat(v.asBoolean()).as(key).isEqualTo(kv.get("value").asBoolean());
                    if (v.elementType() != null) {
                        // The listing abbreviates arrays to "[N items]".
                        assertThat(kv.get("value").asString()).as(key).isEqualTo("[" + v.asList().size() + " items]");
                    } else if (kv.get("value").isString()) {
                        assertThat(v.asString()).as(key).isEqualTo(kv.get("value").asString());
                    }
                }
                long tensorBytes = 0;
                for (JsonNode t : ref.get("tensors")) {
                    GgufTensorInfo info = g.tensorInfo(t.get("name").asString());
                    assertThat(info.type().name()).as(info.name()).isEqualTo(t.get("type").asString());
                    List<Long> ne = new ArrayList<>();
                    t.get("ne").forEach(d -> ne.add(d.asLong()));
                    assertThat(info.ne()).as(info.name()).containsExactly(ne.stream().mapToLong(Long::longValue).toArray());
                    // The listing (gguf-py's reader) gives absolute file offsets; GGUF stores them relative to the data section.
                    assertThat(g.dataOffset() + info.offset()).as(info.name()).isEqualTo(t.get("offset").asLong());
                    assertThat(info.bytes()).isEqualTo(t.get("nbytes").asLong());
                    Tensor tensor = g.tensor(info.name());
                    assertThat(sha256(tensor)).as(name + " " + info.name()).isEqualTo(t.get("sha256").asString());
                    tensorBytes += info.bytes();
                }
                assertThat(tensorBytes).isEqualTo(ref.get("tensor_bytes").asLong());
            }
        }
    }

    @Test
    void stringArraysHoldTheVocabularyOfTokenizerJson() throws IOException {
        JsonNode vocab = JsonMapper.builder().build().readTree(SharedData.demoModel("feather-3m").resolve("tokenizer.json").toFile())
                .get("model").get("vocab");
        String[] byId = new String[vocab.size()];
        for (Map.Entry<String, JsonNode> e : vocab.properties()) byId[e.getValue().asInt()] = e.getKey();
        try (GgufFile g = GgufFile.open(SharedData.shared("golden/gguf/feather-3m-F32.gguf"))) {
            GgufValue tokens = g.get("tokenizer.ggml.tokens");
            assertThat(tokens.elementType()).isEqualTo(dev.featherweight.kernels.formats.gguf.GgufValueType.STRING);
            assertThat(tokens.asList()).containsExactly((Object[]) byId);
            GgufValue types = g.get("tokenizer.ggml.token_type");
            assertThat(types.elementType()).isEqualTo(dev.featherweight.kernels.formats.gguf.GgufValueType.INT32);
            // Token types: 3 = control for <unk>, <s>, </s> (convert_hf_to_gguf.py marks tokenizer_config's special added
            // tokens as control, overriding SentencePiece's "unknown" for <unk>), 6 = byte (<0x00>…), 1 = normal.
            assertThat(types.asList().subList(0, 4)).containsExactly(3, 3, 3, 6);
            assertThat(types.asList().get(3 + 256)).isEqualTo(1);
        }
    }

    @Test
    void versionTwoAndEveryValueTypeKeepTheirExactTypeAndOrder() throws IOException {
        for (int version : new int[]{2, 3}) {
            CorruptInputTest.Gguf b = new CorruptInputTest.Gguf().header(version, 1, 14);
            b.str("u8").u32(0).raw(new byte[]{(byte) 200});
            b.str("i8").u32(1).raw(new byte[]{(byte) -100});
            b.str("u16").u32(2).raw(new byte[]{(byte) 0xFF, (byte) 0xFF});
            b.str("i16").u32(3).raw(new byte[]{(byte) 0x00, (byte) 0x80});
            b.str("u32").u32(4).u32(0xFFFF_FFFFL);
            b.str("i32").u32(5).u32(-7);
            b.str("f32").u32(6).u32(Float.floatToIntBits(0.25f));
            b.str("bool").u32(7).raw(new byte[]{1});
            b.str("str").u32(8).str("héllo");
            b.str("u64").u32(10).u64(-1L);
            b.str("i64").u32(11).u64(-1L);
            b.str("f64").u32(12).u64(Double.doubleToLongBits(-2.5));
            b.str("strs").u32(9).u32(8).u64(3).str("a").str("").str("ß");
            b.str("general.alignment").u32(4).u32(64);
            b.tensor("w", new long[]{32, 2}, 8, 0); // Q8_0, 2 rows of 34 bytes
            byte[] head = b.bytes();
            byte[] file = java.util.Arrays.copyOf(head, (head.length + 63) / 64 * 64 + 68);
            file[file.length - 1] = 42;
            Path p = tmp.resolve("v" + version + ".gguf");
            Files.write(p, file);
            try (GgufFile g = GgufFile.open(p)) {
                assertThat(g.version()).isEqualTo(version);
                assertThat(g.metadata().keySet()).containsExactly("u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "str", "u64", "i64",
                        "f64", "strs", "general.alignment");
                Map<String, GgufValue> m = g.metadata();
                assertThat(m.get("u8")).isEqualTo(GgufValue.of(dev.featherweight.kernels.formats.gguf.GgufValueType.UINT8, 200));
                assertThat(m.get("i8").value()).isEqualTo(-100);
                assertThat(m.get("u16").value()).isEqualTo(65535);
                assertThat(m.get("i16").value()).isEqualTo(-32768);
                assertThat(m.get("u32")).isEqualTo(GgufValue.uint32(0xFFFF_FFFFL));
                assertThat(m.get("i32")).isEqualTo(GgufValue.of(dev.featherweight.kernels.formats.gguf.GgufValueType.INT32, -7));
                assertThat(m.get("f32")).isEqualTo(GgufValue.float32(0.25f));
                assertThat(m.get("bool")).isEqualTo(GgufValue.bool(true));
                assertThat(m.get("str")).isEqualTo(GgufValue.string("héllo"));
                assertThat(m.get("u64").type()).isEqualTo(dev.featherweight.kernels.formats.gguf.GgufValueType.UINT64);
                assertThat(m.get("u64").value()).isEqualTo(-1L); // raw bits of 2^64-1
                assertThat(m.get("i64").type()).isEqualTo(dev.featherweight.kernels.formats.gguf.GgufValueType.INT64);
                assertThat(m.get("f64").value()).isEqualTo(-2.5);
                assertThat(m.get("strs")).isEqualTo(GgufValue.array(dev.featherweight.kernels.formats.gguf.GgufValueType.STRING, List.of("a", "", "ß")));
                assertThat(g.alignment()).isEqualTo(64);
                assertThat(g.dataOffset()).isEqualTo((head.length + 63) / 64 * 64);
                Tensor w = g.tensor("w");
                assertThat(w.shape()).containsExactly(2, 32);
                assertThat(w.data().byteSize()).isEqualTo(68);
                assertThat(w.data().get(java.lang.foreign.ValueLayout.JAVA_BYTE, 67)).isEqualTo((byte) 42);
            }
        }
    }

    @Test
    void configFromGgufEqualsConfigJson() {
        LlamaConfig hf = LlamaConfig.read(SharedData.demoModel("feather-3m"));
        try (GgufFile g = GgufFile.open(SharedData.shared("golden/gguf/feather-3m-Q4_K_M.gguf"))) {
            LlamaConfig fromGguf = LlamaConfig.fromGguf(g);
            assertThat(fromGguf.hiddenSize()).isEqualTo(hf.hiddenSize());
            assertThat(fromGguf.intermediateSize()).isEqualTo(hf.intermediateSize());
            assertThat(fromGguf.layers()).isEqualTo(hf.layers());
            assertThat(fromGguf.heads()).isEqualTo(hf.heads());
            assertThat(fromGguf.kvHeads()).isEqualTo(hf.kvHeads());
            assertThat(fromGguf.headDim()).isEqualTo(hf.headDim());
            assertThat(fromGguf.vocabSize()).isEqualTo(hf.vocabSize());
            assertThat(fromGguf.maxPositions()).isEqualTo(hf.maxPositions());
            assertThat((float) fromGguf.rmsNormEps()).isEqualTo((float) hf.rmsNormEps());
            assertThat(fromGguf.tieWordEmbeddings()).isFalse();
            assertThat(fromGguf.bosTokenId()).isEqualTo(1);
            assertThat(fromGguf.eosTokenId()).isEqualTo(2);
            assertThat(fromGguf.parameterCount()).isEqualTo(hf.parameterCount());
        }
    }

    private static String sha256(Tensor t) throws NoSuchAlgorithmException {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        md.update(t.data().asByteBuffer());
        return HexFormat.of().formatHex(md.digest());
    }
}
