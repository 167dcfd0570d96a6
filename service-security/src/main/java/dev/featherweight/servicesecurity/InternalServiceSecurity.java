package dev.featherweight.servicesecurity;

import jakarta.servlet.http.HttpServletResponse;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.MediaType;
import org.springframework.security.authentication.AuthenticationManager;
import org.springframework.security.authentication.BadCredentialsException;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.config.annotation.web.configuration.EnableWebSecurity;
import org.springframework.security.config.http.SessionCreationPolicy;
import org.springframework.security.core.authority.AuthorityUtils;
import org.springframework.security.web.AuthenticationEntryPoint;
import org.springframework.security.web.SecurityFilterChain;
import org.springframework.security.web.authentication.AuthenticationEntryPointFailureHandler;
import org.springframework.security.web.authentication.AuthenticationFilter;
import org.springframework.security.web.authentication.preauth.PreAuthenticatedAuthenticationToken;
import org.springframework.security.web.authentication.www.BasicAuthenticationFilter;

/**
 * Spring Security for an internal service (registry-service, job-service, the workers): every request but
 * the health probes and the Prometheus scrape must carry the deployment's service credential, else 401
 * problem+json. No sessions and no CSRF: callers are services, not browsers, and send the header each time.
 */
@Configuration(proxyBeanMethods = false)
@EnableWebSecurity
public class InternalServiceSecurity {
    static final String ROLE = "SERVICE";

    /** Checks the presented credential; a bean, so Boot does not configure its default user. */
    @Bean
    public AuthenticationManager serviceCredentialAuthentication(@Value("${" + ServiceCredential.PROPERTY + ":}") String configured) {
        String expected = ServiceCredential.require(configured);
        return authentication -> {
            if (!ServiceCredential.matches(expected, String.valueOf(authentication.getCredentials())))
                throw new BadCredentialsException("wrong service credential");
            return new PreAuthenticatedAuthenticationToken("service", null, AuthorityUtils.createAuthorityList("ROLE_" + ROLE));
        };
    }

    @Bean
    public SecurityFilterChain internalApi(HttpSecurity http, AuthenticationManager serviceCredentialAuthentication) throws Exception {
        AuthenticationEntryPoint unauthorized = (request, response, e) ->
                problem(response, 401, "unauthorized", "this is an internal API: send the deployment's service credential in " + ServiceCredential.HEADER);
        AuthenticationFilter credential = new AuthenticationFilter(serviceCredentialAuthentication, request -> {
            String presented = request.getHeader(ServiceCredential.HEADER);
            return presented == null ? null : new PreAuthenticatedAuthenticationToken("service", presented);
        });
        credential.setSuccessHandler((request, response, authentication) -> {}); // go on down the chain
        credential.setFailureHandler(new AuthenticationEntryPointFailureHandler(unauthorized));
        return http
                .authorizeHttpRequests(a -> a
                        .requestMatchers("/actuator/health", "/actuator/health/**", "/actuator/prometheus", "/error").permitAll()
                        .anyRequest().hasRole(ROLE))
                .addFilterAt(credential, BasicAuthenticationFilter.class)
                .csrf(c -> c.disable())
                .sessionManagement(s -> s.sessionCreationPolicy(SessionCreationPolicy.STATELESS))
                .requestCache(c -> c.disable())
                .httpBasic(b -> b.disable())
                .formLogin(f -> f.disable())
                .logout(l -> l.disable())
                .anonymous(a -> {})
                .exceptionHandling(e -> e.authenticationEntryPoint(unauthorized)
                        .accessDeniedHandler((request, response, denied) -> problem(response, 403, "forbidden", "not allowed")))
                .build();
    }

    static void problem(HttpServletResponse response, int status, String kind, String detail) throws java.io.IOException {
        response.setStatus(status);
        response.setContentType(MediaType.APPLICATION_PROBLEM_JSON_VALUE);
        response.getWriter().write("{\"type\":\"https://featherweight.dev/problems/" + kind + "\",\"title\":\""
                + org.springframework.http.HttpStatus.valueOf(status).getReasonPhrase() + "\",\"status\":" + status
                + ",\"detail\":\"" + detail + "\"}");
    }
}
