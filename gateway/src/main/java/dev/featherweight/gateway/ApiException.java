package dev.featherweight.gateway;

import org.springframework.http.HttpStatus;

import java.util.List;

/** Becomes an RFC 9457 problem+json response with {@code errors} listing every problem found. */
public class ApiException extends RuntimeException {
    final HttpStatus status;
    final List<String> errors;

    public ApiException(HttpStatus status, String detail, List<String> errors) {
        super(detail);
        this.status = status;
        this.errors = errors;
    }

    public ApiException(HttpStatus status, String detail) {
        this(status, detail, List.of());
    }

    static ApiException notFound(String what) {
        return new ApiException(HttpStatus.NOT_FOUND, what + " not found");
    }
}
