package dev.featherweight.gateway;

import org.springframework.http.HttpStatus;

import java.util.List;

/**
 * Becomes an RFC 9457 problem+json response with {@code errors} listing every problem found. {@code kind}
 * names the problem type (https://featherweight.dev/problems/{kind}); by default it follows the status.
 */
public class ApiException extends RuntimeException {
    final HttpStatus status;
    final List<String> errors;
    final String kind;

    public ApiException(HttpStatus status, String kind, String detail, List<String> errors) {
        super(detail);
        this.status = status;
        this.errors = errors;
        this.kind = kind != null ? kind : Problems.kindOf(status, !errors.isEmpty());
    }

    public ApiException(HttpStatus status, String detail, List<String> errors) {
        this(status, null, detail, errors);
    }

    public ApiException(HttpStatus status, String detail) {
        this(status, null, detail, List.of());
    }

    static ApiException notFound(String what) {
        return new ApiException(HttpStatus.NOT_FOUND, what + " not found");
    }
}
