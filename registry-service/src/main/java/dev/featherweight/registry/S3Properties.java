package dev.featherweight.registry;

import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

import java.time.Duration;

/**
 * {@code featherweight.s3.*}: the blob store (S3 or MinIO), and how a put is retried: {@code attempts} in
 * all, pausing {@code backoff} × attempt between them, each call bounded by {@code timeout}.
 */
@Validated
@ConfigurationProperties("featherweight.s3")
public record S3Properties(@NotBlank String endpoint, @NotBlank String accessKey, @NotBlank String secretKey,
                           @DefaultValue("featherweight") @NotBlank String bucket, @DefaultValue("3") @Min(1) int attempts,
                           @DefaultValue("200ms") @NotNull Duration backoff, @DefaultValue("15s") @NotNull Duration timeout) {}
