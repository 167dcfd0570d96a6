package dev.featherweight.worker;

import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;
import org.springframework.validation.annotation.Validated;

import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;

/**
 * {@code featherweight.worker.*}, what every worker has: its name (in events and logs; a random one when
 * unset), how many tasks it runs at once, and the local cache of source models and artifacts with its
 * byte budget, and how long an upload rides out a store outage (5xx) before the attempt fails (retryably).
 */
@Validated
@ConfigurationProperties("featherweight.worker")
public record WorkerProperties(String name, @DefaultValue("1") @Min(1) int concurrency,
                               Path cacheDir, @DefaultValue("50GB") @NotNull DataSize cacheMax,
                               @DefaultValue("2m") @NotNull Duration storeRetry) {

    public WorkerProperties {
        if (cacheDir == null) cacheDir = Path.of(System.getProperty("java.io.tmpdir"), "featherweight-cache");
    }

    /** The configured name, or {@code prefix-<uuid>}. */
    public String nameOr(String prefix) {
        return name != null && !name.isBlank() ? name : prefix + "-" + UUID.randomUUID();
    }
}
