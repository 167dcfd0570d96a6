package dev.featherweight.gateway;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.core.annotation.Order;
import org.springframework.http.MediaType;
import org.springframework.stereotype.Component;
import org.springframework.util.unit.DataSize;
import org.springframework.web.filter.OncePerRequestFilter;

import java.io.IOException;

/**
 * Limit of every non-multipart request body (job specs, imports, admin calls, session):
 * {@code featherweight.gateway.max-json-body}, counted as the bytes stream in, so a chunked body without
 * Content-Length is held to the same limit as one that declares its length (a declared length over the limit
 * is refused before anything is read). Too large → 413 problem+json. Model uploads (multipart) are parsed by
 * Tomcat, bounded by spring.servlet.multipart.max-request-size (also counted while streaming), and then held
 * to the tenant's upload limit by the model controller before anything is stored.
 */
@Component
@Order(0)
public class BodyLimit extends OncePerRequestFilter {
    private final long maxJson;

    public BodyLimit(@Value("${featherweight.gateway.max-json-body:256KB}") DataSize maxJson) {
        this.maxJson = maxJson.toBytes();
    }

    /** Thrown by the counting stream; an IOException so it travels through every reader of the body. */
    public static class TooLarge extends IOException {
        TooLarge(long limit) {
            super("request body exceeds the size limit of " + limit + " bytes");
        }
    }

    @Override
    protected boolean shouldNotFilter(HttpServletRequest request) {
        return !request.getRequestURI().startsWith("/api/");
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain) throws ServletException, IOException {
        String type = request.getContentType();
        if (type != null && type.toLowerCase(java.util.Locale.ROOT).startsWith(MediaType.MULTIPART_FORM_DATA_VALUE)) {
            chain.doFilter(request, response);
            return;
        }
        long limit = maxJson;
        if (request.getContentLengthLong() > limit) {
            Problems.write(response, 413, "content-too-large", "request body of " + request.getContentLengthLong() + " bytes exceeds the size limit of " + limit + " bytes");
            return;
        }
        chain.doFilter(new Counted(request, limit), response);
    }

    private static final class Counted extends HttpServletRequestWrapper {
        private final long limit;
        private ServletInputStream stream;

        Counted(HttpServletRequest request, long limit) {
            super(request);
            this.limit = limit;
        }

        @Override
        public ServletInputStream getInputStream() throws IOException {
            if (stream == null) stream = new CountingStream(super.getInputStream(), limit);
            return stream;
        }
    }

    private static final class CountingStream extends ServletInputStream {
        private final ServletInputStream in;
        private final long limit;
        private long count;

        CountingStream(ServletInputStream in, long limit) {
            this.in = in;
            this.limit = limit;
        }

        private void add(long n) throws TooLarge {
            if (n > 0 && (count += n) > limit) throw new TooLarge(limit);
        }

        @Override
        public int read() throws IOException {
            int b = in.read();
            if (b >= 0) add(1);
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = in.read(b, off, len);
            add(n);
            return n;
        }

        @Override
        public boolean isFinished() {
            return in.isFinished();
        }

        @Override
        public boolean isReady() {
            return in.isReady();
        }

        @Override
        public void setReadListener(ReadListener listener) {
            in.setReadListener(listener);
        }
    }
}
