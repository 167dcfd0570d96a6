package dev.featherweight.registry;

import org.springframework.boot.SpringApplication;
import dev.featherweight.servicesecurity.InternalServiceSecurity;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Import;

/** registry-service: metadata in PostgreSQL, blobs in S3 (MinIO). Internal REST API under /internal. */
@SpringBootApplication
@org.springframework.scheduling.annotation.EnableScheduling // AbandonedUploads
@Import(InternalServiceSecurity.class)
@EnableConfigurationProperties(S3Properties.class)
public class RegistryApplication {
    public static void main(String[] args) {
        SpringApplication.run(RegistryApplication.class, args);
    }
}
