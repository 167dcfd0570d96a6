package dev.featherweight.gateway;

import dev.featherweight.service.InternalClientsConfiguration;
import dev.featherweight.service.KafkaProducerConfiguration;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Import;

/**
 * gateway: the public REST API. It owns no database: jobs go to Kafka (the shared producer: acks=all and
 * idempotence, so a 202 means the job is on every in-sync replica), reads go to the job-service and the
 * registry-service through their typed clients.
 */
@SpringBootApplication
@Import({KafkaProducerConfiguration.class, InternalClientsConfiguration.class})
@EnableConfigurationProperties({GatewayProperties.class, S3ImportProperties.class})
public class GatewayApplication {

    public static void main(String[] args) {
        new SpringApplicationBuilder(GatewayApplication.class).properties("spring.config.name=gateway").run(args);
    }
}
