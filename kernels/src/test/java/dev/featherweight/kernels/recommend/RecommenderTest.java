package dev.featherweight.kernels.recommend;

import dev.featherweight.catalog.capacity.GpuCatalog;
import dev.featherweight.catalog.capacity.ModelShape;
import dev.featherweight.catalog.recommend.Recommendation;
import dev.featherweight.kernels.SharedData;
import dev.featherweight.kernels.capacity.SizedModel;
import dev.featherweight.kernels.core.GgmlType;
import dev.featherweight.kernels.formats.gguf.HfToGguf;
import dev.featherweight.kernels.formats.safetensors.SafetensorsModel;
import dev.featherweight.kernels.pipeline.LlamaQuantize;
import dev.featherweight.kernels.quant.gguf.FileType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Pruning by the capacity model before any compute, the Pareto front and the recommendation's choice and words. */
class RecommenderTest {
    static final Path FEATHER = SharedData.demoModel("feather-3m");

    @Test
    void candidatesTheGpusCannotServeAreNeverProducedAndTheRecommendationExplainsItself(@TempDir Path tmp) {
        ModelShape shape = SizedModel.resolve(FEATHER.toString(), null).shape();
        var l4 = Recommendation.GpuTarget.parse("L4", GpuCatalog.builtIn());
        // the workload: one sequence more than fp16 weights leave room for on an L4, as the capacity model computes it
        long fp16Seqs = Recommendation.fits(shape, Recommendation.estimatedBytes(shape, "fp16", 0), List.of(l4),
                new Recommendation.Workload(512, 1)).getFirst().maxSequences();
        var w = new Recommendation.Workload(512, (int) fp16Seqs + 1);
        List<String> produced = new ArrayList<>();
        Recommender.Producer q4km = dir -> {
            produced.add("gguf:Q4_K_M");
            Path out = dir.resolve("model.gguf");
            try (SafetensorsModel m = SafetensorsModel.open(FEATHER)) {
                LlamaQuantize.quantize(HfToGguf.plan(FEATHER, m, GgmlType.F32), FileType.Q4_K_M, null, null, out, 2, null);
            }
            return out;
        };
        Recommender.Producer q2k = dir -> {
            produced.add("gguf:Q2_K");
            Path out = dir.resolve("model.gguf");
            try (SafetensorsModel m = SafetensorsModel.open(FEATHER)) {
                LlamaQuantize.quantize(HfToGguf.plan(FEATHER, m, GgmlType.F32), FileType.Q2_K, null, null, out, 2, null);
            }
            return out;
        };
        Recommender.Producer fp16 = dir -> {
            produced.add("fp16");
            throw new AssertionError("fp16 cannot hold the workload and must be pruned before it is made");
        };
        // the quality metric stands in for perplexity here: the loss grows as the file shrinks, Q2_K over the budget
        Recommender.QualityMetric metric = new Recommender.QualityMetric() {
            @Override
            public String name() {
                return "loss";
            }

            @Override
            public double loss(Path artifact) {
                try {
                    return 1e6 / Files.size(artifact);
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }
        };
        var candidates = List.of(new Recommender.Candidate("gguf:Q4_K_M", "q4_k_m", 0, q4km), new Recommender.Candidate("gguf:Q2_K", "q2_k", 0, q2k),
                new Recommender.Candidate("fp16", "fp16", 0, fp16));
        double budget = 0.6; // between Q4_K_M's 1e6/2.0 MB ≈ 0.50 and Q2_K's 1e6/1.2 MB ≈ 0.8
        var r = Recommender.run(shape, candidates, List.of(l4), w, metric, budget, tmp, null);

        assertThat(produced).containsExactly("gguf:Q4_K_M", "gguf:Q2_K");
        assertThat(r.pruned()).extracting(Recommendation.Pruned::label).containsExactly("fp16");
        assertThat(r.pruned().getFirst().reason()).contains("at most " + fp16Seqs + " sequences of 512 tokens on L4, " + w.concurrency() + " needed");
        assertThat(r.evaluated()).extracting(Recommender.Evaluated::label).containsExactly("gguf:Q4_K_M", "gguf:Q2_K");
        var q4 = r.evaluated().getFirst();
        var q2 = r.evaluated().get(1);
        assertThat(q4.bytes()).isEqualTo(q4.artifact().toFile().length());
        assertThat(q4.meetsQuality()).isTrue();
        assertThat(q2.meetsQuality()).isFalse();
        // both on the front: Q2_K is smaller, Q4_K_M loses less
        assertThat(r.front()).containsExactly(q2, q4);
        assertThat(r.recommended()).isEqualTo(q4);
        long q4Seqs = q4.best().maxSequences();
        long q2Seqs = q2.best().maxSequences();
        assertThat(q2Seqs).isGreaterThan(q4Seqs);
        assertThat(r.reasons()).startsWith("gguf:Q4_K_M: fits " + q4Seqs + " sequences of 512 tokens on L4")
                .contains("gguf:Q2_K would fit " + q2Seqs + " but exceeds your loss budget")
                .contains("fp16 was not quantized");
        // the L4 has a price in the catalogue: the cost per million tokens comes with the fit
        assertThat(q4.best().usdPerMillionTokens()).isPositive();
    }
}
