package dev.featherweight.gateway;

import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.tags.Tag;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.*;
import org.springframework.web.client.RestClient;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

@RestController
@RequestMapping("/api/v1/admin")
@Tag(name = "admin", description = "tenants, API keys, limits and import sources (bootstrap admin key or an admin tenant key)")
public class AdminController {
    private final RestClient registry;
    private final GatewaySecurity.ApiKeys keys;
    private final TenantLimits limits;
    private final S3Import s3;

    public AdminController(RestClient registryClient, GatewaySecurity.ApiKeys keys, TenantLimits limits, S3Import s3) {
        this.registry = registryClient;
        this.keys = keys;
        this.limits = limits;
        this.s3 = s3;
    }

    public record NewTenant(String name) {}

    public record TenantWithKey(String id, String name, String keyId, String apiKey) {}

    public record Tenant(String id, String name) {}

    @PostMapping("/tenants")
    @ResponseStatus(HttpStatus.CREATED)
    @Operation(summary = "Create a tenant and its first API key (shown once)")
    public TenantWithKey createTenant(@RequestBody NewTenant body) {
        List<String> errors = new ArrayList<>();
        if (body.name() == null || !body.name().matches("[a-z0-9][a-z0-9-]{1,62}"))
            errors.add("name: 2-63 lowercase letters, digits or '-'");
        if (!errors.isEmpty()) throw new ApiException(HttpStatus.BAD_REQUEST, "invalid tenant", errors);
        Tenant t = registry.post().uri("/internal/tenants").body(body).retrieve().body(Tenant.class);
        Key key = newKey(t.id(), false);
        return new TenantWithKey(t.id(), t.name(), key.keyId(), key.apiKey());
    }

    @GetMapping("/tenants")
    public List<Tenant> tenants() {
        return List.of(registry.get().uri("/internal/tenants").retrieve().body(Tenant[].class));
    }

    public record NewKey(boolean admin) {}

    public record Key(String tenantId, String keyId, String apiKey) {}

    public record KeyInfo(String id, boolean admin, java.time.Instant createdAt) {}

    @PostMapping("/tenants/{tenantId}/keys")
    @ResponseStatus(HttpStatus.CREATED)
    @Operation(summary = "Create another API key for a tenant (shown once)")
    public Key createKey(@PathVariable String tenantId, @RequestBody(required = false) NewKey body) {
        return newKey(Ids.check("tenantId", tenantId), body != null && body.admin());
    }

    @GetMapping("/tenants/{tenantId}/keys")
    @Operation(summary = "The keys of a tenant (ids only; a key is shown once, when created)")
    public List<KeyInfo> keys(@PathVariable String tenantId) {
        return List.of(registry.get().uri("/internal/tenants/{t}/keys", Ids.check("tenantId", tenantId)).retrieve().body(KeyInfo[].class));
    }

    @DeleteMapping("/tenants/{tenantId}/keys/{keyId}")
    @ResponseStatus(HttpStatus.NO_CONTENT)
    @Operation(summary = "Revoke a key: refused by this gateway at once, by every gateway within featherweight.gateway.key-cache-ttl (30 s)")
    public void revokeKey(@PathVariable String tenantId, @PathVariable String keyId) {
        registry.delete().uri("/internal/tenants/{t}/keys/{k}", Ids.check("tenantId", tenantId), Ids.check("keyId", keyId)).retrieve().toBodilessEntity();
        keys.forgetAll();
    }

    @PutMapping("/tenants/{tenantId}/limits")
    @Operation(summary = "Set a tenant's limits (null = the platform default): jobs in flight, storage bytes, bytes of one upload")
    public TenantController.TenantView setLimits(@PathVariable String tenantId, @RequestBody TenantController.Limits body) {
        registry.put().uri("/internal/tenants/{t}/limits", Ids.check("tenantId", tenantId)).body(body).retrieve().toBodilessEntity();
        limits.forget(tenantId);
        return limits.view(tenantId);
    }

    public record ImportSource(String endpoint, String accessKey, String secretKey) {}

    public record ImportSourceInfo(String bucket, String endpoint, String accessKey) {}

    @PutMapping("/tenants/{tenantId}/import-sources/{bucket}")
    @ResponseStatus(HttpStatus.NO_CONTENT)
    @Operation(summary = "Allow a tenant to import s3://{bucket}/… from this S3 endpoint with these credentials (never the platform's own store)")
    public void putImportSource(@PathVariable String tenantId, @PathVariable String bucket, @RequestBody ImportSource body) {
        List<String> errors = new ArrayList<>();
        if (!bucket.matches("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")) errors.add("bucket: an S3 bucket name (3-63 lowercase letters, digits, '.', '-')");
        URI endpoint = null;
        try {
            endpoint = body.endpoint() == null ? null : URI.create(body.endpoint());
        } catch (IllegalArgumentException e) {
            // reported below
        }
        if (endpoint == null || endpoint.getHost() == null || !List.of("http", "https").contains(endpoint.getScheme()))
            errors.add("endpoint: an http(s) URL of an S3 endpoint");
        if (body.accessKey() == null || body.accessKey().isBlank()) errors.add("accessKey: required");
        if (body.secretKey() == null || body.secretKey().isBlank()) errors.add("secretKey: required");
        if (!errors.isEmpty()) throw new ApiException(HttpStatus.BAD_REQUEST, "invalid import source", errors);
        if (s3.isPlatformStore(body.endpoint(), bucket))
            throw new ApiException(HttpStatus.BAD_REQUEST, "forbidden-import-source", "s3://" + bucket + " on that endpoint is the platform's own store, never an import source", List.of());
        registry.put().uri("/internal/tenants/{t}/import-sources/{b}", Ids.check("tenantId", tenantId), bucket)
                .body(Map.of("endpoint", body.endpoint(), "accessKey", body.accessKey(), "secretKey", body.secretKey())).retrieve().toBodilessEntity();
    }

    @GetMapping("/tenants/{tenantId}/import-sources")
    public List<ImportSourceInfo> importSources(@PathVariable String tenantId) {
        return List.of(registry.get().uri("/internal/tenants/{t}/import-sources", Ids.check("tenantId", tenantId)).retrieve().body(ImportSourceInfo[].class));
    }

    @DeleteMapping("/tenants/{tenantId}/import-sources/{bucket}")
    @ResponseStatus(HttpStatus.NO_CONTENT)
    public void deleteImportSource(@PathVariable String tenantId, @PathVariable String bucket) {
        registry.delete().uri("/internal/tenants/{t}/import-sources/{b}", Ids.check("tenantId", tenantId), Ids.check("bucket", bucket))
                .retrieve().toBodilessEntity();
    }

    record RegistryKeyId(String keyId) {}

    private Key newKey(String tenantId, boolean admin) {
        String key = Auth.newKey();
        RegistryKeyId id = registry.post().uri("/internal/tenants/{t}/keys", tenantId)
                .body(Map.of("keyHash", Auth.hash(key), "admin", admin)).retrieve().body(RegistryKeyId.class);
        return new Key(tenantId, id.keyId(), key);
    }
}
