package dev.featherweight.catalog.capacity;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** The catalog, its extension files, length distributions, paged vs preallocated KV, and the simulated GPU. */
class CapacityInputsTest {
    static final ModelShape LLAMA2_13B = new ModelShape("Llama-2-13B", 40, 5120, 40, 40, 128, 13824, 32000, false, 4096);
    static final ModelShape LLAMA3_8B = new ModelShape("Llama-3-8B", 32, 4096, 32, 8, 128, 14336, 128256, false, 8192);

    @Test
    void builtInCatalogHoldsTheIssuesElevenGpusInSiUnits() {
        GpuCatalog c = GpuCatalog.builtIn();
        assertThat(c.names()).containsExactly("A100-40GB-PCIe", "A100-80GB-SXM", "H100-80GB-SXM", "H100-80GB-PCIe", "H200-141GB",
                "L4", "L40S", "A10", "T4", "RTX-4090", "MI300X");
        Gpu a100 = c.get("a100-40gb-pcie");
        assertThat(a100.memoryBytes()).isEqualTo(40_000_000_000L);
        assertThat(a100.bandwidthBps()).isEqualTo(1555e9);
        assertThat(a100.peak(Precision.FP16)).isEqualTo(312e12);
        assertThat(a100.peak(Precision.INT8)).isEqualTo(624e12);
        assertThat(a100.peak(Precision.FP8)).isEqualTo(312e12); // no FP8 tensor cores on Ampere: FP8 runs as FP16
        assertThat(c.get("H100-80GB-SXM").peak(Precision.FP8)).isEqualTo(1979e12);
        for (Gpu g : c.all()) {
            assertThat(g.peak(Precision.INT8)).as(g.name()).isGreaterThanOrEqualTo(2 * g.peak(Precision.FP16) * 0.99);
            assertThat(g.hourlyUsd()).as(g.name()).isPositive();
        }
    }

    @Test
    void extensionFileAddsGpusAndOverridesOnlyTheFieldsItGives(@TempDir Path dir) throws Exception {
        Path extra = dir.resolve("gpus.json");
        Files.writeString(extra, """
                {"gpus": [
                  {"name": "A100-40GB-PCIe", "hourlyUsd": 0.99},
                  {"name": "B200", "memoryGB": 192, "bandwidthGBs": 8000, "fp16Tflops": 2250, "interconnect": "nvlink"}
                ]}""");
        GpuCatalog c = GpuCatalog.builtIn().extend(extra);
        Gpu a100 = c.get("A100-40GB-PCIe");
        assertThat(a100.hourlyUsd()).isEqualTo(0.99);
        assertThat(a100).isEqualTo(GpuCatalog.builtIn().get("A100-40GB-PCIe").withHourlyUsd(0.99));
        Gpu b200 = c.get("b200");
        assertThat(b200.memoryBytes()).isEqualTo(192_000_000_000L);
        assertThat(b200.int8Ops()).isEqualTo(2 * 2250e12);      // defaults to twice the fp16 rate
        assertThat(b200.interconnectBps()).isEqualTo(GpuCatalog.NVLINK_GBS * 1e9);
        assertThat(b200.hourlyUsd()).isZero();
        assertThat(c.withHourlyUsd("b200", 5.5).get("B200").hourlyUsd()).isEqualTo(5.5);

        Files.writeString(extra, "{\"gpus\": [{\"name\": \"X1\", \"memoryGB\": 16}]}");
        assertThatThrownBy(() -> GpuCatalog.builtIn().extend(extra)).isInstanceOf(CapacityException.class)
                .hasMessageContaining(extra.toString()).hasMessageContaining("GPU X1 lacks");
        Files.writeString(extra, "{\"gpus\": [");
        assertThatThrownBy(() -> GpuCatalog.builtIn().extend(extra)).isInstanceOf(CapacityException.class).hasMessageContaining(extra.toString());
    }

    @Test
    void modelShapesExtendFromConfigJsonKeys(@TempDir Path dir) throws Exception {
        Path extra = dir.resolve("models.json");
        Files.writeString(extra, """
                {"models": {"Tiny-MQA": {"hidden_size": 1024, "intermediate_size": 2816, "num_hidden_layers": 8,
                  "num_attention_heads": 16, "num_key_value_heads": 1, "vocab_size": 32000, "max_position_embeddings": 2048}}}""");
        ModelShapes shapes = ModelShapes.builtIn().extend(extra);
        ModelShape mqa = shapes.find("tiny-mqa").shape();
        assertThat(mqa.headDim()).isEqualTo(64);
        assertThat(mqa.kvBytesPerToken(KvDType.FP16)).isEqualTo(2.0 * 8 * 1 * 64 * 2);
        Files.writeString(extra, "{\"models\": {\"Broken\": {\"hidden_size\": 1024}}}");
        assertThatThrownBy(() -> ModelShapes.builtIn().extend(extra)).isInstanceOf(CapacityException.class)
                .hasMessageContaining("Broken").hasMessageContaining("num_attention_heads");
    }

