package dev.featherweight.gateway;

import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.tags.Tag;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.*;

/**
 * Sign in for browsers: {@code POST} an API key → a session cookie (see {@link BrowserSessions}); {@code GET}
 * who is signed in; {@code DELETE} signs out. The API filter skips this path, so this controller checks the
 * key and the session itself ({@link GatewaySecurity} authenticates every other request of a session). Tools keep using
 * {@code Authorization: Bearer}.
 */
@RestController
@RequestMapping(SessionController.PATH)
@Tag(name = "session", description = "browser sign-in: API key → HttpOnly session cookie + XSRF-TOKEN cookie")
public class SessionController {
    static final String PATH = "/api/v1/session";
    private final GatewaySecurity.ApiKeys keys;
    private final BrowserSessions sessions;

    public SessionController(GatewaySecurity.ApiKeys keys, BrowserSessions sessions) {
        this.keys = keys;
        this.sessions = sessions;
    }

    public record SignIn(String apiKey) {}

    public record Who(String tenant, boolean admin) {}

    @PostMapping
    @ResponseStatus(HttpStatus.NO_CONTENT)
    @Operation(summary = "Sign in with an API key: sets an HttpOnly SameSite=Strict session cookie and an XSRF-TOKEN cookie "
            + "whose value unsafe requests repeat in the X-XSRF-TOKEN header")
    public void signIn(@RequestBody SignIn body, HttpServletRequest request, HttpServletResponse response) {
        if (body == null || body.apiKey() == null || body.apiKey().isBlank() || body.apiKey().length() > 200)
            throw new ApiException(HttpStatus.UNAUTHORIZED, "an API key is required");
        String keyHash = Auth.hash(body.apiKey().trim());
        if (keys.ownerOfHash(keyHash).isEmpty()) throw new ApiException(HttpStatus.UNAUTHORIZED, "unknown API key");
        sessions.open(keyHash, request, response);
    }

    @GetMapping
    @Operation(summary = "The signed-in tenant and whether the key is an admin key (401 when not signed in)")
    public Who who(HttpServletRequest request) {
        BrowserSessions.Session session = sessions.find(request);
        Auth.Caller caller = session == null ? null : keys.ownerOfHash(session.keyHash()).orElse(null);
        if (caller == null) throw new ApiException(HttpStatus.UNAUTHORIZED, "not signed in");
        return new Who(caller.tenantId(), caller.admin());
    }

    @DeleteMapping
    @ResponseStatus(HttpStatus.NO_CONTENT)
    @Operation(summary = "Sign out: forgets the session and clears both cookies")
    public void signOut(HttpServletRequest request, HttpServletResponse response) {
        BrowserSessions.Session session = sessions.find(request);
        // an unsafe method: the CSRF header must match, or a cross-site page could sign you out
        if (session != null && !sessions.csrfOk(request, session)) throw new ApiException(HttpStatus.FORBIDDEN, BrowserSessions.CSRF_PROBLEM);
        sessions.close(request, response);
    }
}
