package dev.featherweight.registry;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.EnableConfigurationProperties;

/** registry-service: metadata in PostgreSQL, blobs in S3 (MinIO). Internal REST API under /internal. */
@SpringBootApplication
@EnableConfigurationProperties(S3Properties.class)
public class RegistryApplication {
    public static void main(String[] args) {
        SpringApplication.run(RegistryApplication.class, args);
    }
}
