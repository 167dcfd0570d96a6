package dev.featherweight.gateway;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.security.authentication.AuthenticationManager;
import org.springframework.security.authentication.BadCredentialsException;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.config.annotation.web.configuration.EnableWebSecurity;
import org.springframework.security.config.http.SessionCreationPolicy;
import org.springframework.security.core.GrantedAuthority;
import org.springframework.security.core.authority.AuthorityUtils;
import org.springframework.security.core.context.SecurityContext;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.security.web.AuthenticationEntryPoint;
import org.springframework.security.web.SecurityFilterChain;
import org.springframework.security.web.authentication.AuthenticationEntryPointFailureHandler;
import org.springframework.security.web.authentication.AuthenticationFilter;
import org.springframework.security.web.authentication.preauth.PreAuthenticatedAuthenticationToken;
import org.springframework.security.web.authentication.www.BasicAuthenticationFilter;
import org.springframework.web.client.HttpClientErrorException;
import org.springframework.web.client.RestClient;
import org.springframework.web.filter.OncePerRequestFilter;

import java.io.IOException;
import java.security.MessageDigest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Tenant API keys checked by Spring Security. Roles: TENANT (a tenant's key: every /api/v1 endpoint of its
 * tenant) and ADMIN (an admin key: /api/v1/admin). The bootstrap admin key from configuration is ADMIN
 * only. Key lookups are cached for {@code featherweight.gateway.key-cache-ttl} (default 30 s): a key revoked
 * through this gateway is refused at once, one revoked elsewhere within that bound.
 */
@Configuration(proxyBeanMethods = false)
@EnableWebSecurity
public class GatewaySecurity {
    static final String TENANT = "TENANT";
    static final String ADMIN = "ADMIN";

    /** Key hash → owner, for the cache's time to live; unknown keys are not cached (a new key works at once). */
    public static class ApiKeys {
        private final RestClient registry;
        private final byte[] bootstrapAdminHash;
        private final Cache<String, Auth.Caller> owners;

        ApiKeys(RestClient registry, String bootstrapAdminKey, Duration ttl) {
            this.registry = registry;
            this.bootstrapAdminHash = Auth.hash(bootstrapAdminKey).getBytes(StandardCharsets.US_ASCII);
            this.owners = Caffeine.newBuilder().expireAfterWrite(ttl).maximumSize(100_000).build();
        }

        Optional<Auth.Caller> owner(String key) {
            return ownerOfHash(Auth.hash(key));
        }

        /** By the key's sha256 (what a browser session stands for). */
        Optional<Auth.Caller> ownerOfHash(String hash) {
            if (MessageDigest.isEqual(bootstrapAdminHash, hash.getBytes(StandardCharsets.US_ASCII))) return Optional.of(new Auth.Caller(null, true));
            Auth.Caller cached = owners.getIfPresent(hash);
            if (cached != null) return Optional.of(cached);
            try {
                Auth.Caller owner = registry.get().uri("/internal/keys/{h}", hash).retrieve().body(Auth.Caller.class);
                owners.put(hash, owner);
                return Optional.ofNullable(owner);
            } catch (HttpClientErrorException.NotFound e) {
                return Optional.empty();
            }
        }

        /** After a revocation: this gateway forgets every cached key, so the revoked one is refused from the next request on. */
        void forgetAll() {
            owners.invalidateAll();
        }
    }

    @Bean
    public ApiKeys apiKeys(RestClient registryClient, @Value("${featherweight.admin-key}") String adminKey,
                           @Value("${featherweight.gateway.key-cache-ttl:30s}") Duration ttl) {
        return new ApiKeys(registryClient, adminKey, ttl);
    }

    /** A bean, so Boot configures no default user. */
    @Bean
    public AuthenticationManager apiKeyAuthentication(ApiKeys keys) {
        return authentication -> {
            Auth.Caller caller = keys.owner(String.valueOf(authentication.getCredentials()))
                    .orElseThrow(() -> new BadCredentialsException("unknown API key"));
            return authenticated(caller);
        };
    }

    static PreAuthenticatedAuthenticationToken authenticated(Auth.Caller caller) {
        List<GrantedAuthority> roles = new ArrayList<>();
        if (caller.tenantId() != null) roles.add(AuthorityUtils.createAuthorityList("ROLE_" + TENANT).getFirst());
        if (caller.admin()) roles.add(AuthorityUtils.createAuthorityList("ROLE_" + ADMIN).getFirst());
        return new PreAuthenticatedAuthenticationToken(caller, null, roles);
    }

