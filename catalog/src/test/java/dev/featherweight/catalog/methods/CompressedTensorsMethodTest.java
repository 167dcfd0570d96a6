package dev.featherweight.catalog.methods;

import dev.featherweight.catalog.Catalog;
import dev.featherweight.catalog.Estimate;
import dev.featherweight.catalog.Problem;
import dev.featherweight.catalog.ResolvedRecipe;
import dev.featherweight.catalog.capacity.Capacity;
import dev.featherweight.catalog.capacity.CapacityReport;
import dev.featherweight.catalog.capacity.GpuCatalog;
import dev.featherweight.catalog.capacity.KvDType;
import dev.featherweight.catalog.capacity.ModelShape;
import dev.featherweight.catalog.capacity.Precision;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The compressed-tensors method: scheme defaults, the rules between scheme, algorithm and smoothing, bytes and the serving precision. */
class CompressedTensorsMethodTest {
    static final Catalog CATALOG = Catalog.builtIn();
    static final ModelShape FEATHER = new ModelShape("feather-3m", 4, 256, 8, 2, 32, 768, 512, false, 512);

    static Map<String, Object> recipe(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("method", "compressed-tensors");
        for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], kv[i + 1]);
        return m;
    }

    @Test
    void eachSchemeResolvesToItsPresetGroupSize() {
        assertThat(CATALOG.resolve(recipe(), FEATHER)).isEqualTo(new CompressedTensorsMethod.Resolved("W4A16", "rtn", 128, true, null, 0.01, 128, 512));
        assertThat(((CompressedTensorsMethod.Resolved) CATALOG.resolve(recipe("scheme", "W8A16"), FEATHER)).groupSize()).isEqualTo(-1);
        assertThat(((CompressedTensorsMethod.Resolved) CATALOG.resolve(recipe("scheme", "W8A8"), FEATHER)).groupSize()).isEqualTo(-1);
        CompressedTensorsMethod.Resolved awq = (CompressedTensorsMethod.Resolved) CATALOG.resolve(recipe("algorithm", "awq"), FEATHER);
        assertThat(awq.symmetric()).as("AWQ has zero points").isFalse();
        CompressedTensorsMethod.Resolved sq = (CompressedTensorsMethod.Resolved) CATALOG.resolve(recipe("scheme", "W8A8", "smoothing", 0.5), FEATHER);
        assertThat(sq.smoothing()).isEqualTo(0.5);
        assertThat(sq.calibrated()).isTrue();
        assertThat(sq.label()).isEqualTo("compressed-tensors W8A8 rtn SmoothQuant 0.5");
        ResolvedRecipe r = CATALOG.resolve(recipe("scheme", "FP8"), FEATHER);
        assertThat(CATALOG.resolve(r.parameters(), FEATHER)).as("a resolved recipe resolves to itself").isEqualTo(r);
    }

    @Test
    void combinationsTheSchemesDoNotHaveAreRefusedNamingTheField() {
        Map<String, String> cases = Map.of(
                "FP8_DYNAMIC|algorithm|gptq", "recipe.algorithm",
                "W8A8|algorithm|awq", "recipe.algorithm",
                "W4A16|smoothing|0.5", "recipe.smoothing",
                "W8A8|groupSize|128", "recipe.groupSize",
                "W8A8|symmetric|false", "recipe.symmetric",
                "W4A16|groupSize|96", "recipe.groupSize",
                "W4A16|scheme2|x", "recipe.scheme2");
        for (var e : cases.entrySet()) {
            String[] c = e.getKey().split("\\|");
            Object v = c[2].equals("false") ? Boolean.FALSE : c[2].matches("[0-9.]+") ? (Object) (c[2].contains(".") ? Double.parseDouble(c[2]) : Integer.parseInt(c[2])) : c[2];
            List<Problem> p = CATALOG.validate(recipe("scheme", c[0], c[1], v), "recipe", FEATHER);
            assertThat(p).as(e.getKey()).extracting(Problem::field).contains(e.getValue());
        }
        assertThat(CATALOG.validate(recipe("scheme", "W9A9"), "recipe", FEATHER)).extracting(Problem::field).containsExactly("recipe.scheme");
        assertThat(CATALOG.validate(recipe("algorithm", "awq", "symmetric", true), "recipe", FEATHER)).extracting(Problem::field).containsExactly("recipe.symmetric");
        assertThat(CATALOG.validate(recipe("scheme", "W8A8", "algorithm", "gptq", "smoothing", 0.8), "recipe", FEATHER)).isEmpty();
    }

    /** feather-3m's linear layers per block: q 256×256, k/v 64×256, o 256×256, gate/up 768×256, down 256×768 = 753,664 weights, 2,432 rows. */
    @Test
    void outputBytesFollowEachSchemesTensors() {
        long weights = 753_664, rows = 256 + 64 + 64 + 256 + 768 + 768 + 256;
        // everything outside the block linears (embeddings, lm_head, norms) is counted as the other methods count it: W8A8 stores
        // int8 codes and an fp32 scale per output row, so the rest of its bytes is that part
        long kept = bytes(recipe("scheme", "W8A8")) - 4 * (weights + rows * 4);
        assertThat(kept).isPositive();
        // W4A16 g128: 4-bit codes, fp16 scale per (row, group), int64 weight_shape per module
        long groupsTimesRows = 256 * 2 + 64 * 2 * 2 + 256 * 2 + 768 * 2 * 2 + 256 * 6;
        assertThat(bytes(recipe())).isEqualTo(4 * (weights / 2 + groupsTimesRows * 2 + 7 * 16) + kept);
        assertThat(bytes(recipe("symmetric", false))).as("+ packed 4-bit zero points").isEqualTo(4 * (weights / 2 + groupsTimesRows * 2 + groupsTimesRows / 2 + 7 * 16) + kept);
        assertThat(bytes(recipe("scheme", "FP8_DYNAMIC"))).isEqualTo(4 * (weights + rows * 4) + kept);
        assertThat(bytes(recipe("scheme", "FP8"))).as("one weight scale and one input scale per tensor").isEqualTo(4 * (weights + 7 * 8) + kept);
    }

    private static long bytes(Map<String, Object> r) {
        Estimate e = CATALOG.estimate(CATALOG.resolve(r, FEATHER), FEATHER);
        assertThat(e.peakDeviceBytes()).isPositive();
        return e.outputBytes();
    }

    @Test
    void w8a8AndFp8AreServedAtTheGpusEightBitPeak() {
        assertThat(CATALOG.servingPrecision(recipe("scheme", "W8A8"))).isEqualTo(Precision.INT8);
        assertThat(CATALOG.servingPrecision(recipe("scheme", "FP8_DYNAMIC"))).isEqualTo(Precision.FP8);
        assertThat(CATALOG.servingPrecision(recipe("scheme", "FP8"))).isEqualTo(Precision.FP8);
        assertThat(CATALOG.servingPrecision(recipe("scheme", "W4A16"))).isEqualTo(Precision.FP16);
        assertThat(CATALOG.servingPrecision(Map.of("method", "gptq", "bits", 4))).isEqualTo(Precision.FP16);
        // a compute-bound prefill on an H100 runs twice as fast at its FP8 peak as at fp16, with the same bytes
        ModelShape llama = new ModelShape("Llama-3-8B", 32, 4096, 32, 8, 128, 14336, 128256, false, 8192);
        var h100 = GpuCatalog.builtIn().get("H100-80GB-SXM");
        long bytes = 8_000_000_000L;
        CapacityReport fp16 = Capacity.compute(llama, h100, bytes, 8192, KvDType.FP16, Capacity.DEFAULT_UTILIZATION, Capacity.defaultOverheadBytes(llama), Precision.FP16, 1);
        CapacityReport fp8 = Capacity.compute(llama, h100, bytes, 8192, KvDType.FP16, Capacity.DEFAULT_UTILIZATION, Capacity.defaultOverheadBytes(llama),
                CATALOG.servingPrecision(recipe("scheme", "FP8_DYNAMIC")), 1);
        assertThat(fp8.maxSequences()).isEqualTo(fp16.maxSequences());
        assertThat(fp8.optimalBatch()).as("the roofline's ridge moves with the compute peak").isCloseTo(2 * fp16.optimalBatch(), org.assertj.core.data.Offset.offset(1.0));
        assertThat(fp8.prefillSeconds()).as("compute-bound prefill").isCloseTo(fp16.prefillSeconds() / 2, org.assertj.core.data.Offset.offset(fp16.prefillSeconds() * 0.05));
    }
}
