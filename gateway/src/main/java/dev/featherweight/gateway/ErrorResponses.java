package dev.featherweight.gateway;

import jakarta.servlet.RequestDispatcher;
import jakarta.servlet.http.HttpServletRequest;
import org.apache.catalina.Host;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.core.StandardHost;
import org.apache.catalina.valves.ErrorReportValve;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;
import org.springframework.boot.tomcat.servlet.TomcatServletWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.boot.webmvc.error.ErrorController;
import org.springframework.context.annotation.Bean;
import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

import java.io.IOException;
import java.io.Writer;

/**
 * problem+json for what answers before (or instead of) a controller: Spring Boot's /error page (servlet errors,
 * e.g. a failed multipart parse) and Tomcat's own error report (an invalid or encoded-slash URI, an oversized
 * request line), which would otherwise be an HTML page naming the server.
 */
@RestController
public class ErrorResponses implements ErrorController {
    private static final Logger log = LoggerFactory.getLogger(ErrorResponses.class);

    @RequestMapping("/error")
    public ResponseEntity<ProblemDetail> error(HttpServletRequest request) {
        Object code = request.getAttribute(RequestDispatcher.ERROR_STATUS_CODE);
        HttpStatus status = HttpStatus.resolve(code instanceof Integer i ? i : 500);
        if (status == null || !status.isError()) status = HttpStatus.INTERNAL_SERVER_ERROR;
        Object error = request.getAttribute(RequestDispatcher.ERROR_EXCEPTION);
        String detail = status.getReasonPhrase();
        if (status.is5xxServerError()) {
            log.error("request {} {} failed", MDC.get(RequestIds.MDC_KEY), request.getAttribute(RequestDispatcher.ERROR_REQUEST_URI),
                    error instanceof Throwable t ? t : null);
            detail = "internal error; see the log for request " + MDC.get(RequestIds.MDC_KEY);
        }
        return ResponseEntity.status(status).contentType(MediaType.APPLICATION_PROBLEM_JSON)
                .body(Problems.problem(status, Problems.kindOf(status, false), detail));
    }

    /** Tomcat's error report, replaced for every error Tomcat answers itself. */
    public static class ProblemValve extends ErrorReportValve {
        @Override
        protected void report(Request request, Response response, Throwable throwable) {
            int status = response.getStatus();
            if (status < 400 || response.getContentWritten() > 0) return;
            java.util.concurrent.atomic.AtomicBoolean ioAllowed = new java.util.concurrent.atomic.AtomicBoolean(true);
            response.getCoyoteResponse().action(org.apache.coyote.ActionCode.IS_IO_ALLOWED, ioAllowed);
            if (!ioAllowed.get()) return;
            HttpStatus known = HttpStatus.resolve(status);
            String detail = status == 400 ? "the request line or a header is not valid (encoded '/' or '\\\\', bad escapes, or too long)"
                    : known == null ? "error" : known.getReasonPhrase();
            try {
                response.setContentType(MediaType.APPLICATION_PROBLEM_JSON_VALUE);
                response.setCharacterEncoding("UTF-8");
                Writer writer = response.getReporter();
                if (writer != null) {
                    writer.write("{\"type\":\"" + Problems.TYPE_BASE + Problems.kindOf(HttpStatus.valueOf(status), false) + "\",\"title\":\""
                            + (known == null ? "Error" : known.getReasonPhrase()) + "\",\"status\":" + status + ",\"detail\":\"" + detail.replace("\\", "\\\\") + "\"}");
                    response.finishResponse();
                }
            } catch (IOException | IllegalStateException e) {
                // the client is gone or the response was taken over: nothing more to say
            }
        }
    }

    @Bean
    public static WebServerFactoryCustomizer<TomcatServletWebServerFactory> problemErrorReports() {
        return factory -> factory.addContextCustomizers(context -> {
            Host host = (Host) context.getParent();
            if (host instanceof StandardHost standard) standard.setErrorReportValveClass(ProblemValve.class.getName());
        });
    }

}
