package dev.featherweight.quantizer;

import dev.featherweight.contracts.Recipe;
import dev.featherweight.kernels.cli.Fw;
import dev.featherweight.worker.TaskFailure;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The worker runs the kernels' pipeline directly: a platform recipe gives the same typed parameters, and so the same
 * bytes, as {@code fw quantize --method} with the same values; progress comes per block; failures that would repeat
 * on another attempt are final.
 */
class KernelsQuantizationEngineTest {
    static final Path FEATHER = Path.of(System.getProperty("fw.repo.root", "..")).resolve("models/feather-3m");

    @Test
    void aRecipeMakesTheBytesTheCommandLineMakesWithTheSameValuesAndReportsEachBlock(@TempDir Path tmp) throws Exception {
        List<String> progress = new ArrayList<>();
        QuantizationEngine.Result r = new KernelsQuantizationEngine().quantize(FEATHER, new Recipe.Rtn(3, 64, false), tmp.resolve("task"),
                (done, total, module) -> progress.add(done + "/" + total + " " + module));
        assertThat(progress).containsExactly("1/5 blk.0", "2/5 blk.1", "3/5 blk.2", "4/5 blk.3", "5/5 output");
        assertThat(r.files()).contains("model/model.safetensors", "model/config.json", "model/quantize_config.json");
        assertThat(r.resumedBlocks()).isZero();

        Path cli = tmp.resolve("cli");
        int exit = new CommandLine(new Fw()).execute("quantize", "--model", FEATHER.toString(), "--method", "rtn", "--bits", "3",
                "--group-size", "64", "--asym", "--out", cli.toString());
        assertThat(exit).isZero();
        for (String f : List.of("model.safetensors", "config.json", "quantize_config.json")) {
            assertThat(Files.readAllBytes(tmp.resolve("task/model").resolve(f))).as(f).isEqualTo(Files.readAllBytes(cli.resolve(f)));
        }
    }

    @Test
    void aCancelledTaskStopsAtTheBlockBoundaryWithTheCallbacksException(@TempDir Path tmp) {
        InterruptedException cancelled = new InterruptedException("task cancelled");
        assertThatThrownBy(() -> new KernelsQuantizationEngine().quantize(FEATHER, new Recipe.Nf4(64, false), tmp, (done, total, module) -> {
            if (done == 2) throw cancelled;
        })).isSameAs(cancelled);
        assertThat(tmp.resolve("model")).doesNotExist();
    }

    @Test
    void whatTheKernelsCannotRunIsRefusedAndFailsFinally(@TempDir Path tmp) {
        KernelsQuantizationEngine engine = new KernelsQuantizationEngine();
        assertThat(engine.supports(new Recipe.Gptq(4, 128, false, 0.01, 16, 64, true))).isTrue();
        assertThat(engine.supports(new Recipe.Nf4(128, false))).isFalse();   // the kernels write bitsandbytes' 64-weight blocks only
        assertThat(engine.supports(new Recipe.Rtn(5, 128, true))).isFalse();
        assertThat(engine.supports(new Recipe.Gguf("Q4_K_M"))).isTrue();

        // GPTQ without a calibration file: the same on every attempt, so not retried
        assertThatThrownBy(() -> engine.quantize(FEATHER, new Recipe.Gptq(4, 128, false, 0.01, 4, 32, true), tmp, (d, t, m) -> { }))
                .isInstanceOfSatisfying(TaskFailure.class, f -> assertThat(f.retryable).isFalse())
                .hasMessageContaining("needs --calibration");
        // a folder that is not a model
        assertThatThrownBy(() -> engine.quantize(tmp, new Recipe.Rtn(4, 128, true), tmp.resolve("out"), (d, t, m) -> { }))
                .isInstanceOfSatisfying(TaskFailure.class, f -> assertThat(f.retryable).isFalse());
    }
}
