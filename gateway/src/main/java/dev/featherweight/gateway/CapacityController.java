package dev.featherweight.gateway;

import dev.featherweight.contracts.EvalSpec;
import dev.featherweight.contracts.Gpu;
import dev.featherweight.contracts.Json;
import dev.featherweight.contracts.KvCapacity;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.tags.Tag;
import jakarta.servlet.http.HttpServletRequest;
import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.*;
import org.springframework.web.client.RestClient;
import tools.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The GPU catalog and a synchronous capacity calculation for a model or an artifact. */
@RestController
@RequestMapping("/api/v1")
@Tag(name = "capacity")
public class CapacityController {
    private final RestClient registry;

    public CapacityController(RestClient registryClient) {
        this.registry = registryClient;
    }

    @GetMapping("/gpus")
    @Operation(summary = "The GPU catalog: memory (bytes), bandwidth (bytes/s), dense FP16 FLOP/s")
    public List<Gpu> gpus() {
        return Gpu.CATALOG;
    }

    public record CapacityRequest(String modelId, String artifactId, List<String> gpus, int ctx, String kvDtype) {}

    public record CapacityResponse(String model, String artifactId, long weightBytes, List<KvCapacity.Row> rows) {}

    @PostMapping("/capacity")
    @Operation(summary = "KV-cache capacity (tokens, sequences of ctx) per GPU for a model (its safetensors bytes) or an artifact (its bytes)")
    public CapacityResponse capacity(HttpServletRequest request, @RequestBody CapacityRequest body) {
        String tenant = Auth.tenant(request);
        List<String> errors = new ArrayList<>();
        if ((body.modelId() == null) == (body.artifactId() == null)) errors.add("modelId or artifactId: exactly one");
        new EvalSpec(null, new EvalSpec.Capacity(body.gpus(), body.ctx(), body.kvDtype())).validate("", errors);
        if (!errors.isEmpty()) throw new ApiException(HttpStatus.BAD_REQUEST, "invalid capacity request", errors.stream().map(e -> e.replaceFirst("^\\.capacity\\.", "")).toList());
        String model = body.modelId();
        long weightBytes;
        if (body.artifactId() != null) {
            Map<?, ?> a = registry.get().uri("/internal/tenants/{t}/artifacts/{id}", tenant, body.artifactId()).retrieve().body(Map.class);
            model = (String) ((Map<?, ?>) a.get("lineage")).get("modelName");
            weightBytes = ((Number) a.get("totalBytes")).longValue();
        } else {
            Map<?, ?> m = registry.get().uri("/internal/tenants/{t}/models/{n}", tenant, model).retrieve().body(Map.class);
            weightBytes = ((List<?>) m.get("files")).stream().map(f -> (Map<?, ?>) f)
                    .filter(f -> String.valueOf(f.get("path")).endsWith(".safetensors")).mapToLong(f -> ((Number) f.get("size")).longValue()).sum();
        }
        String m = model;
        byte[] config = registry.get().uri(b -> b.path("/internal/tenants/{t}/models/{n}/file").queryParam("path", "config.json").build(tenant, m))
                .retrieve().body(byte[].class);
        JsonNode c = Json.MAPPER.readTree(config);
        return new CapacityResponse(model, body.artifactId(), weightBytes, KvCapacity.table(c, weightBytes, body.gpus(), body.ctx(), body.kvDtype()));
    }
}
