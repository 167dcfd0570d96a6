package dev.featherweight.quantizer;

import dev.featherweight.contracts.Recipe;

import java.nio.file.Path;

/**
 * The kernels module behind the {@link QuantizationEngine} port. Each recipe maps to one kernels entry
 * point; a recipe whose kernels have not landed yet is refused (the task fails, not retried, saying so).
 */
public class KernelsQuantizationEngine implements QuantizationEngine {

    @Override
    public boolean supports(Recipe recipe) {
        return false;
    }

    @Override
    public Result quantize(Path modelDir, Recipe recipe, Path outDir, Progress progress) {
        throw new UnsupportedOperationException(recipe.label());
    }

    @Override
    public String version() {
        return "featherweight-kernels (" + dev.featherweight.kernels.cli.Fw.class.getAnnotation(picocli.CommandLine.Command.class).version()[0] + ")";
    }
}