    @Test
    void lengthDistributionsSampleWhatTheySay() {
        SplittableRandom rnd = new SplittableRandom(5);
        for (String spec : new String[]{"fixed:512", "512", "uniform:100:900", "normal:400:50", "lognormal:6.0:0.5"}) {
            LengthDistribution d = LengthDistribution.parse(spec);
            int n = 200_000;
            double sum = 0;
            int min = Integer.MAX_VALUE, max = 0;
            for (int i = 0; i < n; i++) {
                int x = d.sample(rnd);
                sum += x;
                min = Math.min(min, x);
                max = Math.max(max, x);
            }
            assertThat(sum / n).as(spec).isCloseTo(d.mean(), within(0.01 * d.mean()));
            assertThat(min).as(spec).isGreaterThanOrEqualTo(1);
            if (spec.startsWith("uniform")) assertThat(min).isEqualTo(100);
            if (spec.startsWith("uniform")) assertThat(max).isEqualTo(900);
        }
        assertThat(LengthDistribution.parse("lognormal:6.0:0.5").mean()).isCloseTo(Math.exp(6.125), within(1e-9));
        assertThatThrownBy(() -> LengthDistribution.parse("zipf:2")).isInstanceOf(CapacityException.class).hasMessageContaining("zipf:2");
        assertThatThrownBy(() -> LengthDistribution.parse("uniform:9:1")).isInstanceOf(CapacityException.class);
        assertThatThrownBy(() -> LengthDistribution.parse("normal:x:1")).isInstanceOf(CapacityException.class).hasMessageContaining("normal:x:1");
    }

    @Test
    void pagedAllocationWastesAtMostOneBlockPerSequence() {
        Gpu a100 = GpuCatalog.builtIn().get("A100-80GB-SXM");
        long weights = 2 * LLAMA3_8B.params();
        long overhead = Capacity.defaultOverheadBytes(LLAMA3_8B);
        CapacityReport r = Capacity.compute(LLAMA3_8B, a100, weights, 1000, KvDType.FP16, 0.9, overhead, Precision.FP16, 1);
        long budget = (long) Math.floor(80e9 * 0.9) - weights - overhead;
        assertThat(r.kvBudgetBytes()).isEqualTo(budget);
        assertThat(r.maxTokens()).isEqualTo(budget / 131_072);
        assertThat(r.maxSequences()).isEqualTo(budget / (131_072L * 1000));
        long blocks = budget / (131_072L * 16);
        assertThat(r.kvBlocks()).isEqualTo(blocks);
        assertThat(r.maxSequencesPaged()).isEqualTo(blocks / 63); // 1000 tokens = 62.5 blocks → 63
        assertThat(r.maxSequencesPaged() * 1008).isLessThanOrEqualTo(r.maxTokens());
        // The seed's preallocation reserves the whole context whatever a request uses; paging reserves what it uses.
        assertThat(r.maxTokens() / 16 / 16).isGreaterThan(r.maxSequences() * 1000 / 16 / 16);
        // fp8 KV doubles what fits; int4 quadruples it.
        CapacityReport fp8 = Capacity.compute(LLAMA3_8B, a100, weights, 1000, KvDType.FP8, 0.9, overhead, Precision.FP16, 1);
        assertThat(fp8.maxTokens()).isEqualTo(budget / 65_536);
        assertThat(fp8.kvBytesPerSequence()).isEqualTo(65_536L * 1000);
    }

