package dev.featherweight.kernels.capacity;

import dev.featherweight.kernels.SharedData;
import dev.featherweight.kernels.cli.Fw;
import dev.featherweight.kernels.formats.gguf.GgufFile;
import dev.featherweight.kernels.formats.gguf.GgufTensorInfo;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** The seed's worked example and the acceptance figures, computed (never typed in as results). */
class CapacityTest {
    static final GpuCatalog CATALOG = GpuCatalog.builtIn();
    // Published shapes (config.json of meta-llama/Llama-2-13b-hf and Meta-Llama-3-8B).
    static final ModelShape LLAMA2_13B = new ModelShape("Llama-2-13B", 40, 5120, 40, 40, 128, 13824, 32000, false, 4096);
    static final ModelShape LLAMA3_8B = new ModelShape("Llama-3-8B", 32, 4096, 32, 8, 128, 14336, 128256, false, 8192);

    @Test
    void seedLlama2_13bKvCachePerSequence() {
        // 2 bytes × 2 (K and V) × 40 layers × 5120 × 4096 tokens
        double perToken = LLAMA2_13B.kvBytesPerToken(KvDType.FP16);
        assertThat(perToken).isEqualTo(2.0 * 2 * 40 * 5120);
        long perSequence = (long) (perToken * 4096);
        assertThat(perSequence).isEqualTo(3_355_443_200L);
        assertThat(perSequence / (double) (1L << 30)).isEqualTo(3.125); // the seed's 3.125 is GiB, not GB
    }

    @Test
    void seedFourSequencesBeside26GbOfWeightsOnA40GbGpu() {
        Gpu a100 = CATALOG.get("A100-40GB-PCIe");
        // The seed's setting: the whole 40 GB, nothing reserved, every sequence preallocated at 4096 tokens.
        CapacityReport r = Capacity.compute(LLAMA2_13B, a100, 26_000_000_000L, 4096, KvDType.FP16, 1.0, 0, Precision.FP16, 1);
        assertThat(r.kvBudgetBytes()).isEqualTo(14_000_000_000L);
        assertThat(r.maxSequences()).isEqualTo(4); // 14e9 / 3.355e9 = 4.17
        // And the seed's own units agree: 14 GiB / 3.125 GiB = 4.48 → 4 as well.
        assertThat((long) (14.0 / 3.125)).isEqualTo(r.maxSequences());
        // With vLLM's 0.9 utilization and the default overhead only 2 fit.
        CapacityReport real = Capacity.compute(LLAMA2_13B, a100, 26_000_000_000L, 4096, KvDType.FP16, 0.9,
                Capacity.defaultOverheadBytes(LLAMA2_13B), Precision.FP16, 1);
        assertThat(real.maxSequences()).isEqualTo(2);
    }

    @Test
    void optimalBatchOfFp16WeightsIsPeakOverBandwidth() {
        Gpu a100 = CATALOG.get("A100-40GB-PCIe");
        long fp16Bytes = 2 * LLAMA2_13B.params();
        Roofline r = new Roofline(LLAMA2_13B, a100, fp16Bytes, KvDType.FP16, Precision.FP16, 1);
        double seedFormula = 312e12 / (2 * 1555e9); // the seed: "about 100"
        assertThat(seedFormula).isCloseTo(100.3, within(0.1));
        // Weights streamed per step = 2 bytes × matmul params; FLOPs per token = 2 × matmul params:
        // equal at B = peak / bandwidth, twice the seed's figure (its formula holds for 1-byte weights).
        assertThat(r.optimalBatch()).isCloseTo(312e12 / 1555e9, within(1e-6));
        assertThat(r.optimalBatch()).isCloseTo(2 * seedFormula, within(1e-6));
        Roofline int8 = new Roofline(LLAMA2_13B, a100, LLAMA2_13B.params(), KvDType.FP16, Precision.FP16, 1);
        assertThat(int8.optimalBatch()).isCloseTo(seedFormula, within(1e-6));
        // At B* the two roofline terms meet (KV traffic aside): below it memory-bound, far above compute-bound.
        assertThat(r.memoryBound(1, 1)).isTrue();
        assertThat(r.memoryBound(400, 1)).isFalse();
        // Quantized weights move fewer bytes, so B* drops in proportion.
        Roofline q4 = new Roofline(LLAMA2_13B, a100, WeightsDType.bytes(LLAMA2_13B, "q4_k_m"), KvDType.FP16, Precision.FP16, 1);
        assertThat(q4.optimalBatch() / r.optimalBatch()).isCloseTo(4.85 / 16, within(1e-3));
    }

