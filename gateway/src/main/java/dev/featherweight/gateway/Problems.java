package dev.featherweight.gateway;

import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.http.converter.HttpMessageNotReadableException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.client.HttpStatusCodeException;
import org.springframework.web.context.request.WebRequest;
import org.springframework.web.servlet.mvc.method.annotation.ResponseEntityExceptionHandler;

import java.net.URI;

/** Every error as problem+json (RFC 9457): type, title, status, detail, and {@code errors} for validation. */
@RestControllerAdvice
public class Problems extends ResponseEntityExceptionHandler {

    @ExceptionHandler
    ResponseEntity<ProblemDetail> api(ApiException e) {
        ProblemDetail p = ProblemDetail.forStatusAndDetail(e.status, e.getMessage());
        p.setType(URI.create("https://featherweight.dev/problems/" + e.status.name().toLowerCase().replace('_', '-')));
        if (!e.errors.isEmpty()) p.setProperty("errors", e.errors);
        return ResponseEntity.status(e.status).body(p);
    }

    /** A downstream service's 4xx keeps its status and detail; its 5xx is our 502. */
    @ExceptionHandler
    ResponseEntity<ProblemDetail> downstream(HttpStatusCodeException e) {
        HttpStatus status = e.getStatusCode().is4xxClientError() ? HttpStatus.valueOf(e.getStatusCode().value()) : HttpStatus.BAD_GATEWAY;
        String detail;
        try {
            ProblemDetail p = e.getResponseBodyAs(ProblemDetail.class);
            detail = p != null && p.getDetail() != null ? p.getDetail() : e.getStatusText();
        } catch (RuntimeException parse) {
            detail = e.getStatusText();
        }
        return api(new ApiException(status, detail));
    }

    @Override
    protected ResponseEntity<Object> handleHttpMessageNotReadable(HttpMessageNotReadableException ex, HttpHeaders headers,
                                                                  HttpStatusCode status, WebRequest request) {
        String cause = ex.getMostSpecificCause().getMessage();
        if (cause != null && cause.length() > 300) cause = cause.substring(0, 300) + "…";
        ProblemDetail p = ProblemDetail.forStatusAndDetail(HttpStatus.BAD_REQUEST, "request body is not valid JSON for this endpoint: " + cause);
        return ResponseEntity.badRequest().body(p);
    }
}
