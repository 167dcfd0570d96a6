package dev.featherweight.gateway;

import dev.featherweight.contracts.Sha256;
import dev.featherweight.contracts.registry.KeyOwner;
import dev.featherweight.service.RegistryApi;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.stereotype.Component;
import org.springframework.web.client.HttpClientErrorException;
import org.springframework.web.filter.OncePerRequestFilter;

import java.io.IOException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * API keys: {@code Authorization: Bearer fw_…}. Only the sha256 of a key is stored (in the registry) and
 * looked up; results are cached for a minute. The bootstrap admin key comes from configuration and may
 * only use /api/v1/admin. Every other request runs as the key's tenant.
 */
@Component
public class Auth extends OncePerRequestFilter {
    public static final String TENANT = "fw.tenant";
    public static final String ADMIN = "fw.admin";
    private static final SecureRandom RANDOM = new SecureRandom();

    private final RegistryApi registry;
    private final String adminKeyHash;
    private final Map<String, Cached> cache = new ConcurrentHashMap<>();

    record Cached(KeyOwner owner, long until) {}

    public Auth(RegistryApi registry, GatewayProperties settings) {
        this.registry = registry;
        this.adminKeyHash = hash(settings.adminKey());
    }

    public static String newKey() {
        byte[] b = new byte[24];
        RANDOM.nextBytes(b);
        return "fw_" + Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    public static String hash(String key) {
        return Sha256.of(key);
    }

    @Override
    protected boolean shouldNotFilter(HttpServletRequest request) {
        return !request.getRequestURI().startsWith("/api/");
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain) throws ServletException, IOException {
        String header = request.getHeader("Authorization");
        if (header == null || !header.startsWith("Bearer ") || header.length() > 200) {
            deny(response, "missing or malformed Authorization: Bearer <api key>");
            return;
        }
        String h = hash(header.substring(7).trim());
        boolean adminPath = request.getRequestURI().startsWith("/api/v1/admin/");
        if (h.equals(adminKeyHash)) {
            if (!adminPath) {
                deny(response, "the bootstrap admin key may only call /api/v1/admin; create a tenant key");
                return;
            }
            request.setAttribute(ADMIN, true);
        } else {
            KeyOwner owner = lookup(h);
            if (owner == null) {
                deny(response, "unknown API key");
                return;
            }
            if (adminPath && !owner.admin()) {
                deny(response, "this key is not an admin key");
                return;
            }
            request.setAttribute(TENANT, owner.tenantId());
            request.setAttribute(ADMIN, owner.admin());
        }
        chain.doFilter(request, response);
    }

    private KeyOwner lookup(String keyHash) {
        Cached c = cache.get(keyHash);
        if (c != null && c.until() > System.currentTimeMillis()) return c.owner();
        try {
            KeyOwner owner = registry.keyOwner(keyHash);
            cache.put(keyHash, new Cached(owner, System.currentTimeMillis() + 60_000));
            return owner;
        } catch (HttpClientErrorException.NotFound e) {
            return null;
        }
    }

    private static void deny(HttpServletResponse response, String detail) throws IOException {
        response.setStatus(401);
        response.setContentType(MediaType.APPLICATION_PROBLEM_JSON_VALUE);
        response.setHeader("WWW-Authenticate", "Bearer");
        ProblemDetail p = ProblemDetail.forStatusAndDetail(HttpStatus.UNAUTHORIZED, detail);
        response.getWriter().write("{\"type\":\"about:blank\",\"title\":\"Unauthorized\",\"status\":401,\"detail\":\"" + p.getDetail() + "\"}");
    }

    static String tenant(HttpServletRequest request) {
        Object t = request.getAttribute(TENANT);
        if (t == null) throw new ApiException(HttpStatus.FORBIDDEN, "this endpoint needs a tenant key");
        return (String) t;
    }
}
