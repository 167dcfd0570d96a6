package dev.featherweight.registry;

import dev.featherweight.contracts.registry.Model;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

import java.time.Duration;

/**
 * A model whose upload never finished (the uploader went away, a gateway died mid-upload) would keep its
 * name and its blobs forever: after {@code upload-timeout} it is deleted, so the name can be used again.
 */
@Component
public class AbandonedUploads {
    private static final Logger log = LoggerFactory.getLogger(AbandonedUploads.class);
    private final Registry registry;
    private final Duration timeout;

    public AbandonedUploads(Registry registry, @Value("${featherweight.registry.upload-timeout:1h}") Duration timeout) {
        this.registry = registry;
        this.timeout = timeout;
    }

    @Scheduled(fixedDelayString = "${featherweight.registry.upload-sweep:1m}", initialDelayString = "${featherweight.registry.upload-sweep:1m}")
    public void sweep() {
        for (Model m : registry.abandonedUploads(timeout)) {
            try {
                registry.deleteModel(m.tenantId(), m.name());
                log.warn("deleted model {} of tenant {}: still uploading {} after it was created", m.name(), m.tenantId(), timeout);
            } catch (RuntimeException e) { // S3 down: the next sweep tries again
                log.warn("could not delete abandoned upload {}: {}", m.name(), e.toString());
            }
        }
    }
}
