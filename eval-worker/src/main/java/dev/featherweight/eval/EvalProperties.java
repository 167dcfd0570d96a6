package dev.featherweight.eval;

import jakarta.validation.constraints.NotNull;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

import java.nio.file.Path;

/** {@code featherweight.eval.*}: where the evaluation texts ({@code <name>.txt}) are. */
@Validated
@ConfigurationProperties("featherweight.eval")
public record EvalProperties(@DefaultValue("models") @NotNull Path textsDir) {}
