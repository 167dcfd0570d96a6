package dev.featherweight.gateway;

import jakarta.validation.Valid;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;
import org.springframework.validation.annotation.Validated;

import java.net.URI;
import java.time.Duration;

/**
 * The gateway's settings under {@code featherweight.*}: the bootstrap admin key ({@code admin-key}), the
 * quantizer-worker's simulated GPU for pre-flight estimates ({@code quantizer-gpu}, a catalogue GPU name), the
 * Hugging Face Hub for {@code hf://} imports ({@code hf.url}), the largest JSON body
 * ({@code gateway.max-json-body}) and how long a READY model is remembered ({@code gateway.ready-model-ttl}).
 */
@Validated
@ConfigurationProperties("featherweight")
public record GatewayProperties(@NotBlank String adminKey, @DefaultValue("A100-40GB-PCIe") @NotBlank String quantizerGpu,
                                @DefaultValue @Valid Hub hf, @DefaultValue @Valid Limits gateway) {

    public record Hub(@DefaultValue("https://huggingface.co") @NotNull URI url) {}

    /**
     * {@code readyModelTtl}: a READY model stays READY, so a burst of submissions asks the registry once per
     * model and period instead of queueing on its connection pool.
     */
    public record Limits(@DefaultValue("256KB") @NotNull DataSize maxJsonBody, @DefaultValue("60s") @NotNull Duration readyModelTtl) {}
}
