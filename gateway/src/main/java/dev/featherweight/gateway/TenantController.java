package dev.featherweight.gateway;

import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.tags.Tag;
import jakarta.servlet.http.HttpServletRequest;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

/** The caller's tenant: its limits and how much of them it uses. */
@RestController
@RequestMapping("/api/v1/tenant")
@Tag(name = "tenant")
public class TenantController {
    private final TenantLimits limits;

    public TenantController(TenantLimits limits) {
        this.limits = limits;
    }

    /** Jobs submitted and not finished (over it: 429), bytes stored in models and artifacts (over it: 413), bytes of one upload (413). */
    public record Limits(Integer jobsInFlight, Long storageBytes, Long uploadBytes) {}

    public record Usage(long jobsInFlight, long storageBytes) {}

    public record TenantView(String id, String name, Limits limits, Usage usage) {}

    @GetMapping
    @Operation(summary = "Your tenant: limits and usage (jobs in flight, bytes stored)")
    public TenantView tenant(HttpServletRequest request) {
        return limits.view(Auth.tenant(request));
    }
}
