package dev.featherweight.gateway;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.http.converter.HttpMessageNotReadableException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.client.HttpStatusCodeException;
import org.springframework.web.client.ResourceAccessException;
import org.springframework.web.context.request.WebRequest;
import org.springframework.web.multipart.MaxUploadSizeExceededException;
import org.springframework.web.servlet.mvc.method.annotation.ResponseEntityExceptionHandler;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.net.URI;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Every error as problem+json (RFC 9457): a stable {@code type} per kind of error
 * (https://featherweight.dev/problems/{kind}), title, status, detail, the request id, and {@code errors} for
 * validation. Details never carry Java class names, stack traces or server paths: an unexpected failure is
 * logged in full with the request id and answered with that id only.
 */
@RestControllerAdvice
@org.springframework.core.annotation.Order(org.springframework.core.Ordered.HIGHEST_PRECEDENCE)
public class Problems extends ResponseEntityExceptionHandler {
    private static final Logger log = LoggerFactory.getLogger(Problems.class);
    static final String TYPE_BASE = "https://featherweight.dev/problems/";

    /** The problem kind of a status when nothing more specific is known. */
    static String kindOf(HttpStatusCode status, boolean withErrors) {
        return switch (status.value()) {
            case 400 -> withErrors ? "validation" : "bad-request";
            case 401 -> "unauthorized";
            case 403 -> "forbidden";
            case 404 -> "not-found";
            case 405 -> "method-not-allowed";
            case 406 -> "not-acceptable";
            case 409 -> "conflict";
            case 413 -> "content-too-large";
            case 414 -> "uri-too-long";
            case 415 -> "unsupported-media-type";
            case 422 -> "unprocessable";
            case 429 -> "too-many-requests";
            case 502 -> "bad-gateway";
            case 503 -> "unavailable";
            default -> status.is5xxServerError() ? "internal" : "client-error";
        };
    }

    static ProblemDetail problem(HttpStatusCode status, String kind, String detail) {
        ProblemDetail p = ProblemDetail.forStatusAndDetail(status, detail);
        p.setType(URI.create(TYPE_BASE + kind));
        String requestId = MDC.get(RequestIds.MDC_KEY);
        if (requestId != null) p.setProperty("requestId", requestId);
        return p;
    }

    /** For filters and Spring Security, which answer before any controller runs. */
    static void write(HttpServletResponse response, int status, String kind, String detail) throws IOException {
        if (response.isCommitted()) return;
        response.setStatus(status);
        response.setContentType(MediaType.APPLICATION_PROBLEM_JSON_VALUE);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("type", TYPE_BASE + kind);
        HttpStatus known = HttpStatus.resolve(status);
        body.put("title", known == null ? "Error" : known.getReasonPhrase());
        body.put("status", status);
        body.put("detail", detail);
        String requestId = MDC.get(RequestIds.MDC_KEY);
        if (requestId != null) body.put("requestId", requestId);
        response.getWriter().write(JsonMapper.shared().writeValueAsString(body));
    }

    @ExceptionHandler
    ResponseEntity<ProblemDetail> api(ApiException e) {
        ProblemDetail p = problem(e.status, e.kind, e.getMessage());
        if (!e.errors.isEmpty()) p.setProperty("errors", e.errors.stream().map(Problems::fieldError).toList());
        return ResponseEntity.status(e.status).contentType(MediaType.APPLICATION_PROBLEM_JSON).body(p);
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

    /**
     * A downstream service's 4xx keeps its status and detail (its 404 is the caller's 404: the registry and the
     * job-service scope every read by tenant); a 401/403 there is our fault (service credential), so 502 like a 5xx.
     */
    @ExceptionHandler
    ResponseEntity<ProblemDetail> downstream(HttpStatusCodeException e, HttpServletRequest request) {
        int code = e.getStatusCode().value();
        if (code == 401 || code == 403 || e.getStatusCode().is5xxServerError() || !e.getStatusCode().is4xxClientError()) {
            log.error("request {} {} {}: internal service answered {}: {}", MDC.get(RequestIds.MDC_KEY), request.getMethod(),
                    request.getRequestURI(), e.getStatusCode(), e.getResponseBodyAsString());
            return api(new ApiException(HttpStatus.BAD_GATEWAY, "an internal service failed; see the log for request " + MDC.get(RequestIds.MDC_KEY)));
        }
        String detail;
        try {
            ProblemDetail p = e.getResponseBodyAs(ProblemDetail.class);
            detail = p != null && p.getDetail() != null ? p.getDetail() : HttpStatus.valueOf(code).getReasonPhrase();
        } catch (RuntimeException parse) {
            detail = HttpStatus.valueOf(code).getReasonPhrase();
        }
        return api(new ApiException(HttpStatus.valueOf(code), detail));
    }

    @ExceptionHandler
    ResponseEntity<ProblemDetail> unreachable(ResourceAccessException e, HttpServletRequest request) {
        log.error("request {} {} {}: internal service unreachable", MDC.get(RequestIds.MDC_KEY), request.getMethod(), request.getRequestURI(), e);
        return api(new ApiException(HttpStatus.BAD_GATEWAY, "an internal service is unreachable; see the log for request " + MDC.get(RequestIds.MDC_KEY)));
    }

    @ExceptionHandler
    ResponseEntity<ProblemDetail> tooLarge(BodyLimit.TooLarge e) {
        return api(new ApiException(HttpStatus.CONTENT_TOO_LARGE, e.getMessage()));
    }

    /** Anything unexpected: logged with its stack and the request id; the caller gets the id, nothing of the internals. */
    @ExceptionHandler
    ResponseEntity<ProblemDetail> unexpected(Exception e, HttpServletRequest request) throws Exception {
        if (e instanceof org.springframework.security.access.AccessDeniedException
                || e instanceof org.springframework.security.core.AuthenticationException) throw e; // Spring Security answers those
        log.error("request {} {} {} failed", MDC.get(RequestIds.MDC_KEY), request.getMethod(), request.getRequestURI(), e);
        return api(new ApiException(HttpStatus.INTERNAL_SERVER_ERROR, "internal error; see the log for request " + MDC.get(RequestIds.MDC_KEY)));
    }

    @Override
    protected ResponseEntity<Object> handleHttpMessageNotReadable(HttpMessageNotReadableException ex, HttpHeaders headers,
                                                                  HttpStatusCode status, WebRequest request) {
        if (ex.getMostSpecificCause() instanceof BodyLimit.TooLarge tooLarge)
            return new ResponseEntity<>(problem(HttpStatus.CONTENT_TOO_LARGE, "content-too-large", tooLarge.getMessage()), HttpStatus.CONTENT_TOO_LARGE);
        return new ResponseEntity<>(problem(HttpStatus.BAD_REQUEST, "malformed-body", malformedBody(ex)), HttpStatus.BAD_REQUEST);
    }

    /** Where the body went wrong, as a JSON path and line/column, without Jackson's class names. */
    static String malformedBody(HttpMessageNotReadableException ex) {
        if (!(ex.getMostSpecificCause() instanceof JacksonException j)) return "request body is missing or not valid JSON for this endpoint";
        StringBuilder path = new StringBuilder("$");
        for (JacksonException.Reference r : j.getPath()) {
            if (r.getPropertyName() != null) path.append('.').append(r.getPropertyName());
            else if (r.getIndex() >= 0) path.append('[').append(r.getIndex()).append(']');
        }
        String where = j.getLocation() == null || j.getLocation().getLineNr() < 0 ? ""
                : " (line " + j.getLocation().getLineNr() + ", column " + j.getLocation().getColumnNr() + ")";
        String what = j instanceof tools.jackson.core.exc.StreamReadException ? "is not valid JSON" : "does not fit this endpoint";
        return "request body " + what + (path.length() > 1 ? " at " + path : "") + where;
    }

    @Override
    protected ResponseEntity<Object> handleExceptionInternal(Exception ex, Object body, HttpHeaders headers, HttpStatusCode status, WebRequest request) {
        if (status.value() == 413 || ex instanceof MaxUploadSizeExceededException)
            body = problem(HttpStatus.CONTENT_TOO_LARGE, "content-too-large", "the upload exceeds the size limit");
        if (body == null && ex instanceof org.springframework.web.ErrorResponse standard) // Spring's own exceptions come without a body
            body = standard.updateAndGetBody(getMessageSource(), org.springframework.context.i18n.LocaleContextHolder.getLocale());
        if (body instanceof ProblemDetail p) {
            String detail = p.getDetail();
            ProblemDetail typed = problem(status, kindOf(status, false), detail == null ? HttpStatus.valueOf(status.value()).getReasonPhrase() : detail);
            if (p.getProperties() != null) p.getProperties().forEach(typed::setProperty);
            body = typed;
        }
        HttpHeaders h = new HttpHeaders();
        if (headers != null) h.putAll(headers);
        h.setContentType(MediaType.APPLICATION_PROBLEM_JSON);
        return super.handleExceptionInternal(ex, body, h, status, request);
    }
}
