package dev.featherweight.quantizer;

import dev.featherweight.catalog.methods.GgufMethod;
import dev.featherweight.kernels.formats.gguf.GgufFile;
import dev.featherweight.catalog.methods.GptqMethod;
import dev.featherweight.catalog.methods.Nf4Method;
import dev.featherweight.catalog.methods.RtnMethod;
import dev.featherweight.kernels.formats.FormatException;
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
 * on another attempt are final. The recipes are the catalogue's resolved ones (every parameter filled).
 */
class KernelsQuantizationEngineTest {
    static final Path FEATHER = Path.of(System.getProperty("fw.repo.root", "..")).resolve("models/feather-3m");

    @Test
    void aRecipeMakesTheBytesTheCommandLineMakesWithTheSameValuesAndReportsEachBlock(@TempDir Path tmp) throws Exception {
        List<String> progress = new ArrayList<>();
        QuantizationEngine.Result r = new KernelsQuantizationEngine().quantize(FEATHER, new RtnMethod.Resolved(3, 64, false), tmp.resolve("task"),
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

    /** gguf with imatrix: the worker's importance matrix over its calibration text, then the mix — the tensors fw imatrix + fw quantize --imatrix write. */
    @Test
    void aGgufRecipeWithImatrixHasTheTensorsOfTheCommandLinesImatrixThenQuantize(@TempDir Path tmp) throws Exception {
        Path text = tmp.resolve("calibration.txt");
        String dev = Files.readString(FEATHER.resolve("../../../shared/eval/dev.tinystories.txt").normalize());
        Files.writeString(text, dev.substring(0, 3000)); // one 512-token chunk
        QuantizationEngine.Result r = new KernelsQuantizationEngine(text).quantize(FEATHER, new GgufMethod.Resolved("IQ4_XS", true), tmp.resolve("task"),
                (done, total, module) -> { });
        Path imatrix = tmp.resolve("cli.imatrix"), cli = tmp.resolve("cli.gguf");
        assertThat(new CommandLine(new Fw()).execute("imatrix", "--model", FEATHER.toString(), "--text", text.toString(), "--out", imatrix.toString())).isZero();
        assertThat(new CommandLine(new Fw()).execute("quantize", "--model", FEATHER.toString(), "--type", "IQ4_XS", "--imatrix", imatrix.toString(),
                "--out", cli.toString())).isZero();
        try (GgufFile w = GgufFile.open(tmp.resolve("task").resolve(r.files().getFirst())); GgufFile c = GgufFile.open(cli)) {
            assertThat(w.tensorInfos()).hasSameSizeAs(c.tensorInfos());
            for (var t : c.tensorInfos()) {
                assertThat(w.tensor(t.name()).data().mismatch(c.tensor(t.name()).data())).as(t.name()).isEqualTo(-1);
            }
            assertThat(w.get("quantize.imatrix.entries_count").asInt()).isEqualTo(28);
            assertThat(w.get("quantize.imatrix.chunks_count").asInt()).isEqualTo(c.get("quantize.imatrix.chunks_count").asInt()).isPositive();
        }
    }

    /** Without a calibration text the worker cannot compute an imatrix: refused on every attempt. */
    @Test
    void aGgufRecipeWithImatrixNeedsTheCalibrationText(@TempDir Path tmp) {
        assertThatThrownBy(() -> new KernelsQuantizationEngine().quantize(FEATHER, new GgufMethod.Resolved("IQ4_XS", true), tmp, (d, t, m) -> { }))
                .isInstanceOfSatisfying(TaskFailure.class, f -> assertThat(f.retryable).isFalse())
                .hasMessageContaining("FW_CALIBRATION");
    }

    @Test
    void aCompressedTensorsRecipeMakesTheCommandLinesFolder(@TempDir Path tmp) throws Exception {
        var recipe = dev.featherweight.catalog.Catalog.builtIn().resolve(java.util.Map.of("method", "compressed-tensors", "scheme", "W8A8"), null);
        QuantizationEngine.Result r = new KernelsQuantizationEngine().quantize(FEATHER, recipe, tmp.resolve("task"), (done, total, module) -> { });
        assertThat(r.files()).contains("model/model.safetensors", "model/config.json", "model/recipe.yaml");
        Path cli = tmp.resolve("cli");
        int exit = new CommandLine(new Fw()).execute("quantize", "--model", FEATHER.toString(), "--format", "compressed-tensors", "--scheme", "W8A8",
                "--out", cli.toString());
        assertThat(exit).isZero();
        for (String f : List.of("model.safetensors", "config.json", "recipe.yaml")) {
            assertThat(Files.readAllBytes(tmp.resolve("task/model").resolve(f))).as(f).isEqualTo(Files.readAllBytes(cli.resolve(f)));
        }
    }

    @Test
    void aCancelledTaskStopsAtTheBlockBoundaryWithTheCallbacksException(@TempDir Path tmp) {
        InterruptedException cancelled = new InterruptedException("task cancelled");
        assertThatThrownBy(() -> new KernelsQuantizationEngine().quantize(FEATHER, new Nf4Method.Resolved(64, false), tmp, (done, total, module) -> {
            if (done == 2) throw cancelled;
        })).isSameAs(cancelled);
        assertThat(tmp.resolve("model")).doesNotExist();
    }

    @Test
    void whatTheKernelsCannotRunIsRefusedAndFailsFinally(@TempDir Path tmp) {
        KernelsQuantizationEngine engine = new KernelsQuantizationEngine();
        assertThat(engine.supports(new GptqMethod.Resolved(4, 128, 0.01, false, true, 16, 64))).isTrue();
        assertThat(engine.supports(new Nf4Method.Resolved(128, false))).isFalse();   // the kernels write bitsandbytes' 64-weight blocks only
        assertThat(engine.supports(new RtnMethod.Resolved(5, 128, true))).isFalse();
        assertThat(engine.supports(new GgufMethod.Resolved("Q4_K_M"))).isTrue();

        // GPTQ without a calibration file: the same on every attempt, so not retried
        assertThatThrownBy(() -> engine.quantize(FEATHER, new GptqMethod.Resolved(4, 128, 0.01, false, true, 4, 32), tmp, (d, t, m) -> { }))
                .isInstanceOfSatisfying(TaskFailure.class, f -> assertThat(f.retryable).isFalse())
                .hasMessageContaining("needs --calibration");
        // a folder that is not a model: the kernels' typed refusal, which QuantizeHandler judges by its kind
        assertThatThrownBy(() -> engine.quantize(tmp, new RtnMethod.Resolved(4, 128, true), tmp.resolve("out"), (d, t, m) -> { }))
                .isInstanceOfSatisfying(FormatException.class, f -> assertThat(f.kind()).isNotIn(FormatException.Kind.IO, FormatException.Kind.OUTPUT_BUSY));
    }
}
