package dev.featherweight.worker;

import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.StringSerializer;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.kafka.autoconfigure.KafkaProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.client.JdkClientHttpRequestFactory;
import org.springframework.kafka.core.DefaultKafkaProducerFactory;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.web.client.RestClient;

import java.net.http.HttpClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/** Beans both workers need: the event producer (acks=all) and the registry and job-service clients. */
@Configuration
public class WorkerConfiguration {

    @Bean
    public DefaultKafkaProducerFactory<String, String> stringProducerFactory(KafkaProperties properties) {
        Map<String, Object> config = new HashMap<>(properties.buildProducerProperties());
        config.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        config.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        return new DefaultKafkaProducerFactory<>(config); // a bean, so the context closes its producers
    }

    @Bean
    public KafkaTemplate<String, String> kafkaTemplate(DefaultKafkaProducerFactory<String, String> stringProducerFactory) {
        return new KafkaTemplate<>(stringProducerFactory);
    }

    @Bean
    public Events events(KafkaTemplate<String, String> kafka) {
        return new Events(kafka);
    }

    static RestClient client(String url) {
        return RestClient.builder().baseUrl(url)
                .requestFactory(new JdkClientHttpRequestFactory(HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build())).build();
    }

    @Bean
    public RegistryClient registryClient(@Value("${featherweight.registry-url}") String url,
                                         @Value("${featherweight.worker.cache-dir:${java.io.tmpdir}/featherweight-cache}") Path cache,
                                         @Value("${featherweight.worker.cache-max:50GB}") org.springframework.util.unit.DataSize cacheMax,
                                         @Value("${featherweight.worker.store-retry:2m}") Duration storeRetry) {
        return new RegistryClient(client(url), cache, cacheMax.toBytes(), storeRetry);
    }

    @Bean
    public JobsClient jobsClient(@Value("${featherweight.jobs-url}") String url) {
        return new JobsClient(client(url));
    }
}
