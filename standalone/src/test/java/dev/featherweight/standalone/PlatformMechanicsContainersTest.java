package dev.featherweight.standalone;

import org.testcontainers.containers.MinIOContainer;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.kafka.KafkaContainer;
import org.testcontainers.postgresql.PostgreSQLContainer;

import java.nio.file.Path;
import java.sql.DriverManager;

/**
 * The same scenarios as {@link PlatformMechanicsTest} on real servers in containers: Kafka (KRaft),
 * PostgreSQL and MinIO. Skipped where no Docker engine is available (as on the build machines here).
 * S3 outage and broker restart: the MinIO / Kafka container is paused and unpaused.
 */
@Testcontainers(disabledWithoutDocker = true)
class PlatformMechanicsContainersTest extends PlatformMechanicsTest {
    static final KafkaContainer KAFKA = new KafkaContainer("apache/kafka:4.2.1");
    static final PostgreSQLContainer POSTGRES = new PostgreSQLContainer("postgres:17").withDatabaseName("jobs");
    static final MinIOContainer MINIO = new MinIOContainer("minio/minio:latest").withUserName("featherweight").withPassword("featherweight-secret");

    @Override
    Platform start(Path data) throws Exception {
        return onContainers(data, overrides(), sharedBeans());
    }

    /** The platform on the Kafka, PostgreSQL and MinIO containers (started here; {@link #stopContainers} stops them). */
    static Platform onContainers(Path data, java.util.Map<String, String> overrides, java.util.Map<String, Object> sharedBeans) throws Exception {
        KAFKA.start();
        POSTGRES.start();
        MINIO.start();
        try (var c = DriverManager.getConnection(POSTGRES.getJdbcUrl(), POSTGRES.getUsername(), POSTGRES.getPassword());
             var s = c.createStatement()) {
            s.execute("create database registry");
        }
        String registryUrl = POSTGRES.getJdbcUrl().replace("/jobs", "/registry");
        return Platform.start(new Platform.Options(data, 0, 0, ADMIN_KEY, overrides, sharedBeans),
                new Platform.Endpoints(KAFKA.getBootstrapServers(), POSTGRES.getJdbcUrl(), registryUrl, POSTGRES.getUsername(),
                        POSTGRES.getPassword(), MINIO.getS3URL(), MINIO.getUserName(), MINIO.getPassword()));
    }

    @Override
    void stopPlatform() {
        super.stopPlatform();
        stopContainers();
    }

    static void stopContainers() {
        MINIO.stop();
        POSTGRES.stop();
        KAFKA.stop();
    }

    @Override
    String kafkaBootstrap() {
        return KAFKA.getBootstrapServers();
    }

    @Override
    void stopKafka() {
        KAFKA.getDockerClient().pauseContainerCmd(KAFKA.getContainerId()).exec();
    }

    @Override
    void startKafka() {
        KAFKA.getDockerClient().unpauseContainerCmd(KAFKA.getContainerId()).exec();
    }

    @Override
    void stopS3() {
        MINIO.getDockerClient().pauseContainerCmd(MINIO.getContainerId()).exec();
    }

    @Override
    void startS3() {
        MINIO.getDockerClient().unpauseContainerCmd(MINIO.getContainerId()).exec();
    }
}
