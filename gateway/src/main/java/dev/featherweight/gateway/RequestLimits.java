package dev.featherweight.gateway;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.core.annotation.Order;
import org.springframework.http.MediaType;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;

import java.io.IOException;

/**
 * Request size limits before anything is read: JSON bodies (job specs, imports, admin) are small; model
 * uploads are bounded by spring.servlet.multipart.* instead. Too large → 413 problem+json.
 */
@Component
@Order(0)
public class RequestLimits extends OncePerRequestFilter {
    private final long maxJson;

    public RequestLimits(GatewayProperties settings) {
        this.maxJson = settings.gateway().maxJsonBody().toBytes();
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain) throws ServletException, IOException {
        String type = request.getContentType();
        boolean multipart = type != null && type.startsWith(MediaType.MULTIPART_FORM_DATA_VALUE);
        if (!multipart && request.getContentLengthLong() > maxJson) {
            response.setStatus(413);
            response.setContentType(MediaType.APPLICATION_PROBLEM_JSON_VALUE);
            response.getWriter().write("{\"type\":\"about:blank\",\"title\":\"Content Too Large\",\"status\":413,\"detail\":\"request body of "
                    + request.getContentLengthLong() + " bytes exceeds " + maxJson + " bytes\"}");
            return;
        }
        chain.doFilter(request, response);
    }
}
