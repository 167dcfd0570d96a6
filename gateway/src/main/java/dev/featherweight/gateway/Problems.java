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
import java.util.LinkedHashMap;
import java.util.Map;

/** Every error as problem+json (RFC 9457): type, title, status, detail, and {@code errors} for validation. */
@RestControllerAdvice
public class Problems extends ResponseEntityExceptionHandler {

    @ExceptionHandler
    ResponseEntity<ProblemDetail> api(ApiException e) {
        ProblemDetail p = ProblemDetail.forStatusAndDetail(e.status, e.getMessage());
        boolean validation = e.status == HttpStatus.BAD_REQUEST && !e.errors.isEmpty();
        p.setType(URI.create("https://featherweight.dev/problems/" + (validation ? "validation" : e.status.name().toLowerCase().replace('_', '-'))));
        if (!e.errors.isEmpty()) p.setProperty("errors", e.errors.stream().map(Problems::fieldError).toList());
        return ResponseEntity.status(e.status).body(p);
    }

    /**
     * "recipes[0].damp: must be > 0 …" as {@code {"field": "recipes[0].damp", "message": "must be > 0 …"}}: the UI
     * shows the message beside the field the JSON path names. Paths never contain ": ", so the first one splits.
     */
    static Map<String, String> fieldError(String error) {
        int colon = error.indexOf(": ");
        Map<String, String> e = new LinkedHashMap<>();
        e.put("field", colon < 0 ? "" : error.substring(0, colon));
        e.put("message", colon < 0 ? error : error.substring(colon + 2));
        return e;
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
