package dev.featherweight.kernels.formats;

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
                    if (key.startsWith("GGUF.")) continue;
                    GgufValue v = g.get(key);
                    String type = v.elementType() == null ? v.type().name() : v.type().name() + "/" + v.elementType().name();
                    assertThat(type).as(name + " " + key).isEqualTo(kv.get("type").asString());
                    if (kv.get("value").isNumber()) assertThat(v.asDouble()).as(key).isEqualTo(kv.get("value").asDouble());
                    if (kv.get("value").isString() && v.value() instanceof String s) assertThat(s).as(key).isEqualTo(kv.get("value").asString());
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