    @Test
    void optimalBatchCountingKvAtContext() {
        Gpu h100 = GpuCatalog.builtIn().get("H100-80GB-SXM");
        Roofline fp16 = new Roofline(LLAMA3_8B, h100, 2 * LLAMA3_8B.params(), KvDType.FP16, Precision.FP16, 1);
        // With no context the KV-aware B* reduces to the classic one.
        assertThat(fp16.optimalBatchAt(0)).isCloseTo(fp16.optimalBatch(), within(1e-9));
        // It grows with context (every sequence adds bytes), and past some context no batch is compute-bound.
        assertThat(fp16.optimalBatchAt(128)).isGreaterThan(fp16.optimalBatch());
        assertThat(fp16.optimalBatchAt(8192)).isInfinite();
        double b = fp16.optimalBatchAt(128);
        int below = (int) Math.floor(b), above = (int) Math.ceil(b) + 1;
        assertThat(fp16.memoryBound(below, 128)).isTrue();
        assertThat(fp16.memoryBound(above, 128)).isFalse();
        // W8A8 on the int8 peak: the weight bytes halve and the peak doubles (1979 vs 2 × 989), so B* stays where fp16 had it.
        Roofline w8a8 = new Roofline(LLAMA3_8B, h100, LLAMA3_8B.params(), KvDType.FP16, Precision.INT8, 1);
        assertThat(w8a8.optimalBatch()).isCloseTo(fp16.optimalBatch() * 1979 / (2 * 989), within(1e-9));
        // Weight-only int8 on fp16 tensor cores: half the bytes, same peak: B* halves.
        Roofline w8a16 = new Roofline(LLAMA3_8B, h100, LLAMA3_8B.params(), KvDType.FP16, Precision.FP16, 1);
        assertThat(w8a16.optimalBatch()).isCloseTo(fp16.optimalBatch() / 2, within(1e-6));
        // And a batch-1 decode of the int8 weights takes half the time of the fp16 ones (bandwidth-bound).
        assertThat(w8a16.decodeStepSeconds(1, 1)).isCloseTo(fp16.decodeStepSeconds(1, 1) / 2, within(0.01 * fp16.decodeStepSeconds(1, 1)));
    }

    @Test
    void tensorParallelAllReduceCostsWhatTheLinkAllows() {
        GpuCatalog c = GpuCatalog.builtIn();
        Gpu nvlink = c.get("H100-80GB-SXM");
        Gpu pcie = new Gpu("H100-on-PCIe", nvlink.memoryBytes(), nvlink.bandwidthBps(), nvlink.fp16Flops(), nvlink.int8Ops(), true,
                "pcie", GpuCatalog.PCIE_GBS * 1e9, nvlink.hourlyUsd());
        long w = 2 * LLAMA3_8B.params();
        int batch = 64;
        double one = new Roofline(LLAMA3_8B, nvlink, w, KvDType.FP16, Precision.FP16, 1).decodeStepSeconds(batch, 512);
        for (Gpu g : new Gpu[]{nvlink, pcie}) {
            double four = new Roofline(LLAMA3_8B, g, w, KvDType.FP16, Precision.FP16, 4).decodeStepSeconds(batch, 512);
            // Two ring all-reduces per layer of batch × hidden fp16 values: 2 (N−1)/N × bytes over the link, plus launch latency.
            double allReduce = 2.0 * LLAMA3_8B.layers() * (2.0 * 3 / 4 * batch * LLAMA3_8B.hidden() * 2 / g.interconnectBps() + Roofline.ALL_REDUCE_LATENCY_S);
            assertThat(four).isCloseTo(one / 4 + allReduce, within(1e-12));
        }
        assertThatThrownBy(() -> Capacity.compute(LLAMA3_8B, nvlink, w, 1024, KvDType.FP16, 0.9, 0, Precision.FP16, 3))
                .isInstanceOf(CapacityException.class).hasMessageContaining("3 GPUs");
    }

    @Test
    void simulatedGpuAccountsRooflineTimePerLaunch() {
        SimulatedGpu gpu = new SimulatedGpu(GpuCatalog.builtIn().get("A100-40GB-PCIe"));
        assertThat(gpu.deviceMemoryBytes()).isEqualTo(40_000_000_000L);
        assertThat(gpu.fits(40_000_000_000L)).isTrue();
        assertThat(gpu.fits(40_000_000_001L)).isFalse();
        assertThatThrownBy(() -> gpu.requireFits(52_000_000_000L, "GPTQ of Llama-2-13B layer 3"))
                .isInstanceOf(CapacityException.class).hasMessageContaining("52.00 GB").hasMessageContaining("40.0 GB of A100-40GB-PCIe");
        long flops = 312_000_000_000L, bytes = 1_555_000_000L;       // 1 ms of each: balanced
        assertThat(gpu.account(flops, bytes, Precision.FP16)).isCloseTo(1e-3, within(1e-15));
        assertThat(gpu.account(flops, 10 * bytes, Precision.FP16)).isCloseTo(10e-3, within(1e-15)); // memory-bound
        assertThat(gpu.account(10 * flops, bytes, Precision.INT8)).isCloseTo(5e-3, within(1e-15));  // compute-bound at the int8 rate
        assertThat(gpu.simulatedSeconds()).isCloseTo(16e-3, within(1e-15));
        assertThat(gpu.accountedFlops()).isEqualTo(12.0 * flops);
        assertThat(gpu.accountedBytes()).isEqualTo(12.0 * bytes);
    }
}
