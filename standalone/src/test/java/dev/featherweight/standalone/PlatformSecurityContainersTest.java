package dev.featherweight.standalone;

import org.testcontainers.junit.jupiter.Testcontainers;

import java.net.URI;
import java.nio.file.Path;
import java.util.List;

/**
 * The attacks of {@link PlatformSecurityTest} against the platform on Kafka, PostgreSQL and MinIO containers
 * (the same containers as {@link PlatformMechanicsContainersTest}). Skipped where no Docker engine is available.
 */
@Testcontainers(disabledWithoutDocker = true)
class PlatformSecurityContainersTest extends PlatformSecurityTest {

    @Override
    Platform start(Path data) throws Exception {
        return PlatformMechanicsContainersTest.onContainers(data, overrides(), sharedBeans());
    }

    @Override
    void stopPlatform() {
        super.stopPlatform();
        PlatformMechanicsContainersTest.stopContainers();
    }

    @Override
    List<String> platformS3Endpoints() {
        URI minio = URI.create(PlatformMechanicsContainersTest.MINIO.getS3URL());
        return List.of(minio.toString(), "http://127.0.0.1:" + minio.getPort());
    }
}
