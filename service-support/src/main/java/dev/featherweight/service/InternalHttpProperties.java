package dev.featherweight.service;

import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

import java.net.URI;
import java.time.Duration;

/**
 * Where the internal services are and how to call them ({@code featherweight.registry-url},
 * {@code featherweight.jobs-url}, {@code featherweight.http.*}). The read timeout bounds the wait for a
 * response — a model upload through the gateway waits while the registry stores the file, hence minutes.
 */
@Validated
@ConfigurationProperties("featherweight")
public record InternalHttpProperties(@NotNull URI registryUrl, @NotNull URI jobsUrl, @DefaultValue @NotNull Http http) {

    public record Http(@DefaultValue("5s") @NotNull Duration connectTimeout,
                       @DefaultValue("10m") @NotNull Duration readTimeout,
                       /* retries of an idempotent request after a transient failure (0: none) */
                       @DefaultValue("3") @Min(0) int retries,
                       /* first pause between retries; doubled each time */
                       @DefaultValue("200ms") @NotNull Duration retryDelay) {}
}
