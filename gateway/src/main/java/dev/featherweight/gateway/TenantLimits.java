package dev.featherweight.gateway;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import org.springframework.stereotype.Component;
import org.springframework.web.client.RestClient;

import java.time.Duration;

/**
 * A tenant's limits and usage: limits and stored bytes from the registry, jobs in flight from the job-service.
 * Limits are cached for a few seconds (a change made through this gateway applies at once); usage is read fresh.
 */
@Component
public class TenantLimits {
    private final RestClient registry;
    private final RestClient jobs;
    private final Cache<String, TenantController.TenantView> cache = Caffeine.newBuilder().expireAfterWrite(Duration.ofSeconds(5)).maximumSize(10_000).build();

    public TenantLimits(RestClient registryClient, RestClient jobsClient) {
        this.registry = registryClient;
        this.jobs = jobsClient;
    }

    record RegistryTenant(String id, String name, TenantController.Limits limits, long storageBytes) {}

    record InFlight(long jobsInFlight) {}

    /** Limits (cached briefly) and the bytes stored when they were read. */
    TenantController.Limits of(String tenantId) {
        return cache.get(tenantId, this::view).limits();
    }

    TenantController.TenantView view(String tenantId) {
        RegistryTenant t = registry.get().uri("/internal/tenants/{t}", tenantId).retrieve().body(RegistryTenant.class);
        InFlight f = jobs.get().uri("/internal/tenants/{t}/jobs-in-flight", tenantId).retrieve().body(InFlight.class);
        return new TenantController.TenantView(t.id(), t.name(), t.limits(), new TenantController.Usage(f.jobsInFlight(), t.storageBytes()));
    }

    long jobsInFlight(String tenantId) {
        return jobs.get().uri("/internal/tenants/{t}/jobs-in-flight", tenantId).retrieve().body(InFlight.class).jobsInFlight();
    }

    void forget(String tenantId) {
        cache.invalidate(tenantId);
    }
}
