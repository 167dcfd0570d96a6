package dev.featherweight.standalone;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** docker-compose.yml and the Helm chart: parsed, linted and rendered (a real Helm in the JVM via helm-java). */
class DeploymentFilesTest {
    static final List<String> SERVICES = List.of("gateway", "job-service", "registry-service", "quantizer-worker", "eval-worker");

    @Test
    @SuppressWarnings("unchecked")
    void composeRunsTheFiveServicesOnKafkaPostgresAndMinioWithHealthChecksAndVolumes() throws Exception {
        Map<String, Object> compose = new Yaml().load(Files.readString(PlatformTestBase.REPO.resolve("docker-compose.yml")));
        Map<String, Map<String, Object>> services = (Map<String, Map<String, Object>>) compose.get("services");
        assertThat(services).containsKeys("kafka", "postgres", "minio").containsKeys(SERVICES.toArray(String[]::new));
        for (Map.Entry<String, Map<String, Object>> s : services.entrySet())
            assertThat(s.getValue()).as(s.getKey()).containsKey("healthcheck");
        for (String name : SERVICES) {
            Map<String, Object> s = services.get(name);
            assertThat((String) s.get("image")).isEqualTo("featherweight/" + name + ":0.1.0-SNAPSHOT"); // what Jib builds
            Map<String, Object> env = (Map<String, Object>) s.get("environment");
            assertThat(env).containsEntry("SPRING_CONFIG_NAME", name).containsEntry("FW_KAFKA", "kafka:9092");
        }
        assertThat((Map<String, Object>) compose.get("volumes")).containsKeys("kafka-data", "postgres-data", "minio-data");
    }

    @Test
    void helmChartLintsAndRendersADeploymentAndServicePerService() throws Exception {
        Helm chart = new Helm(PlatformTestBase.REPO.resolve("helm/featherweight"));
        LintResult lint = chart.lint().call();
        assertThat(lint.isFailed()).as(String.join("\n", lint.getMessages())).isFalse();
        String rendered = chart.template().withName("fw").set("services.quantizer-worker.replicas", 3).call();
        List<Map<String, Object>> docs = new ArrayList<>();
        for (Object d : new Yaml().loadAll(rendered)) if (d != null) docs.add(cast(d));
        List<String> deployments = docs.stream().filter(d -> "Deployment".equals(d.get("kind"))).map(d -> name(d)).sorted().toList();
        assertThat(deployments).containsExactly("fw-eval-worker", "fw-gateway", "fw-job-service", "fw-quantizer-worker", "fw-registry-service");
        assertThat(docs.stream().filter(d -> "Service".equals(d.get("kind"))).count()).isEqualTo(5);
        assertThat(docs.stream().filter(d -> "Secret".equals(d.get("kind"))).count()).isEqualTo(1);
        assertThat(rendered).contains("replicas: 3").contains("/actuator/health/readiness").contains("value: \"A100-40GB-PCIe\"");
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> cast(Object o) {
        return (Map<String, Object>) o;
    }

    private static String name(Map<String, Object> doc) {
        return (String) cast(doc.get("metadata")).get("name");
    }
}
