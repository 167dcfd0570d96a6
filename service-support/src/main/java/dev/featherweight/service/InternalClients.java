package dev.featherweight.service;

import org.springframework.aop.framework.ProxyFactory;
import org.springframework.http.HttpStatus;
import org.springframework.http.client.ClientHttpRequestInitializer;
import org.springframework.http.client.JdkClientHttpRequestFactory;
import org.springframework.web.client.HttpServerErrorException;
import org.springframework.web.client.ResourceAccessException;
import org.springframework.web.client.RestClient;
import org.springframework.web.client.support.RestClientAdapter;
import org.springframework.web.service.invoker.HttpServiceProxyFactory;
import org.springframework.resilience.retry.AbstractRetryInterceptor;
import org.springframework.resilience.retry.MethodRetrySpec;

import java.lang.reflect.Method;
import java.net.URI;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.List;
import java.util.Set;

/**
 * Builds the clients of the internal APIs: one {@link RestClient} per service (JDK HttpClient with the
 * connect and read timeouts, and every {@link ClientHttpRequestInitializer} bean applied to every request —
 * the one place to add a header such as a service credential), and typed {@code @HttpExchange} proxies
 * over it whose {@link Idempotent} methods are retried with exponential backoff (Spring Framework's retry
 * support) when the failure is transient: no connection, a timeout, or 502/503/504.
 */
public class InternalClients {
    private static final Set<HttpStatus> TRANSIENT = Set.of(HttpStatus.BAD_GATEWAY, HttpStatus.SERVICE_UNAVAILABLE, HttpStatus.GATEWAY_TIMEOUT);

    private final InternalHttpProperties.Http settings;
    private final List<ClientHttpRequestInitializer> requestInitializers;

    public InternalClients(InternalHttpProperties.Http settings, List<ClientHttpRequestInitializer> requestInitializers) {
        this.settings = settings;
        this.requestInitializers = List.copyOf(requestInitializers);
    }

    /** Initializers, unlike interceptors, do not buffer request bodies: file uploads keep streaming. */
    public RestClient restClient(URI baseUrl) {
        HttpClient http = HttpClient.newBuilder().connectTimeout(settings.connectTimeout()).build();
        JdkClientHttpRequestFactory requests = new JdkClientHttpRequestFactory(http);
        requests.setReadTimeout(settings.readTimeout());
        return RestClient.builder().baseUrl(baseUrl.toString()).requestFactory(requests)
                .requestInitializers(list -> list.addAll(requestInitializers)).build();
    }

    public <T> T client(Class<T> api, RestClient http) {
        T target = HttpServiceProxyFactory.builderFor(RestClientAdapter.create(http)).build().createClient(api);
        ProxyFactory retrying = new ProxyFactory(target);
        retrying.addInterface(api);
        MethodRetrySpec spec = new MethodRetrySpec((method, failure) -> transientFailure(failure), settings.retries(),
                settings.retryDelay(), Duration.ZERO, 2.0, settings.retryDelay().multipliedBy(16));
        retrying.addAdvice(new AbstractRetryInterceptor() {
            @Override
            protected MethodRetrySpec getRetrySpec(Method method, Class<?> targetClass) {
                return method.isAnnotationPresent(Idempotent.class) && settings.retries() > 0 ? spec : null;
            }
        });
        @SuppressWarnings("unchecked")
        T client = (T) retrying.getProxy(api.getClassLoader());
        return client;
    }

    static boolean transientFailure(Throwable failure) {
        return failure instanceof ResourceAccessException
                || failure instanceof HttpServerErrorException e && TRANSIENT.contains(HttpStatus.resolve(e.getStatusCode().value()));
    }
}
