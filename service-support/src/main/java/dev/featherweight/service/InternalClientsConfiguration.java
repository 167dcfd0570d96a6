package dev.featherweight.service;

import dev.featherweight.servicesecurity.ServiceCredential;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Value;
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

    /** Every internal request carries the deployment's service credential (refused at startup when missing or short). */
    @Bean
    public ClientHttpRequestInitializer serviceCredentialHeader(@Value("${" + ServiceCredential.PROPERTY + ":}") String credential) {
        String value = ServiceCredential.require(credential);
        return request -> request.getHeaders().set(ServiceCredential.HEADER, value);
    }

    @Bean
    public InternalClients internalClients(InternalHttpProperties properties, ObjectProvider<ClientHttpRequestInitializer> requestInitializers) {
        return new InternalClients(properties.http(), requestInitializers.orderedStream().toList());
    }

    @Bean
    public RestClient registryClient(InternalClients clients, InternalHttpProperties properties) {
        return clients.restClient(properties.registryUrl());
    }

    @Bean
    public RestClient jobsClient(InternalClients clients, InternalHttpProperties properties) {
        return clients.restClient(properties.jobsUrl());
    }

    @Bean
    public RegistryApi registryApi(InternalClients clients, RestClient registryClient) {
        return clients.client(RegistryApi.class, registryClient);
    }

    @Bean
    public RegistryFiles registryFiles(RestClient registryClient) {
        return new RegistryFiles(registryClient);
    }

    @Bean
    public JobsApi jobsApi(InternalClients clients, RestClient jobsClient) {
        return clients.client(JobsApi.class, jobsClient);
    }
}
