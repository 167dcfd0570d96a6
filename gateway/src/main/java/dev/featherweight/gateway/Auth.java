package dev.featherweight.gateway;

import dev.featherweight.contracts.Sha256;
import jakarta.servlet.http.HttpServletRequest;
import org.springframework.http.HttpStatus;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.context.SecurityContextHolder;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;

/**
 * API keys: {@code Authorization: Bearer fw_…}. Only the sha256 of a key is stored (in the registry).
 * Spring Security checks them ({@link GatewaySecurity}); a controller asks here for the caller's tenant.
 */
public final class Auth {
    private static final SecureRandom RANDOM = new SecureRandom();

    /** Who called: a tenant's key (tenantId set, admin if it is an admin key) or the bootstrap admin key (no tenant). */
    public record Caller(String tenantId, boolean admin) {}

    public static String newKey() {
        byte[] b = new byte[24];
        RANDOM.nextBytes(b);
        return "fw_" + Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    public static String hash(String key) {
        return Sha256.of(key);
    }

    /** The authenticated caller of this request, or null. */
    static Caller caller() {
        Authentication a = SecurityContextHolder.getContext().getAuthentication();
        return a != null && a.getPrincipal() instanceof Caller c ? c : null;
    }

    /** The caller's tenant (every /api/v1 endpoint but /admin runs as one). */
    static String tenant(HttpServletRequest request) {
        Caller c = caller();
        if (c == null || c.tenantId() == null) throw new ApiException(HttpStatus.FORBIDDEN, "this endpoint needs a tenant key");
        return c.tenantId();
    }

    private Auth() {}
}
