package dev.featherweight.gateway;

import dev.featherweight.contracts.registry.NewKey;
import dev.featherweight.contracts.registry.NewTenant;
import dev.featherweight.contracts.registry.Tenant;
import dev.featherweight.service.RegistryApi;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.tags.Tag;
import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.*;

import java.util.ArrayList;
import java.util.List;

@RestController
@RequestMapping("/api/v1/admin")
@Tag(name = "admin", description = "tenants and API keys (bootstrap admin key or an admin tenant key)")
public class AdminController {
    private final RegistryApi registry;

    public AdminController(RegistryApi registry) {
        this.registry = registry;
    }

    public record TenantWithKey(String id, String name, String apiKey) {}

    @PostMapping("/tenants")
    @ResponseStatus(HttpStatus.CREATED)
    @Operation(summary = "Create a tenant and its first API key (shown once)")
    public TenantWithKey createTenant(@RequestBody NewTenant body) {
        List<String> errors = new ArrayList<>();
        if (body.name() == null || !body.name().matches("[a-z0-9][a-z0-9-]{1,62}"))
            errors.add("name: 2-63 lowercase letters, digits or '-'");
        if (!errors.isEmpty()) throw new ApiException(HttpStatus.BAD_REQUEST, "invalid tenant", errors);
        Tenant t = registry.createTenant(body);
        return new TenantWithKey(t.id(), t.name(), newKey(t.id(), false));
    }

    @GetMapping("/tenants")
    public List<Tenant> tenants() {
        return registry.tenants();
    }

    public record KeyRequest(boolean admin) {}

    public record Key(String tenantId, String apiKey) {}

    @PostMapping("/tenants/{tenantId}/keys")
    @ResponseStatus(HttpStatus.CREATED)
    @Operation(summary = "Create another API key for a tenant (shown once)")
    public Key createKey(@PathVariable String tenantId, @RequestBody(required = false) KeyRequest body) {
        return new Key(tenantId, newKey(tenantId, body != null && body.admin()));
    }

    private String newKey(String tenantId, boolean admin) {
        String key = Auth.newKey();
        registry.addKey(tenantId, new NewKey(Auth.hash(key), admin));
        return key;
    }
}
