package dev.featherweight.jobs;

import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

import java.time.Duration;

/**
 * {@code featherweight.jobs.*}: attempts per task, the heartbeat lease of a running task, and how long an
 * assigned task may wait for a free worker before it is handed out again. (The outbox poll and lease sweep
 * periods, {@code outbox-poll} and {@code lease-sweep}, are read by their {@code @Scheduled} methods.)
 */
@Validated
@ConfigurationProperties("featherweight.jobs")
public record JobsProperties(@DefaultValue("3") @Min(1) int maxAttempts, @DefaultValue("30s") @NotNull Duration lease,
                             @DefaultValue("6h") @NotNull Duration queueTimeout) {}
