package dev.featherweight.gateway;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import jakarta.servlet.http.Cookie;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.http.ResponseCookie;
import org.springframework.stereotype.Component;

import java.security.MessageDigest;
import java.security.SecureRandom;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Set;

/**
 * Browser sessions of the web UI: an API key is exchanged once for a random session id kept in an HttpOnly,
 * SameSite=Strict cookie, so that page scripts never hold the key. The server keeps only the key's sha256
 * per session (the key itself is forgotten), so a revoked key stops working for its sessions as soon as the
 * key lookup does. Unsafe methods must repeat the readable {@code XSRF-TOKEN} cookie in the
 * {@code X-XSRF-TOKEN} header (double submit): a cross-site form cannot read the cookie, and SameSite=Strict
 * already keeps the session cookie off cross-site requests — two independent locks.
 * Sessions live in this gateway's memory (idle timeout, bounded count): a restart signs browsers out.
 */
@Component
public class BrowserSessions {
    public static final String SESSION_COOKIE = "FW_SESSION";
    public static final String CSRF_COOKIE = "XSRF-TOKEN";
    public static final String CSRF_HEADER = "X-XSRF-TOKEN";
    private static final Set<String> SAFE_METHODS = Set.of("GET", "HEAD", "OPTIONS");
    private static final SecureRandom RANDOM = new SecureRandom();

    /** What a session remembers: the key's hash (never the key) and its CSRF token. */
    record Session(String keyHash, String csrfToken) {}

    private final Cache<String, Session> sessions;
    private final Duration idleTimeout;

    public BrowserSessions(@Value("${featherweight.ui.session-idle-timeout:8h}") Duration idleTimeout) {
        this.idleTimeout = idleTimeout;
        this.sessions = Caffeine.newBuilder().expireAfterAccess(idleTimeout).maximumSize(100_000).build();
    }

    /** Starts a session for a key already known to be valid and sets both cookies on the response. */
    void open(String keyHash, HttpServletRequest request, HttpServletResponse response) {
        String id = token();
        Session s = new Session(keyHash, token());
        sessions.put(id, s);
        setCookie(response, request, SESSION_COOKIE, id, true, idleTimeout);
        setCookie(response, request, CSRF_COOKIE, s.csrfToken(), false, idleTimeout);
    }

    void close(HttpServletRequest request, HttpServletResponse response) {
        String id = cookie(request, SESSION_COOKIE);
        if (id != null) sessions.invalidate(id);
        setCookie(response, request, SESSION_COOKIE, "", true, Duration.ZERO);
        setCookie(response, request, CSRF_COOKIE, "", false, Duration.ZERO);
    }

    /** The request's session, or null when it has none (or an expired or forgotten one). */
    Session find(HttpServletRequest request) {
        String id = cookie(request, SESSION_COOKIE);
        return id == null ? null : sessions.getIfPresent(id);
    }

    /** Safe methods need no token; unsafe ones must repeat the session's CSRF token in the header. */
    boolean csrfOk(HttpServletRequest request, Session session) {
        if (SAFE_METHODS.contains(request.getMethod())) return true;
        String header = request.getHeader(CSRF_HEADER);
        return header != null && MessageDigest.isEqual(header.getBytes(StandardCharsets.UTF_8), session.csrfToken().getBytes(StandardCharsets.UTF_8));
    }

    static final String CSRF_PROBLEM = "missing or wrong " + CSRF_HEADER + " header (repeat the " + CSRF_COOKIE + " cookie)";

    private static String cookie(HttpServletRequest request, String name) {
        if (request.getCookies() == null) return null;
        for (Cookie c : request.getCookies()) if (c.getName().equals(name) && !c.getValue().isEmpty()) return c.getValue();
        return null;
    }

    private static void setCookie(HttpServletResponse response, HttpServletRequest request, String name, String value, boolean httpOnly, Duration maxAge) {
        ResponseCookie cookie = ResponseCookie.from(name, value).path("/").httpOnly(httpOnly).sameSite("Strict")
                .secure(request.isSecure()).maxAge(maxAge).build();
        response.addHeader("Set-Cookie", cookie.toString());
    }

    private static String token() {
        byte[] b = new byte[32];
        RANDOM.nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }
}
