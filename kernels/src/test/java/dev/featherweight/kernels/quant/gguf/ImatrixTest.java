package dev.featherweight.kernels.quant.gguf;

import dev.featherweight.kernels.formats.gguf.ImportanceMatrix;
import dev.featherweight.kernels.pipeline.ImatrixCollector;
import dev.featherweight.kernels.pipeline.LlamaQuantize;
import dev.featherweight.kernels.SharedData;
import dev.featherweight.kernels.formats.gguf.GgufModelPlan;
import dev.featherweight.kernels.formats.gguf.HfToGguf;
import dev.featherweight.kernels.formats.safetensors.SafetensorsModel;
import dev.featherweight.kernels.infer.LoadedModel;
import dev.featherweight.kernels.infer.ModelLoader;
import dev.featherweight.kernels.core.Parallel;
import dev.featherweight.kernels.infer.Perplexity;
import dev.featherweight.kernels.core.GgmlType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * fw imatrix against llama-imatrix on the calibration input of golden/gguf/SOURCE.md (train.tinystories.txt
 * followed by train.wikitext.txt, ctx 256, all 3,380 chunks), and the use of our matrix in quantization.
 */
class ImatrixTest {
    @TempDir
    static Path tmp;
    static Parallel pool;
    static ImportanceMatrix ours;

    @BeforeAll
    static void computeOnTheFullCalibrationText() throws Exception {
        pool = new Parallel(2);
        String calib = Files.readString(SharedData.shared("eval/train.tinystories.txt")) + Files.readString(SharedData.shared("eval/train.wikitext.txt"));
        try (LoadedModel m = ModelLoader.open(SharedData.demoModel("feather-3m"), null, pool)) {
            int[] tokens = m.encode(calib);
            ours = ImatrixCollector.compute(m.model(), tokens, 256, -1, "../calib.train.tinystories+wikitext.txt", null);
        }
    }

    @AfterAll
    static void close() {
        pool.close();
    }

    @Test
    void valuesMatchLlamaImatrix() {
        ImportanceMatrix ref = ImportanceMatrix.read(SharedData.shared("golden/gguf/feather-3m.imatrix"));
        assertThat(ours.chunks()).isEqualTo(ref.chunks()).isEqualTo(3380);
        assertThat(ours.entries().keySet()).containsExactlyInAnyOrderElementsOf(ref.entries().keySet());
        double worst = 0;
        String where = "";
        for (var e : ref.entries().entrySet()) {
            float[] r = e.getValue(), o = ours.entries().get(e.getKey());
            assertThat(ours.ncalls().get(e.getKey())).isEqualTo(ref.ncalls().get(e.getKey()));
            assertThat(o).hasSameSizeAs(r);
            for (int i = 0; i < r.length; i++) {
                double rel = Math.abs(o[i] - r[i]) / Math.abs(r[i]);
                if (rel > worst) {
                    worst = rel;
                    where = e.getKey() + "[" + i + "] " + r[i] + " vs " + o[i];
                }
            }
        }
        System.out.printf("imatrix vs llama-imatrix: max relative difference %.2e at %s%n", worst, where);
        assertThat(worst).as(where).isLessThan(IMATRIX_TOLERANCE);
    }

    /** See kernels/README.md: float sums over 865k tokens in a different matmul order leave a few 1e-5. */
    static final double IMATRIX_TOLERANCE = 1e-4;

    /**
     * On the whole WikiText dev text (llama-perplexity's own figures for the golden files: Q2_K 13.5711 → 13.5514,
     * Q3_K_S 13.085 → 12.9987 with the imatrix). Not on TinyStories for Q3_K_S: there llama.cpp's own imatrix
     * file is worse too (6.4985 → 6.5214), and ours is the same bytes; a 64-chunk prefix is too noisy to decide.
     */
    @Test
    void ourMatrixLowersTheLowBitPerplexity() throws Exception {
        int[] dev = null;
        for (FileType type : new FileType[]{FileType.Q2_K, FileType.Q3_K_S}) {
            Path plain = tmp.resolve(type + ".gguf"), weighted = tmp.resolve(type + ".imatrix.gguf");
            try (SafetensorsModel w = SafetensorsModel.open(SharedData.demoModel("feather-3m"))) {
                GgufModelPlan plan = HfToGguf.plan(SharedData.demoModel("feather-3m"), w, GgmlType.F32);
                LlamaQuantize.quantize(plan, type, null, null, plain, 2, null);
                LlamaQuantize.quantize(plan, type, ours, "ours.imatrix", weighted, 2, null);
            }
            double[] ppl = new double[2];
            int i = 0;
            for (Path f : new Path[]{plain, weighted}) {
                try (LoadedModel m = ModelLoader.open(f, SharedData.demoModel("feather-3m"), pool)) {
                    if (dev == null) dev = m.encode(Files.readString(SharedData.shared("eval/dev.wikitext.txt")));
                    ppl[i++] = Perplexity.run(m.model(), dev, Perplexity.Options.llamacpp(256, -1, m.model().config().bosId())).perplexity();
                }
            }
            System.out.printf("%s dev.wikitext (all chunks): without imatrix %.4f, with ours %.4f%n", type, ppl[0], ppl[1]);
            assertThat(ppl[1]).as(type + " with imatrix").isLessThan(ppl[0]);
        }
    }
}
