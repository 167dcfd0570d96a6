package dev.featherweight.catalog.recommend;

import dev.featherweight.catalog.capacity.GpuCatalog;
import dev.featherweight.catalog.capacity.ModelShape;
import dev.featherweight.catalog.capacity.ModelShapes;
import dev.featherweight.catalog.capacity.ServingPlan;
import dev.featherweight.catalog.recommend.Recommendation.Fit;
import dev.featherweight.catalog.recommend.Recommendation.GpuTarget;
import dev.featherweight.catalog.recommend.Recommendation.RequestRate;
import dev.featherweight.catalog.recommend.Recommendation.Workload;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Request-rate workloads (the serving simulation decides what a candidate holds) and the decision's choice and words. */
class RecommendationTest {
    static final ModelShape LLAMA_3_8B = ModelShapes.builtIn().find("Llama-3-8B").shape();
    static final List<GpuTarget> L4 = List.of(new GpuTarget(GpuCatalog.builtIn().get("L4"), 1));
    static final long BF16 = Recommendation.estimatedBytes(LLAMA_3_8B, "bf16", 0);
    static final long Q4 = Recommendation.estimatedBytes(LLAMA_3_8B, "q4_k_m", 0);

    @Test
    void aRateTheSimulationServesIsHeldAndOneThatSaturatesTheGpuIsPrunedWithTheRateItServes() {
        RequestRate light = new RequestRate(0.5, "fixed:256", "fixed:128", 60, 1);
        Workload lightLoad = new Workload(2048, 0, light);
        Fit f = Recommendation.fits(LLAMA_3_8B, BF16, L4, lightLoad).getFirst();
        var simulated = ServingPlan.of(LLAMA_3_8B, BF16, L4.getFirst().gpu()).simulate(1, light.requests());
        assertThat(f.servedRequestsPerSecond()).isEqualTo(simulated.requestsPerSecond());
        assertThat(f.queueSecondsP99()).isEqualTo(simulated.queueSeconds().p99()).isLessThanOrEqualTo(Recommendation.MAX_QUEUE_SECONDS);
        assertThat(f.holds()).isTrue();
        assertThat(f.decodeTokensPerSecond()).isEqualTo(simulated.outputTokensPerSecond());
        assertThat(f.usdPerMillionTokens()).isPositive();
        assertThat(Recommendation.prune(LLAMA_3_8B, "bf16", BF16, L4, lightLoad)).isNull();

        // 50 requests/s of 256 + 128 tokens: far beyond what one L4 decodes with 16 GB of bf16 weights
        Workload heavy = new Workload(2048, 0, new RequestRate(50, "fixed:256", "fixed:128", 20, 1));
        Fit saturated = Recommendation.fits(LLAMA_3_8B, BF16, L4, heavy).getFirst();
        assertThat(saturated.holds()).isFalse();
        assertThat(saturated.servedRequestsPerSecond()).isLessThan(0.5 * 50);
        assertThat(saturated.queueSecondsP99()).isGreaterThan(Recommendation.MAX_QUEUE_SECONDS);
        Recommendation.Pruned p = Recommendation.prune(LLAMA_3_8B, "bf16", BF16, L4, heavy);
        assertThat(p).isNotNull();
        assertThat(p.reason()).contains("requests/s served on L4, 50 offered");
    }

    @Test
    void theCheapestCandidateWithinTheBudgetIsRecommendedAndTheReasonsSayWhatTheOthersLack() {
        Workload w = new Workload(2048, 0, new RequestRate(0.5, "fixed:256", "fixed:128", 60, 1));
        var q4 = Recommendation.measured(LLAMA_3_8B, "q4", Q4, 0.02, 0.05, L4, w);
        var bf16 = Recommendation.measured(LLAMA_3_8B, "bf16", BF16, 0.0, 0.05, L4, w);
        var q2 = Recommendation.measured(LLAMA_3_8B, "q2", Recommendation.estimatedBytes(LLAMA_3_8B, "q2_k", 0), 0.2, 0.05, L4, w);
        var pruned = List.of(new Recommendation.Pruned("fp32", 32_000_000_000L, "does not fit"));
        var d = Recommendation.decide("KLD", 0.05, w, List.of(bf16, q4, q2), pruned);
        assertThat(d.front()).containsExactly(q2, q4, bf16);
        assertThat(q4.best().usdPerMillionTokens()).isLessThan(bf16.best().usdPerMillionTokens());
        assertThat(d.recommended()).isEqualTo(q4);
        assertThat(d.reasons()).startsWith("q4: serves ")
                .contains("serves 0.50 requests/s (p99 queue ", "on L4, KLD 0.02000 (budget 0.05000)", "q2 would fit", "exceeds your KLD budget",
                        "bf16 is closer to the base", "fp32 was not quantized: does not fit.");

        var none = Recommendation.decide("KLD", 0.05, w, List.of(), pruned);
        assertThat(none.recommended()).isNull();
        assertThat(none.reasons()).startsWith("No candidate can serve 0.50 requests/s (prompts fixed:256, outputs fixed:128) on these GPUs, so none was quantized.");
    }
}
