package dev.featherweight.jobs;

import jakarta.validation.Valid;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

import java.time.Duration;

/**
 * {@code featherweight.jobs.*}: attempts per task, the heartbeat lease of a running task, how long an
 * assigned task may wait for a free worker before it is handed out again, the backoff before a transient
 * failure's next attempt (doubling per attempt), how old an unclaimed offer gets before its TaskAssigned is
 * written again (the Kafka message may be gone), and how long published outbox rows and processed-message
 * ids are kept. (The periods of the outbox poll, lease sweep, re-offer sweep and retention sweep —
 * {@code outbox-poll}, {@code lease-sweep}, {@code reoffer-sweep}, {@code retention.sweep} — are read by
 * their {@code @Scheduled} methods.)
 */
@Validated
@ConfigurationProperties("featherweight.jobs")
public record JobsProperties(@DefaultValue("3") @Min(1) int maxAttempts, @DefaultValue("30s") @NotNull Duration lease,
                             @DefaultValue("6h") @NotNull Duration queueTimeout, @DefaultValue("5s") @NotNull Duration retryBackoff,
                             @DefaultValue("15m") @NotNull Duration reofferAfter, @DefaultValue @Valid @NotNull RetentionPeriods retention) {

    /** {@code featherweight.jobs.retention.*}: how long a published outbox row and a processed message id are kept. */
    public record RetentionPeriods(@DefaultValue("7d") @NotNull Duration outbox, @DefaultValue("7d") @NotNull Duration processedMessages) {}
}
