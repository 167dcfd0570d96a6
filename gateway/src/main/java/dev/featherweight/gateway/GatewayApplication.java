package dev.featherweight.gateway;

import dev.featherweight.servicesecurity.ServiceCredential;
import io.swagger.v3.oas.annotations.OpenAPIDefinition;
import io.swagger.v3.oas.annotations.enums.SecuritySchemeType;
import io.swagger.v3.oas.annotations.info.Info;
import io.swagger.v3.oas.annotations.security.SecurityRequirement;
import io.swagger.v3.oas.annotations.security.SecurityScheme;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.StringSerializer;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.kafka.autoconfigure.KafkaProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.http.client.JdkClientHttpRequestFactory;
import org.springframework.kafka.core.DefaultKafkaProducerFactory;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.web.client.RestClient;

import java.net.http.HttpClient;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/** gateway: the public REST API. It owns no database: jobs go to Kafka, reads go to job-service and registry-service. */
@SpringBootApplication
@OpenAPIDefinition(info = @Info(title = "Featherweight API", version = "v1"), security = @SecurityRequirement(name = "apiKey"))
@SecurityScheme(name = "apiKey", type = SecuritySchemeType.HTTP, scheme = "bearer", bearerFormat = "fw_… API key",
        description = "A tenant's API key (or the admin key for /api/v1/admin): Authorization: Bearer <key>")
public class GatewayApplication {

    public static void main(String[] args) {
        new SpringApplicationBuilder(GatewayApplication.class).properties("spring.config.name=gateway").run(args);
    }

    /** Submissions: acks=all and idempotence, so a 202 means the job is on every in-sync replica. */
    @Bean
    public DefaultKafkaProducerFactory<String, String> stringProducerFactory(KafkaProperties properties) {
        Map<String, Object> config = new HashMap<>(properties.buildProducerProperties());
        config.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        config.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        config.put(ProducerConfig.LINGER_MS_CONFIG, 1);
        return new DefaultKafkaProducerFactory<>(config); // a bean, so the context closes its producers
    }

    @Bean
    public KafkaTemplate<String, String> kafkaTemplate(DefaultKafkaProducerFactory<String, String> stringProducerFactory) {
        return new KafkaTemplate<>(stringProducerFactory);
    }

    /** A client of an internal service: every call carries the deployment's service credential. */
    static RestClient client(String baseUrl, String serviceCredential) {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        return RestClient.builder().baseUrl(baseUrl).requestFactory(new JdkClientHttpRequestFactory(http))
                .defaultHeader(ServiceCredential.HEADER, ServiceCredential.require(serviceCredential)).build();
    }

    @Bean
    public RestClient registryClient(@Value("${featherweight.registry-url}") String url,
                                     @Value("${" + ServiceCredential.PROPERTY + ":}") String serviceCredential) {
        return client(url, serviceCredential);
    }

    @Bean
    public RestClient jobsClient(@Value("${featherweight.jobs-url}") String url,
                                 @Value("${" + ServiceCredential.PROPERTY + ":}") String serviceCredential) {
        return client(url, serviceCredential);
    }
}
