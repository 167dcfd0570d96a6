package dev.featherweight.gateway;

import dev.featherweight.service.InternalClientsConfiguration;
import dev.featherweight.service.KafkaProducerConfiguration;
import io.swagger.v3.oas.annotations.OpenAPIDefinition;
import io.swagger.v3.oas.annotations.enums.SecuritySchemeType;
import io.swagger.v3.oas.annotations.info.Info;
import io.swagger.v3.oas.annotations.security.SecurityRequirement;
import io.swagger.v3.oas.annotations.security.SecurityScheme;
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
@EnableConfigurationProperties(GatewayProperties.class)
@OpenAPIDefinition(info = @Info(title = "Featherweight API", version = "v1"), security = @SecurityRequirement(name = "apiKey"))
@SecurityScheme(name = "apiKey", type = SecuritySchemeType.HTTP, scheme = "bearer", bearerFormat = "fw_… API key",
        description = "A tenant's API key (or the admin key for /api/v1/admin): Authorization: Bearer <key>")
public class GatewayApplication {

    public static void main(String[] args) {
        new SpringApplicationBuilder(GatewayApplication.class).properties("spring.config.name=gateway").run(args);
    }
}
