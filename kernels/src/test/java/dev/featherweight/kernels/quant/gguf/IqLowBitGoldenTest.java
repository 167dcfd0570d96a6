package dev.featherweight.kernels.quant.gguf;

import dev.featherweight.kernels.SharedData;
import dev.featherweight.kernels.core.GgmlType;
import dev.featherweight.kernels.core.Parallel;
import dev.featherweight.kernels.formats.gguf.GgufFile;
import dev.featherweight.kernels.formats.gguf.GgufModelPlan;
import dev.featherweight.kernels.formats.gguf.GgufTensorInfo;
import dev.featherweight.kernels.formats.gguf.GoldenAccess;
import dev.featherweight.kernels.formats.gguf.HfToGguf;
import dev.featherweight.kernels.formats.gguf.ImportanceMatrix;
import dev.featherweight.kernels.formats.safetensors.SafetensorsModel;
import dev.featherweight.kernels.infer.LoadedModel;
import dev.featherweight.kernels.infer.ModelLoader;
import dev.featherweight.kernels.infer.Perplexity;
import dev.featherweight.kernels.pipeline.LlamaQuantize;
import org.assertj.core.data.Percentage;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * llama-quantize's IQ2/IQ1 files for feather-3m with the shared imatrix (../shared/golden/gguf-iq), reproduced byte for
 * byte: each file type is quantized once, from the HF folder through the converter (IQ2_XXS from the shared F32 GGUF),
 * and the whole file's sha256 must equal the golden one. Perplexity runs on two of the files (one against
 * llama-perplexity's running value), and the types that need an importance matrix refuse to run without one.
 */
class IqLowBitGoldenTest {
    /** Quantized from the HF folder (IQ2_S and IQ2_M also use IQ3_S, IQ2_XXS is quantized from the F32 GGUF below). */
    private static final List<String> FROM_HF = List.of("IQ2_XS", "IQ2_S", "IQ2_M", "IQ1_S", "IQ1_M");
    private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @TempDir
    static Path tmp;
    private static GgufFile source;
    private static ImportanceMatrix imatrix;
    private static final Map<String, Path> written = new LinkedHashMap<>();

    @BeforeAll
    static void quantizeOncePerType() throws IOException {
        Path dir = SharedData.shared("golden/gguf");
        source = GgufFile.open(dir.resolve("feather-3m-F32.gguf"));
        imatrix = ImportanceMatrix.read(dir.resolve("feather-3m.imatrix"));
        Path hf = SharedData.demoModel("feather-3m");
        for (String type : FROM_HF) {
            Path out = tmp.resolve("feather-3m-" + type + ".imatrix.gguf");
            try (SafetensorsModel weights = SafetensorsModel.open(hf)) {
                LlamaQuantize.quantize(HfToGguf.plan(hf, weights, GgmlType.F32), FileType.parse(type), imatrix, "feather-3m.imatrix", out, 2, null);
            }
            written.put(type, out);
        }
        // the other input llama-quantize was given: the shared F32 GGUF (one type is enough: the plan is the only difference)
        Path fromGguf = tmp.resolve("from-f32-gguf-IQ2_XXS.gguf");
        LlamaQuantize.quantize(GgufModelPlan.of(source), FileType.IQ2_XXS, imatrix, "feather-3m.imatrix", fromGguf, 2, null);
        written.put("IQ2_XXS from the F32 GGUF", fromGguf);
    }

    @AfterAll
    static void close() {
        source.close();
    }

    @TestFactory
    Stream<DynamicTest> wholeFilesMatchLlamaQuantize() throws IOException {
        Map<String, String> sums = GoldenAccess.sums("golden/gguf-iq");
        return written.entrySet().stream().map(e -> DynamicTest.dynamicTest(e.getKey(), () -> {
            String golden = "feather-3m-" + e.getKey().replace(" from the F32 GGUF", "") + ".imatrix.gguf";
            String actual = GoldenAccess.sha256(e.getValue());
            if (!actual.equals(sums.get(golden))) {
                throw new AssertionError(golden + ": sha256 differs\n"
                        + GoldenAccess.firstDifference(SharedData.shared("golden/gguf-iq").resolve(golden), e.getValue()));
            }
        }));
    }

    /**
     * The forward pass reads the types: IQ2_XS (IQ2_XS tensors, Q2_K token_embd, Q4_K attn_v, Q5_K output) over the
     * first 5 chunks of dev.tinystories at ctx 256 gives llama-perplexity's running value for that file (its KL-divergence
     * log, ../shared/reference/kld), and the IQ1_M file (IQ1_M + IQ2_XXS) loads and scores finitely, above it.
     */
    @Test
    void perplexityOnTheQuantizedFiles() throws IOException {
        String raw = Files.readString(SharedData.shared("eval").resolve("dev.tinystories.txt"));
        double iq2xs = perplexity(written.get("IQ2_XS"), raw);
        assertThat(iq2xs).isCloseTo(7.1677, Percentage.withPercentage(0.5));
        double iq1m = perplexity(written.get("IQ1_M"), raw);
        assertThat(iq1m).isFinite().isGreaterThan(iq2xs);
    }

