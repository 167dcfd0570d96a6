package dev.featherweight.kernels.quant.gguf;

import dev.featherweight.kernels.formats.gguf.ImportanceMatrix;
import dev.featherweight.kernels.pipeline.LlamaQuantize;
import dev.featherweight.kernels.SharedData;
import dev.featherweight.kernels.formats.gguf.GgufModelPlan;
import dev.featherweight.kernels.formats.gguf.HfToGguf;
import dev.featherweight.kernels.formats.safetensors.SafetensorsModel;
import dev.featherweight.kernels.core.GgmlType;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * HF folder → llama-quantize mix, compared with llama.cpp's own files (convert_hf_to_gguf.py --outtype f32
 * then llama-quantize, see golden/gguf/SOURCE.md): the whole-file sha256 must match, and on a mismatch
 * the first differing metadata key, tensor or block is reported.
 */
class LlamaQuantizeGoldenTest {
    @TempDir
    static Path tmp;

    static Stream<Arguments> feather3m() {
        List<Arguments> a = new ArrayList<>();
        for (String t : List.of("Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K_S", "Q3_K_M", "Q3_K_L", "Q4_K_S", "Q4_K_M", "Q5_K_S", "Q5_K_M", "Q6_K")) {
            a.add(Arguments.of("feather-3m", t, "feather-3m-" + t + ".gguf", null));
        }
        a.add(Arguments.of("feather-3m", "F16", "feather-3m-F16.from-quantize.gguf", null));
        a.add(Arguments.of("feather-3m", "BF16", "feather-3m-BF16.from-quantize.gguf", null));
        for (String t : List.of("Q2_K", "Q3_K_S", "Q4_K_M", "Q4_0")) {
            a.add(Arguments.of("feather-3m", t, "feather-3m-" + t + ".imatrix.gguf", "feather-3m.imatrix"));
        }
        for (String t : List.of("Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K_S", "Q3_K_M", "Q3_K_L", "Q4_K_S", "Q4_K_M", "Q5_K_S", "Q5_K_M", "Q6_K")) {
            a.add(Arguments.of("synth256", t, "synth256/synth256-" + t + ".gguf", null));
        }
        return a.stream();
    }

    /** The synth256 golden files were converted from a folder named "hf"; the folder name is part of the metadata. */
    static Path source(String model) throws IOException {
        if (model.equals("feather-3m")) return SharedData.demoModel("feather-3m");
        Path dir = tmp.resolve("hf");
        if (!Files.exists(dir)) {
            Files.createDirectories(dir);
            try (var files = Files.list(SharedData.shared("golden/synth256-hf"))) {
                for (Path f : files.toList()) Files.createSymbolicLink(dir.resolve(f.getFileName()), f);
            }
        }
        return dir;
    }

    @ParameterizedTest(name = "{2}")
    @MethodSource("feather3m")
    void matchesLlamaQuantize(String model, String type, String golden, String imatrixName) throws Exception {
        Path dir = source(model);
        Path out = tmp.resolve(golden.replace('/', '_'));
        ImportanceMatrix imatrix = imatrixName == null ? null : ImportanceMatrix.read(SharedData.shared("golden/gguf/" + imatrixName));
        try (SafetensorsModel weights = SafetensorsModel.open(dir)) {
            GgufModelPlan plan = HfToGguf.plan(dir, weights, GgmlType.F32);
            LlamaQuantize.quantize(plan, FileType.parse(type), imatrix, imatrixName, out, 2, null);
        }
        Path goldenFile = SharedData.shared("golden/gguf/" + golden);
        String dirName = golden.contains("/") ? "golden/gguf/synth256" : "golden/gguf";
        String expected = dev.featherweight.kernels.formats.gguf.GoldenAccess.sums(dirName).get(Path.of(golden).getFileName().toString());
        String actual = dev.featherweight.kernels.formats.gguf.GoldenAccess.sha256(out);
        if (!expected.equals(actual)) {
            throw new AssertionError(golden + ": sha256 differs\n" + dev.featherweight.kernels.formats.gguf.GoldenAccess.firstDifference(goldenFile, out));
        }
        assertThat(actual).isEqualTo(expected);
    }
}
