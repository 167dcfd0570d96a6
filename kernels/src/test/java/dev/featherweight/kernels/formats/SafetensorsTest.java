package dev.featherweight.kernels.formats;

import dev.featherweight.kernels.core.Tensor;
import dev.featherweight.kernels.SharedData;
import dev.featherweight.kernels.formats.hf.LlamaConfig;
import dev.featherweight.kernels.formats.safetensors.SafetensorsFile;
import dev.featherweight.kernels.formats.safetensors.SafetensorsModel;
import dev.featherweight.kernels.formats.safetensors.SafetensorsWriter;
import dev.featherweight.kernels.core.GgmlType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SafetensorsTest {
    @TempDir
    Path tmp;

    @Test
    void readsTheDemoModelsAndTheirConfigs() {
        Path dir = SharedData.demoModel("feather-3m");
        LlamaConfig cfg = LlamaConfig.read(dir);
        try (SafetensorsModel m = SafetensorsModel.open(dir)) {
            long params = 0, bytes = 0;
            for (String n : m.names()) {
                Tensor t = m.tensor(n);
                assertThat(t.type()).isEqualTo(GgmlType.F32);
                params += t.elements();
                bytes += t.data().byteSize();
            }
            // SOURCE.md: 3,279,104 parameters, float32.
            assertThat(params).isEqualTo(3_279_104L).isEqualTo(cfg.parameterCount());
            assertThat(bytes).isEqualTo(params * 4);
            Tensor q = m.tensor("model.layers.0.self_attn.q_proj.weight");
            assertThat(q.shape()).containsExactly(256, 256);
            Tensor k = m.tensor("model.layers.0.self_attn.k_proj.weight");
            assertThat(k.shape()).containsExactly(64, 256);
        }
        assertThat(cfg.architecture()).isEqualTo("llama");
        assertThat(cfg.kvHeads()).isEqualTo(2);
        assertThat(cfg.headDim()).isEqualTo(32);
        assertThat(cfg.tieWordEmbeddings()).isFalse();

        LlamaConfig small = LlamaConfig.read(SharedData.demoModel("stories260K"));
        assertThat(small.tieWordEmbeddings()).isTrue();
        assertThat(small.parameterCount()).isEqualTo(260_032L);
        try (SafetensorsModel m = SafetensorsModel.open(SharedData.demoModel("stories260K"))) {
            assertThat(m.has("lm_head.weight")).isFalse();
            assertThat(m.has("model.embed_tokens.weight")).isTrue();
        }
    }

    @Test
    void shardedWriteReadsBackByteForByte() throws IOException {
        Path src = SharedData.demoModel("feather-3m");
        Path out = tmp.resolve("sharded");
        try (SafetensorsModel m = SafetensorsModel.open(src)) {
            List<SafetensorsWriter.Spec> specs = new ArrayList<>();
            for (String n : m.names()) specs.add(new SafetensorsWriter.Spec(n, m.tensor(n).type(), m.tensor(n).shape()));
            try (SafetensorsWriter w = SafetensorsWriter.create(out, "model", specs, Map.of("format", "pt"), 3_000_000)) {
                for (String n : m.names()) w.write(n, m.tensor(n).data());
                List<Path> files = w.finish();
                assertThat(files).hasSizeGreaterThan(2);
            }
            assertThat(out.resolve("model.safetensors.index.json")).exists();
            try (Stream<Path> leftovers = Files.list(out)) {
                assertThat(leftovers.map(p -> p.getFileName().toString())).noneMatch(n -> n.endsWith(".tmp"));
            }
            try (SafetensorsModel back = SafetensorsModel.open(out)) {
                assertThat(back.shards()).hasSizeGreaterThan(1);
                assertThat(back.names()).containsExactlyInAnyOrderElementsOf(m.names());
                for (String n : m.names()) {
                    assertThat(back.tensor(n).shape()).isEqualTo(m.tensor(n).shape());
                    assertThat(back.tensor(n).data().mismatch(m.tensor(n).data())).as(n).isEqualTo(-1L);
                }
                assertThat(back.shards().getFirst().metadata()).containsEntry("format", "pt");
            }
        }
    }

    @Test
    void anUnfinishedWriterLeavesNothingBehind() throws IOException {
        Path out = tmp.resolve("partial");
        var spec = new SafetensorsWriter.Spec("a", GgmlType.F32, new long[]{4});
        try (SafetensorsWriter w = SafetensorsWriter.create(out, "model", List.of(spec, new SafetensorsWriter.Spec("b", GgmlType.F32, new long[]{2})), Map.of(), 0)) {
            w.write("a", new byte[16]);
            assertThatThrownBy(() -> w.write("b", new byte[3])).isInstanceOf(FormatException.class).hasMessageContaining("'b'");
        }
        try (Stream<Path> files = Files.list(out)) {
            assertThat(files).isEmpty();
        }
    }

    @Test
    void filesOverTwoGigabytesAreMapped() throws IOException {
        // A sparse file: the tensor sits past the 2 GiB mark; only the header and a few bytes are real.
        Path f = tmp.resolve("big.safetensors");
        long n = (1L << 31) / 4 + 1024; // F32 elements: > 2 GiB of data
        String header = "{\"big\":{\"dtype\":\"F32\",\"shape\":[" + n + "],\"data_offsets\":[0," + n * 4 + "]}}";
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
            raf.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).array());
            raf.write(h);
            raf.setLength(8 + h.length + n * 4);
            raf.seek(8 + h.length + (n - 1) * 4);
            raf.write(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(42.5f).array());
        }
        try (SafetensorsFile sf = SafetensorsFile.open(f)) {
            Tensor t = sf.tensor("big");
            assertThat(t.data().byteSize()).isGreaterThan(Integer.MAX_VALUE);
            assertThat(t.data().get(ValueLayout.JAVA_FLOAT_UNALIGNED, (n - 1) * 4)).isEqualTo(42.5f);
        }
    }

    @Test
    void unsupportedArchitecturesAreNamed() throws IOException {
        Path cfg = tmp.resolve("config.json");
        Files.writeString(cfg, "{\"model_type\":\"gpt_neox\",\"hidden_size\":64}");
        assertThatThrownBy(() -> LlamaConfig.read(cfg)).isInstanceOf(FormatException.class).hasMessageContaining("gpt_neox");
    }
}
