package dev.featherweight.quantizer;

import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

import java.nio.file.Path;
import java.time.Duration;

/**
 * {@code featherweight.worker.*} of the quantizer: the simulated GPU (a name of the kernels' catalog), the
 * calibration text for GPTQ / AWQ (none: those recipes fail), the work directory where per-block results
 * survive a retried task, and a pause after each block (tests use it to catch a task mid-way).
 */
@Validated
@ConfigurationProperties("featherweight.worker")
public record QuantizerProperties(@DefaultValue("A100-40GB-PCIe") @NotBlank String gpu, Path calibration, Path workDir,
                                  @DefaultValue("0ms") @NotNull Duration blockDelay) {

    public QuantizerProperties {
        if (calibration != null && calibration.toString().isBlank()) calibration = null; // FW_CALIBRATION unset
        if (workDir == null) workDir = Path.of(System.getProperty("java.io.tmpdir"), "featherweight-work");
    }
}