    /**
     * The web UI's browser sessions ({@link BrowserSessions}): a request with no Authorization header but a session
     * cookie runs as the key that signed in, looked up again each time (so revoking the key ends its sessions);
     * an unsafe method without the session's CSRF token is refused. /api/v1/session itself checks for itself.
     */
    static OncePerRequestFilter browserSessions(BrowserSessions sessions, ApiKeys keys) {
        return new OncePerRequestFilter() {
            @Override
            protected boolean shouldNotFilter(HttpServletRequest request) {
                return request.getHeader("Authorization") != null || request.getRequestURI().equals(SessionController.PATH);
            }

            @Override
            protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain) throws ServletException, IOException {
                BrowserSessions.Session session = sessions.find(request);
                if (session != null) {
                    if (!sessions.csrfOk(request, session)) {
                        Problems.write(response, HttpServletResponse.SC_FORBIDDEN, "forbidden", BrowserSessions.CSRF_PROBLEM);
                        return;
                    }
                    Optional<Auth.Caller> caller = keys.ownerOfHash(session.keyHash());
                    if (caller.isEmpty()) {
                        Problems.write(response, HttpServletResponse.SC_UNAUTHORIZED, "unauthorized", "the key of this session was revoked; sign in again");
                        return;
                    }
                    SecurityContext context = SecurityContextHolder.createEmptyContext();
                    context.setAuthentication(authenticated(caller.get()));
                    SecurityContextHolder.setContext(context);
                }
                chain.doFilter(request, response);
            }
        };
    }

    @Bean
    public SecurityFilterChain api(HttpSecurity http, AuthenticationManager apiKeyAuthentication, ApiKeys keys, BrowserSessions sessions) throws Exception {
        AuthenticationEntryPoint unauthorized = (request, response, e) -> {
            response.setHeader("WWW-Authenticate", "Bearer");
            Problems.write(response, HttpServletResponse.SC_UNAUTHORIZED, "unauthorized",
                    e instanceof BadCredentialsException ? "unknown or revoked API key" : "missing or malformed Authorization: Bearer <api key>");
        };
        AuthenticationFilter bearer = new AuthenticationFilter(apiKeyAuthentication, request -> {
            String header = request.getHeader("Authorization");
            if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) return null;
            String key = header.substring(7).strip();
            if (key.isEmpty() || key.length() > 200) throw new BadCredentialsException("malformed API key");
            return new PreAuthenticatedAuthenticationToken("api-key", key);
        });
        bearer.setSuccessHandler((request, response, authentication) -> {}); // go on down the chain
        bearer.setFailureHandler(new AuthenticationEntryPointFailureHandler(unauthorized));
        return http
                .authorizeHttpRequests(a -> a
                        .requestMatchers(SessionController.PATH).permitAll() // sign in, who am I, sign out
                        .requestMatchers("/api/v1/admin", "/api/v1/admin/**").hasRole(ADMIN)
                        .requestMatchers("/api", "/api/**").hasRole(TENANT)
                        .anyRequest().permitAll())
                .addFilterAt(bearer, BasicAuthenticationFilter.class)
                .addFilterBefore(browserSessions(sessions, keys), BasicAuthenticationFilter.class)
                // Bearer calls carry their key in a header; a browser session's unsafe calls are checked against the
                // session's own double-submit token (BrowserSessions), so Spring's session-bound CSRF is not used
                .csrf(c -> c.disable())
                .sessionManagement(s -> s.sessionCreationPolicy(SessionCreationPolicy.STATELESS))
                .requestCache(c -> c.disable())
                .httpBasic(b -> b.disable())
                .formLogin(f -> f.disable())
                .logout(l -> l.disable())
                .exceptionHandling(e -> e.authenticationEntryPoint(unauthorized)
                        .accessDeniedHandler((request, response, denied) -> Problems.write(response, HttpServletResponse.SC_FORBIDDEN, "forbidden",
                                request.getRequestURI().startsWith("/api/v1/admin") ? "this key is not an admin key"
                                        : "the bootstrap admin key may only call /api/v1/admin; create a tenant key")))
                .build();
    }

}
