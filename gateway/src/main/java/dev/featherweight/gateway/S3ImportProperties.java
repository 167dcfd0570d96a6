package dev.featherweight.gateway;

import jakarta.validation.constraints.NotBlank;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/** {@code featherweight.import.s3.*}: the S3 endpoint that {@code s3://bucket/prefix} imports read from. */
@Validated
@ConfigurationProperties("featherweight.import.s3")
public record S3ImportProperties(@DefaultValue("http://localhost:9000") @NotBlank String endpoint,
                                 @DefaultValue("featherweight") @NotBlank String accessKey,
                                 @DefaultValue("featherweight") @NotBlank String secretKey) {}
