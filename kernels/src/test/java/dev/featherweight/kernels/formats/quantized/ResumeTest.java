package dev.featherweight.kernels.formats.quantized;

import java.util.Map;
import dev.featherweight.kernels.pipeline.QuantizeJob;
import dev.featherweight.kernels.SharedData;
import dev.featherweight.kernels.core.Parallel;
import dev.featherweight.kernels.pipeline.CalibrationPipeline;
import dev.featherweight.kernels.quant.Recipe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A quantization killed after block k (an exception thrown from the progress listener, after the block's state is
 * saved) and started again with the same model, recipe and calibration resumes at block k + 1 and writes the same
 * bytes as an uninterrupted run; a changed recipe does not reuse the state.
 */
class ResumeTest {
    static final Parallel POOL = new Parallel(2);
    @TempDir
    static Path tmp;

    @AfterAll
    static void close() {
        POOL.close();
    }

    static final class Killed extends RuntimeException {
        Killed(int block) {
            super("killed after block " + block);
        }
    }

    @ParameterizedTest
    @CsvSource({"gptq,1", "awq,2", "nf4,0"})
    void resumedRunWritesIdenticalBytes(String method, int killAfter) throws Exception {
        Path model = SharedData.demoModel("feather-3m");
        Recipe r = method.equals("nf4") ? Recipe.of(method, Map.of("doubleQuant", true)) : Recipe.of(method, Map.of("bits", 4, "groupSize", 128));
        QuantizeJob.Calibration cal = new QuantizeJob.Calibration(SharedData.shared("eval/train.tinystories.tokens.u32"), 4, 64, 99);

        Path straight = tmp.resolve(method + "-straight");
        QuantizeJob.run(model, r, cal, straight, null, null, POOL);

        Path out = tmp.resolve(method + "-resumed"), work = tmp.resolve(method + "-work");
        List<Integer> done = new ArrayList<>();
        CalibrationPipeline.Listener killer = new CalibrationPipeline.Listener() {
            @Override
            public void blockDone(int block, int blocks, double seconds) {
                done.add(block);
                if (block == killAfter) throw new Killed(block);
            }
        };
        assertThatThrownBy(() -> QuantizeJob.run(model, r, cal, out, work, killer, POOL)).isInstanceOf(Killed.class);
        assertThat(out).doesNotExist();
        assertThat(done).last().isEqualTo(killAfter);

        done.clear();
        CalibrationPipeline.Listener counter = new CalibrationPipeline.Listener() {
            @Override
            public void blockDone(int block, int blocks, double seconds) {
                done.add(block);
            }
        };
        QuantizeJob.Result res = QuantizeJob.run(model, r, cal, out, work, counter, POOL);
        assertThat(res.resumedFromBlock()).isEqualTo(killAfter + 1);
        assertThat(done.getFirst()).isEqualTo(killAfter + 1);
        assertThat(Files.readAllBytes(out.resolve("model.safetensors"))).isEqualTo(Files.readAllBytes(straight.resolve("model.safetensors")));
        assertThat(Files.readString(out.resolve("config.json"))).isEqualTo(Files.readString(straight.resolve("config.json")));

        // another recipe over the same work folder starts from block 0
        if (method.equals("gptq")) {
            done.clear();
            QuantizeJob.Result other = QuantizeJob.run(model, Recipe.of(method, Map.of("bits", 3, "groupSize", 128)), cal, tmp.resolve("gptq3"), work, counter, POOL);
            assertThat(other.resumedFromBlock()).isZero();
            assertThat(done.getFirst()).isZero();
        }
    }
}
