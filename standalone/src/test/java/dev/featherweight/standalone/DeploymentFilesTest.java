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
        Map<String, Object> helmValues = new Yaml().load(Files.readString(PlatformTestBase.REPO.resolve("helm/featherweight/values.yaml")));
        assertThat(services).containsKeys("kafka", "postgres", "minio").containsKeys(SERVICES.toArray(String[]::new));
        for (Map.Entry<String, Map<String, Object>> s : services.entrySet())
            assertThat(s.getValue()).as(s.getKey()).containsKey("healthcheck");
        for (String name : SERVICES) {
            Map<String, Object> s = services.get(name);
            assertThat((String) s.get("image")).isEqualTo("featherweight/" + name + ":0.1.0-SNAPSHOT"); // what Jib builds
            Map<String, Object> env = (Map<String, Object>) s.get("environment");
            assertThat(env).containsEntry("SPRING_CONFIG_NAME", name).containsEntry("FW_KAFKA", "kafka:9092");
            // the same memory limit and heap share as Helm's values: without a limit, a percentage of the host's RAM
            Map<String, Object> helm = cast(cast(helmValues.get("services")).get(name));
            String helmLimit = (String) cast(cast(helm.get("resources")).get("limits")).get("memory");
            assertThat(s.get("mem_limit")).as(name).isEqualTo(helmLimit.replace("Gi", "g"));
            assertThat(env.get("JAVA_TOOL_OPTIONS")).as(name).isEqualTo(helm.get("javaOpts"));
        }
        assertThat((Map<String, Object>) compose.get("volumes")).containsKeys("kafka-data", "postgres-data", "minio-data");
    }

    @Test
    void helmChartLintsAndRendersADeploymentAndServicePerService() throws Exception {
        Helm chart = new Helm(PlatformTestBase.REPO.resolve("helm/featherweight"));
        LintResult lint = chart.lint().strict().call();
        assertThat(lint.isFailed()).as(String.join("\n", lint.getMessages())).isFalse();
        String rendered = chart.template().withName("fw").set("services.quantizer-worker.replicas", 3).call();
        List<Map<String, Object>> docs = documents(rendered);
        List<String> deployments = docs.stream().filter(d -> "Deployment".equals(d.get("kind"))).map(d -> name(d)).sorted().toList();
        assertThat(deployments).containsExactly("fw-eval-worker", "fw-gateway", "fw-job-service", "fw-quantizer-worker", "fw-registry-service");
        assertThat(docs.stream().filter(d -> "Service".equals(d.get("kind"))).count()).isEqualTo(5);
        assertThat(docs.stream().filter(d -> "Secret".equals(d.get("kind"))).count()).isEqualTo(1);
        assertThat(rendered).contains("replicas: 3").contains("/actuator/health/readiness").contains("value: \"A100-40GB-PCIe\"");
    }

    @Test
    @SuppressWarnings("unchecked")
    void workersScaleOnTheirKafkaLagPodsLeaveGracefullyAndDisruptionsTakeOnePodAtATime() throws Exception {
        Helm chart = new Helm(PlatformTestBase.REPO.resolve("helm/featherweight"));
        List<Map<String, Object>> plain = documents(chart.template().withName("fw").call()); // no KEDA in the cluster: HPAs
        List<Map<String, Object>> hpas = plain.stream().filter(d -> "HorizontalPodAutoscaler".equals(d.get("kind"))).toList();
        assertThat(hpas).extracting(DeploymentFilesTest::name).containsExactlyInAnyOrder("fw-quantizer-worker", "fw-eval-worker");
        for (Map<String, Object> h : hpas) {
            Map<String, Object> metric = cast(cast(((List<Object>) cast(h.get("spec")).get("metrics")).getFirst()).get("pods"));
            assertThat(cast(metric.get("metric")).get("name")).isEqualTo("spring_cloud_stream_binder_kafka_offset");
        }
        assertThat(plain.stream().filter(d -> "PodDisruptionBudget".equals(d.get("kind"))).count()).isEqualTo(5);
        for (Map<String, Object> d : plain.stream().filter(d -> "Deployment".equals(d.get("kind"))).toList()) {
            Map<String, Object> pod = cast(cast(cast(d.get("spec")).get("template")).get("spec"));
            assertThat(pod.get("terminationGracePeriodSeconds")).isEqualTo(60); // the 30 s task lease + 30 s
            Map<String, Object> container = cast(((List<Object>) pod.get("containers")).getFirst());
            assertThat(cast(cast(container.get("lifecycle")).get("preStop"))).containsKey("sleep");
        }
        List<Map<String, Object>> keda = documents(chart.template().withName("fw").set("autoscaling.keda", "true").call());
        List<Map<String, Object>> scaled = keda.stream().filter(d -> "ScaledObject".equals(d.get("kind"))).toList();
        assertThat(scaled).extracting(DeploymentFilesTest::name).containsExactlyInAnyOrder("fw-quantizer-worker", "fw-eval-worker");
        assertThat(keda.stream().filter(d -> "HorizontalPodAutoscaler".equals(d.get("kind")))).isEmpty();
        Map<String, Object> quantizer = scaled.stream().filter(d -> name(d).equals("fw-quantizer-worker")).findFirst().orElseThrow();
        Map<String, Object> trigger = cast(((List<Object>) cast(quantizer.get("spec")).get("triggers")).getFirst());
        assertThat(trigger.get("type")).isEqualTo("kafka");
        assertThat(cast(trigger.get("metadata"))).containsEntry("topic", "fw.tasks.quantize").containsEntry("consumerGroup", "quantizer-worker");
    }

    /** Every rendered manifest read into the Kubernetes API model, refusing unknown fields and loosely typed values. */
    @Test
    void everyRenderedManifestIsValidAgainstTheKubernetesApiModel() throws Exception {
        Helm chart = new Helm(PlatformTestBase.REPO.resolve("helm/featherweight"));
        for (String rendered : List.of(chart.template().withName("fw").call(),
                chart.template().withName("fw").set("existingSecret", "fw-secrets").set("gatewayIngressFrom[0].namespaceSelector.matchLabels.team", "edge").call())) {
            List<Map<String, Object>> docs = documents(rendered);
            assertThat(docs).isNotEmpty();
            for (Map<String, Object> doc : docs) assertThat(KubernetesManifests.problems(doc)).as(name(doc)).isEmpty();
        }
        // the validator itself: a misspelled field and a string where a number belongs are found
        Map<String, Object> deployment = documents(chart.template().withName("fw").call()).stream()
                .filter(d -> "Deployment".equals(d.get("kind"))).findFirst().orElseThrow();
        String misspelled = new tools.jackson.databind.json.JsonMapper().writeValueAsString(deployment)
                .replace("\"readOnlyRootFilesystem\"", "\"readOnlyRootFilesytem\"").replace("\"containerPort\":8080", "\"containerPort\":\"http\"");
        assertThat(KubernetesManifests.problems(cast(new Yaml().load(misspelled)))).isNotEmpty();
    }

    /** The chart's security: secrets generated or taken from an existing Secret, locked-down pods, NetworkPolicies. */
    @Test
    @SuppressWarnings("unchecked")
    void theChartIsLockedDown() throws Exception {
        Helm chart = new Helm(PlatformTestBase.REPO.resolve("helm/featherweight"));
        List<Map<String, Object>> docs = documents(chart.template().withName("fw").call());
        Map<String, Object> secret = docs.stream().filter(d -> "Secret".equals(d.get("kind"))).findFirst().orElseThrow();
        Map<String, String> data = (Map<String, String>) secret.get("data");
        assertThat(data).containsOnlyKeys("FW_SERVICE_CREDENTIAL", "FW_ADMIN_KEY", "FW_DB_PASSWORD", "FW_S3_SECRET_KEY");
        for (String value : data.values()) assertThat(java.util.Base64.getDecoder().decode(value).length).isGreaterThanOrEqualTo(32);
        for (Map<String, Object> d : docs.stream().filter(d -> "Deployment".equals(d.get("kind"))).toList()) {
            Map<String, Object> pod = cast(cast(cast(d.get("spec")).get("template")).get("spec"));
            assertThat(cast(pod.get("securityContext"))).as(name(d)).containsEntry("runAsNonRoot", true);
            assertThat(pod).containsEntry("automountServiceAccountToken", false);
            for (Object c : (List<Object>) pod.get("containers")) {
                Map<String, Object> sc = cast(cast(c).get("securityContext"));
                assertThat(sc).as(name(d)).containsEntry("readOnlyRootFilesystem", true).containsEntry("allowPrivilegeEscalation", false);
                assertThat((List<Object>) cast(sc.get("capabilities")).get("drop")).containsExactly("ALL");
                Map<String, Object> resources = cast(cast(c).get("resources"));
                assertThat(cast(resources.get("requests"))).containsKeys("cpu", "memory");
                assertThat(cast(resources.get("limits"))).containsKeys("cpu", "memory");
            }
        }
        Map<String, Map<String, Object>> policies = new java.util.TreeMap<>();
        for (Map<String, Object> d : docs) if ("NetworkPolicy".equals(d.get("kind"))) policies.put(name(d), cast(d.get("spec")));
        assertThat(policies).containsOnlyKeys("fw-gateway", "fw-internal");
        Map<String, Object> internal = policies.get("fw-internal");
        assertThat(cast(cast(internal.get("podSelector")).get("matchLabels"))).containsExactly(Map.entry("app.kubernetes.io/instance", "fw"));
        List<Object> from = (List<Object>) cast(((List<Object>) internal.get("ingress")).getFirst()).get("from");
        assertThat(from).containsExactly(Map.of("podSelector", Map.of("matchLabels", Map.of("app.kubernetes.io/instance", "fw"))));
        assertThat(cast(cast(policies.get("fw-gateway").get("podSelector")).get("matchLabels"))).containsEntry("app.kubernetes.io/name", "gateway");

        String withSecret = chart.template().withName("fw").set("existingSecret", "fw-secrets").call();
        assertThat(documents(withSecret).stream().filter(d -> "Secret".equals(d.get("kind")))).isEmpty();
        assertThat(withSecret).contains("secretRef: {name: fw-secrets}");
    }

    static List<Map<String, Object>> documents(String rendered) {
        List<Map<String, Object>> docs = new ArrayList<>();
        for (Object d : new Yaml().loadAll(rendered)) if (d != null) docs.add(cast(d));
        return docs;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> cast(Object o) {
        return (Map<String, Object>) o;
    }

    private static String name(Map<String, Object> doc) {
        return (String) cast(doc.get("metadata")).get("name");
    }
}
