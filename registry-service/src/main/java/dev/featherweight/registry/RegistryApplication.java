package dev.featherweight.registry;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/** registry-service: metadata in PostgreSQL, blobs in S3 (MinIO). Internal REST API under /internal. */
@SpringBootApplication
@org.springframework.scheduling.annotation.EnableScheduling // AbandonedUploads
public class RegistryApplication {
    public static void main(String[] args) {
        SpringApplication.run(RegistryApplication.class, args);
    }
}
