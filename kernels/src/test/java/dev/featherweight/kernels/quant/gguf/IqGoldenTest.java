package dev.featherweight.kernels.quant.gguf;

import dev.featherweight.kernels.SharedData;
import dev.featherweight.kernels.core.GgmlType;
import dev.featherweight.kernels.formats.gguf.GgufFile;
import dev.featherweight.kernels.formats.gguf.GgufModelPlan;
import dev.featherweight.kernels.formats.gguf.GoldenAccess;
import dev.featherweight.kernels.formats.gguf.HfToGguf;
import dev.featherweight.kernels.formats.gguf.ImportanceMatrix;
import dev.featherweight.kernels.formats.safetensors.SafetensorsModel;
import dev.featherweight.kernels.pipeline.LlamaQuantize;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The IQ and ternary file types against llama-quantize's own files (golden/gguf-iq, see its SOURCE.md): each
 * golden is made once from the shared F32 GGUF (as {@code llama-quantize --imatrix feather-3m.imatrix
 * feather-3m-F32.gguf … TYPE} made it) and once from the HF folder through the converter's plan; both whole files
 * must have the golden's sha256. On a mismatch the first differing key, tensor or block is reported.
 */
class IqGoldenTest {
    private static final String IMATRIX = "feather-3m.imatrix";

    @TempDir
    static Path tmp;

    static ImportanceMatrix imatrix;

    @BeforeAll
    static void readImatrix() throws Exception {
        imatrix = ImportanceMatrix.read(SharedData.shared("golden/gguf/" + IMATRIX));
    }

    /** Golden file names (without .gguf): TYPE for no imatrix, TYPE.imatrix with it. */
    static List<String> goldens() {
        return List.of("TQ2_0.imatrix", "TQ1_0.imatrix", "IQ4_NL", "IQ4_NL.imatrix", "IQ4_XS", "IQ4_XS.imatrix", "IQ3_S.imatrix",
                "IQ3_M.imatrix", "IQ3_XS.imatrix", "IQ3_XXS.imatrix");
    }

    /**
     * From the HF folder, one golden per family of codecs (the converter's plan is the F32 file's rows — that is
     * LlamaQuantizeGoldenTest's business — so more would only cost CI time): IQ4_XS with Q5_K/Q6_K, IQ3_XS with
     * IQ3_S/IQ3_XXS/Q4_K, TQ1_0 with Q4_K.
     */
    static List<String> goldensFromHf() {
        return List.of("IQ4_XS", "IQ3_XS.imatrix", "TQ1_0.imatrix");
    }

    @ParameterizedTest(name = "{0} from the F32 GGUF")
    @MethodSource("goldens")
    void fromF32Gguf(String golden) throws Exception {
        Path out = tmp.resolve("gguf-" + golden + ".gguf");
        try (GgufFile g = GgufFile.open(SharedData.shared("golden/gguf/feather-3m-F32.gguf"))) {
            quantize(GgufModelPlan.of(g), golden, out);
        }
        assertGolden(golden, out);
    }

    @ParameterizedTest(name = "{0} from the HF folder")
    @MethodSource("goldensFromHf")
    void fromHfFolder(String golden) throws Exception {
        Path out = tmp.resolve("hf-" + golden + ".gguf");
        Path dir = SharedData.demoModel("feather-3m");
        try (SafetensorsModel weights = SafetensorsModel.open(dir)) {
            quantize(HfToGguf.plan(dir, weights, GgmlType.F32), golden, out);
        }
        assertGolden(golden, out);
    }

    private static void quantize(GgufModelPlan plan, String golden, Path out) {
        boolean withImatrix = golden.endsWith(".imatrix");
        FileType type = FileType.parse(golden.replace(".imatrix", ""));
        LlamaQuantize.quantize(plan, type, withImatrix ? imatrix : null, withImatrix ? IMATRIX : null, out, 2, null);
    }

    private static void assertGolden(String golden, Path out) throws Exception {
        String name = "feather-3m-" + golden + ".gguf";
        String expected = GoldenAccess.sums("golden/gguf-iq").get(name);
        String actual = GoldenAccess.sha256(out);
        if (!expected.equals(actual)) {
            throw new AssertionError(name + ": sha256 differs\n" + GoldenAccess.firstDifference(SharedData.shared("golden/gguf-iq/" + name), out));
        }
        assertThat(actual).isEqualTo(expected);
    }
}