    private static double perplexity(Path file, String raw) {
        try (Parallel pool = new Parallel(2); LoadedModel lm = ModelLoader.open(file, null, pool)) {
            var c = lm.model().config();
            Perplexity.Result r = Perplexity.run(lm.model(), lm.encode(raw), new Perplexity.Options(Perplexity.Mode.LLAMACPP, 256, 5, 0, c.addBos(), c.bosId()));
            assertThat(r.chunks()).isEqualTo(5);
            return r.perplexity();
        }
    }

    @Test
    void typesThatNeedAnImatrixRefuseToRunWithoutOne() throws IOException {
        float[] row = source.tensor("blk.0.attn_q.weight").data().asSlice(0, 256 * 4).toArray(F32_LE);
        try (Arena arena = Arena.ofConfined()) {
            for (GgmlType type : List.of(GgmlType.IQ2_XXS, GgmlType.IQ2_XS, GgmlType.IQ1_S)) {
                GgufBlockCodec codec = GgufBlockCodecs.of(type);
                MemorySegment dst = arena.allocate(codec.rowBytes(256));
                assertThatThrownBy(() -> codec.quantizeRow(row, 0, 256, dst, 0, null))
                        .isInstanceOf(ImportanceMatrixRequiredException.class).hasMessageContaining(type.name());
                assertThat(GgufBlockCodecs.requiresImatrix(type)).isTrue();
            }
        }
        GgufModelPlan plan = GgufModelPlan.of(source);
        for (FileType f : List.of(FileType.IQ2_XXS, FileType.IQ2_XS, FileType.IQ2_S, FileType.IQ1_S, FileType.IQ1_M)) {
            Path out = tmp.resolve("refused-" + f + ".gguf");
            assertThatThrownBy(() -> LlamaQuantize.quantize(plan, f, null, null, out, 1, null))
                    .isInstanceOf(ImportanceMatrixRequiredException.class).hasMessageContaining(f.name()).hasMessageContaining("--imatrix");
            assertThat(out).doesNotExist();
        }
        // IQ2_M is accepted on the command line, but its first IQ2_S tensor (blk.0.attn_k) has no importance weights
        Path out = tmp.resolve("refused-IQ2_M.gguf");
        assertThatThrownBy(() -> LlamaQuantize.quantize(plan, FileType.IQ2_M, null, null, out, 1, null))
                .isInstanceOf(ImportanceMatrixRequiredException.class).hasMessageContaining("blk.0.attn_k.weight").hasMessageContaining("IQ2_S");
    }

    /** Decoding is ggml's dequantize_row_*: the golden files' own bytes decode to what their scales and grids say. */
    @Test
    void decodeRowIsTheReferenceDequantizeAndDotAgrees() {
        try (GgufFile f = GgufFile.open(written.get("IQ1_M")); GgufFile g = GgufFile.open(SharedData.shared("golden/gguf-iq").resolve("feather-3m-IQ2_M.imatrix.gguf"))) {
            for (var e : Map.of("blk.2.ffn_down.weight", f, "blk.2.attn_output.weight", f, "blk.1.ffn_up.weight", g).entrySet()) {
                GgufFile file = e.getValue();
                GgufTensorInfo t = file.tensorInfo(e.getKey());
                GgufBlockCodec codec = GgufBlockCodecs.of(t.type());
                int n = (int) t.ne()[0];
                float[] ref = new float[n], fast = new float[n], x = new float[n], original = source.tensor(t.name()).data().asSlice(0, 4L * n).toArray(F32_LE);
                for (int i = 0; i < n; i++) x[i] = (float) Math.sin(i * 0.37);
                MemorySegment data = file.tensor(t.name()).data();
                codec.dequantizeRow(data, 0, ref, 0, n);
                codec.decodeRow(data, 0, fast, 0, n);
                assertThat(fast).as(t.name()).containsExactly(ref);
                double dot = 0, err = 0, norm = 0;
                for (int i = 0; i < n; i++) {
                    dot += (double) ref[i] * x[i];
                    err += (ref[i] - original[i]) * (ref[i] - original[i]);
                    norm += original[i] * original[i];
                }
                assertThat((double) codec.dotRow(data, 0, x, 0, n)).as(t.name()).isCloseTo(dot, org.assertj.core.data.Offset.offset(1e-4 * (1 + Math.abs(dot))));
                // a low-bit reconstruction of the original row: far from exact, but correlated with it
                assertThat(err / norm).as(t.name() + " relative error").isLessThan(0.8);
            }
        }
    }
}
