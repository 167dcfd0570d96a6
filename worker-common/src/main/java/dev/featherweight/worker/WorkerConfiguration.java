package dev.featherweight.worker;

import dev.featherweight.service.InternalClientsConfiguration;
import dev.featherweight.service.KafkaProducerConfiguration;
import dev.featherweight.service.RegistryApi;
import dev.featherweight.service.RegistryFiles;
import dev.featherweight.servicesecurity.InternalServiceSecurity;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.kafka.core.KafkaTemplate;

/** Beans both workers need: the event producer (acks=all), the registry and job-service clients, the model cache. */
@Configuration(proxyBeanMethods = false)
@Import({KafkaProducerConfiguration.class, InternalClientsConfiguration.class, InternalServiceSecurity.class}) // a worker's own endpoints (actuator) are internal too
@EnableConfigurationProperties(WorkerProperties.class)
public class WorkerConfiguration {

    @Bean
    public Events events(KafkaTemplate<String, String> kafka) {
        return new Events(kafka);
    }

    @Bean
    public RegistryClient workerRegistryClient(RegistryApi api, RegistryFiles files, WorkerProperties worker) {
        return new RegistryClient(api, files, worker.cacheDir(), worker.cacheMax().toBytes(), worker.storeRetry());
    }
}