    @Test
    void llama3_8bKvBytesPerTokenForGqaMqaAndFp8() {
        assertThat(LLAMA3_8B.kvBytesPerToken(KvDType.FP16)).isEqualTo(131_072.0);
        ModelShape mqa = new ModelShape("mqa", 32, 4096, 32, 1, 128, 14336, 128256, false, 8192);
        assertThat(mqa.kvBytesPerToken(KvDType.FP16)).isEqualTo(131_072.0 / 8);
        ModelShape mha = new ModelShape("mha", 32, 4096, 32, 32, 128, 14336, 128256, false, 8192);
        assertThat(mha.kvBytesPerToken(KvDType.FP16)).isEqualTo(131_072.0 * 4);
        assertThat(LLAMA3_8B.kvBytesPerToken(KvDType.FP8)).isEqualTo(131_072.0 / 2);
        assertThat(LLAMA3_8B.kvBytesPerToken(KvDType.INT4)).isEqualTo(131_072.0 / 4);
        assertThat(LLAMA3_8B.kvBytesPerToken(KvDType.FP32)).isEqualTo(131_072.0 * 2);
        // Published parameter counts: Llama-3-8B 8.03 B, Llama-2-13B 13.0 B.
        assertThat(LLAMA3_8B.params()).isEqualTo(8_030_261_248L);
        assertThat(LLAMA2_13B.params()).isEqualTo(13_015_864_320L);
    }

    @Test
    void realArtifactsCountTheirTensorBytes() {
        Path gguf = SharedData.shared("golden/gguf/feather-3m-Q4_K_M.gguf");
        long expected = 0;
        try (GgufFile g = GgufFile.open(gguf)) {
            for (GgufTensorInfo t : g.tensorInfos()) expected += t.bytes();
        }
        assertThat(expected).isEqualTo(1_996_032L); // tensor_bytes of the reference listing
        SizedModel m = SizedModel.resolve(gguf.toString(), null);
        assertThat(m.weightsBytes()).isEqualTo(expected);
        assertThat(m.weightsBytes() * 8.0 / m.shape().params()).isCloseTo(4.87, within(0.01)); // not 4.0
        SizedModel hf = SizedModel.resolve(SharedData.demoModel("feather-3m").toString(), null);
        assertThat(hf.weightsBytes()).isEqualTo(4L * 3_279_104);
        assertThat(SizedModel.resolve(SharedData.demoModel("feather-3m").toString(), "fp16").weightsBytes()).isEqualTo(2L * 3_279_104);
    }

    @Test
    void badInputSaysWhatAndHowMuch() {
        assertThatThrownBy(() -> CATALOG.get("B200")).isInstanceOf(CapacityException.class).hasMessageContaining("B200").hasMessageContaining("A100-40GB-PCIe");
        Gpu a100 = CATALOG.get("A100-40GB-PCIe");
        assertThatThrownBy(() -> Capacity.compute(LLAMA2_13B, a100, 26_000_000_000L, 8192, KvDType.FP16, 0.9, 0, Precision.FP16, 1))
                .isInstanceOf(CapacityException.class).hasMessageContaining("8192").hasMessageContaining("4096");
        assertThatThrownBy(() -> Capacity.compute(LLAMA2_13B, CATALOG.get("T4"), 26_000_000_000L, 4096, KvDType.FP16, 0.9, 1_200_000_000L, Precision.FP16, 1))
                .isInstanceOf(CapacityException.class)
                .hasMessageContaining("weights 26.0 GB + overhead 1.2 GB").hasMessageContaining("14.4 GB usable on T4");
    }

    @Test
    void cliJsonCarriesTheContractedFields() throws Exception {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PrintStream old = System.out;
        int code;
        try {
            System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
            code = Fw.run("capacity", "--model", "Llama-3-8B", "--gpu", "H100-80GB-SXM", "--ctx", "8192", "--json");
        } finally {
            System.setOut(old);
        }
        assertThat(code).isZero();
        JsonNode j = JsonMapper.builder().build().readTree(buf.toString(StandardCharsets.UTF_8));
        for (String f : new String[]{"weightsBytes", "kvBytesPerToken", "kvBytesPerSequence", "usableBytes", "maxSequences", "optimalBatch", "decodeTokensPerSecond"}) {
            assertThat(j.has(f)).as(f).isTrue();
        }
        assertThat(j.get("kvBytesPerToken").asDouble()).isEqualTo(131_072.0);
        assertThat(j.get("kvBytesPerSequence").asLong()).isEqualTo(131_072L * 8192);
        assertThat(j.get("usableBytes").asLong()).isEqualTo(72_000_000_000L);
    }
}
