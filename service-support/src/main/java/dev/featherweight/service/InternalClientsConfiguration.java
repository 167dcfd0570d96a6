package dev.featherweight.service;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.client.ClientHttpRequestInitializer;
import org.springframework.web.client.RestClient;

/**
 * The internal clients of a service that calls the registry and the job-service (the gateway, the
 * workers). To add a header to every internal request, declare a {@link ClientHttpRequestInitializer} bean.
 */
@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(InternalHttpProperties.class)
public class InternalClientsConfiguration {

    @Bean
    public InternalClients internalClients(InternalHttpProperties properties, ObjectProvider<ClientHttpRequestInitializer> requestInitializers) {
        return new InternalClients(properties.http(), requestInitializers.orderedStream().toList());
    }

    @Bean
    public RestClient registryRestClient(InternalClients clients, InternalHttpProperties properties) {
        return clients.restClient(properties.registryUrl());
    }

    @Bean
    public RestClient jobsRestClient(InternalClients clients, InternalHttpProperties properties) {
        return clients.restClient(properties.jobsUrl());
    }

    @Bean
    public RegistryApi registryApi(InternalClients clients, RestClient registryRestClient) {
        return clients.client(RegistryApi.class, registryRestClient);
    }

    @Bean
    public RegistryFiles registryFiles(RestClient registryRestClient) {
        return new RegistryFiles(registryRestClient);
    }

    @Bean
    public JobsApi jobsApi(InternalClients clients, RestClient jobsRestClient) {
        return clients.client(JobsApi.class, jobsRestClient);
    }
}
