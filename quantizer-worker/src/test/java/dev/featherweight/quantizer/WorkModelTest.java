package dev.featherweight.quantizer;

import dev.featherweight.contracts.Recipe;
import dev.featherweight.catalog.capacity.GpuCatalog;
import dev.featherweight.catalog.capacity.Precision;
import dev.featherweight.catalog.capacity.SimulatedGpu;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** Device memory and roofline of a task, checked against hand arithmetic on feather-3m's config.json. */
class WorkModelTest {
    static final Path FEATHER = Path.of(System.getProperty("fw.repo.root", "..")).resolve("models/feather-3m");

    // feather-3m: hidden 256, intermediate 768, 8 heads, 2 KV heads, head_dim 32 → q 256, kv 64
    // one block: q 256·256 + k,v 2·256·64 + o 256·256 + gate/up/down 3·256·768 = 753,664 weights
    static final long BLOCK = 256 * 256 + 2 * 256 * 64 + 256 * 256 + 3 * 256 * 768;

    @Test
    void roundToNearestNeedsTheBlockAndItsQuantizedCopy() throws Exception {
        WorkModel w = WorkModel.of(FEATHER, new Recipe.Rtn(4, 32, true));
        assertThat(BLOCK).isEqualTo(753_664);
        assertThat(w.peakParts()).containsEntry("block weights fp16", 2 * BLOCK).containsEntry("quantized block", BLOCK / 2).hasSize(2);
        assertThat(w.layers()).isEqualTo(4);
    }

    @Test
    void gptqAddsHessiansActivationsAndCalibrationKv() throws Exception {
        WorkModel w = WorkModel.of(FEATHER, new Recipe.Gptq(4, 128, false, 0.01, 128, 512, true));
        long tokens = 128 * 512;
        assertThat(w.peakParts())
                .containsEntry("hessians fp32", 4L * (256 * 256 + 256 * 256 + 256 * 256 + 768 * 768))
                .containsEntry("calibration activations fp16", 2 * tokens * 768 * 2)
                .containsEntry("calibration KV cache fp16", 2 * tokens * 64 * 2);
        assertThat(w.peakBytes()).isEqualTo(w.peakParts().values().stream().mapToLong(Long::longValue).sum());
    }

    @Test
    void theWorkerAccountsBlocksOnTheKernelsSimulatedGpu() throws Exception {
        WorkModel w = WorkModel.of(FEATHER, new Recipe.Rtn(4, 32, true));
        SimulatedGpu a100 = new SimulatedGpu(GpuCatalog.builtIn().get("A100-40GB-PCIe"));
        for (int b = 0; b < w.layers(); b++) a100.account(w.flopsPerBlock(), w.bytesPerBlock(), Precision.FP16);
        // RTN moves each block's fp16 weights in and out: memory-bound, 4 × 2 × 2 × 753,664 bytes at 1555 GB/s
        assertThat(a100.simulatedSeconds()).isCloseTo(4 * 2.0 * 2 * BLOCK / 1555e9, org.assertj.core.api.Assertions.within(1e-15));
        assertThat(a100.fits(w.peakBytes())).isTrue();
    }
}
