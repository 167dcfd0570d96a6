package dev.featherweight.gateway;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.http.MediaType;
import org.springframework.stereotype.Component;
import org.springframework.web.client.HttpClientErrorException;
import org.springframework.web.client.RestClient;
import org.springframework.web.filter.OncePerRequestFilter;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
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

    private final RestClient registry;
    private final BrowserSessions sessions;
    private final String adminKeyHash;
    private final Map<String, Cached> cache = new ConcurrentHashMap<>();

    record Owner(String tenantId, boolean admin) {}

    record Cached(Owner owner, long until) {}

    public Auth(RestClient registryClient, BrowserSessions sessions, @Value("${featherweight.admin-key}") String adminKey) {
        this.registry = registryClient;
        this.sessions = sessions;
        this.adminKeyHash = hash(adminKey);
    }

    public static String newKey() {
        byte[] b = new byte[24];
        RANDOM.nextBytes(b);
        return "fw_" + Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    public static String hash(String key) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8)));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    protected boolean shouldNotFilter(HttpServletRequest request) {
        return !request.getRequestURI().startsWith("/api/") || request.getRequestURI().equals(SessionController.PATH);
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain) throws ServletException, IOException {
        String header = request.getHeader("Authorization");
        String h;
        if (header == null) { // a browser: its session cookie stands for the key it signed in with
            try {
                h = sessions.keyHash(request);
            } catch (ApiException e) {
                problem(response, 403, "Forbidden", e.getMessage());
                return;
            }
            if (h == null) {
                deny(response, "missing or malformed Authorization: Bearer <api key> (or sign in: POST " + SessionController.PATH + ")");
                return;
            }
        } else if (!header.startsWith("Bearer ") || header.length() > 200) {
            deny(response, "missing or malformed Authorization: Bearer <api key>");
            return;
        } else {
            h = hash(header.substring(7).trim());
        }
        boolean adminPath = request.getRequestURI().startsWith("/api/v1/admin/");
        if (h.equals(adminKeyHash)) {
            if (!adminPath) {
                deny(response, "the bootstrap admin key may only call /api/v1/admin; create a tenant key");
                return;
            }
            request.setAttribute(ADMIN, true);
        } else {
            Owner owner = lookup(h);
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

    /** The owner of a key hash (the bootstrap admin key: admin, no tenant), or null for an unknown key. */
    Owner owner(String keyHash) {
        return keyHash.equals(adminKeyHash) ? new Owner(null, true) : lookup(keyHash);
    }

    private Owner lookup(String keyHash) {
        Cached c = cache.get(keyHash);
        if (c != null && c.until() > System.currentTimeMillis()) return c.owner();
        try {
            Owner owner = registry.get().uri("/internal/keys/{h}", keyHash).retrieve().body(Owner.class);
            cache.put(keyHash, new Cached(owner, System.currentTimeMillis() + 60_000));
            return owner;
        } catch (HttpClientErrorException.NotFound e) {
            return null;
        }
    }

    private static void deny(HttpServletResponse response, String detail) throws IOException {
        response.setHeader("WWW-Authenticate", "Bearer");
        problem(response, 401, "Unauthorized", detail);
    }

    private static void problem(HttpServletResponse response, int status, String title, String detail) throws IOException {
        response.setStatus(status);
        response.setContentType(MediaType.APPLICATION_PROBLEM_JSON_VALUE);
        response.getWriter().write(dev.featherweight.contracts.Json.MAPPER.writeValueAsString(Map.of("type", "about:blank", "title", title, "status", status, "detail", detail)));
    }

    static String tenant(HttpServletRequest request) {
        Object t = request.getAttribute(TENANT);
        if (t == null) throw new ApiException(org.springframework.http.HttpStatus.FORBIDDEN, "this endpoint needs a tenant key");
        return (String) t;
    }
}
