package dev.featherweight.kernels.capacity;

import dev.featherweight.catalog.capacity.*;
import java.util.Map;
import dev.featherweight.kernels.SharedData;
import dev.featherweight.kernels.pipeline.QuantizeJob;
import dev.featherweight.kernels.formats.safetensors.SafetensorsModel;
import dev.featherweight.kernels.core.Parallel;
import dev.featherweight.kernels.pipeline.CalibrationPipeline;
import dev.featherweight.kernels.quant.Recipe;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** Capacity of a real GPTQ folder counts its stored bytes: packed qweight, qzeros, fp16 scales, g_idx and the F32 embeddings. */
class GptqArtifactCapacityTest {
    @Test
    void gptqFolderWeightsAreItsTensorBytes(@TempDir Path tmp) {
        Path out = tmp.resolve("gptq4");
        try (Parallel pool = new Parallel(2)) {
            QuantizeJob.run(SharedData.demoModel("feather-3m"), Recipe.of("gptq", Map.of("bits", 4, "groupSize", 128)),
                    new QuantizeJob.Calibration(SharedData.shared("eval/train.tinystories.tokens.u32"), 4, 64, 1), out, null,
                    new CalibrationPipeline.Listener() { }, pool);
        }
        long tensorBytes;
        try (SafetensorsModel m = SafetensorsModel.open(out)) {
            assertThat(m.has("model.layers.0.self_attn.q_proj.qweight")).isTrue();
            tensorBytes = SizedModel.tensorBytes(m);
        }
        SizedModel sized = SizedModel.resolve(out.toString(), null);
        assertThat(sized.weightsBytes()).isEqualTo(tensorBytes);
        assertThat(sized.source()).isEqualTo("artifact");
        // Smaller than the F32 source, larger than the 4-bit codes alone (scales, zeros, g_idx, F32 embeddings and head).
        assertThat(sized.weightsBytes()).isLessThan(4L * 3_279_104).isGreaterThan(3_279_104L / 2);
        CapacityReport r = Capacity.compute(sized.shape(), GpuCatalog.builtIn().get("L4"), sized.weightsBytes(), 512, KvDType.FP16, 0.9,
                Capacity.defaultOverheadBytes(sized.shape()), Precision.FP16, 1);
        assertThat(r.weightsBytes()).isEqualTo(tensorBytes);
    }
}
