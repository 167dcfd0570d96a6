package dev.featherweight.standalone;

import dev.featherweight.contracts.Json;
import dev.featherweight.contracts.Message;
import dev.featherweight.contracts.Topics;
import dev.featherweight.contracts.jobs.JobState;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.springframework.context.ConfigurableApplicationContext;
import tools.jackson.databind.JsonNode;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A scaled-out platform in one JVM: two gateways, two job-services (one consumer group per topic split
 * between them, one outbox publisher elected by the advisory lock), three quantizer-workers and three
 * eval-workers, on the real kernels. 200 jobs (GGUF Q8_0 of feather-3m: cheap, and stories260K's rows of 172 fit
 * no 32-wide block) submitted
 * through both gateways while one quantizer-worker replica is stopped mid-run: every job SUCCEEDED with
 * exactly one artifact, each finished by exactly one job-service (counted once over both), and every job's
 * events reached Kafka in the order they were committed (states never go back, time never goes back, one
 * terminal event, last).
 */
class PlatformReplicasTest extends PlatformTestBase {
    static final String JOB = """
            {"modelId":"feather-3m","recipes":[{"method":"gguf","fileType":"Q8_0"}]}""";
    static final int JOBS = 200;

    @Test
    void twoGatewaysTwoJobServicesAndThreeWorkersOfEachKindFinish200JobsWithOneArtifactEachInOrder() throws Exception {
        long t0 = System.nanoTime();
        String js2Url = "http://127.0.0.1:";
        ConfigurableApplicationContext jobService2 = platform.startReplica(Platform.Replicable.JOB_SERVICE, "job-service-2", null);
        js2Url += platform.port(jobService2);
        ConfigurableApplicationContext gateway2 = platform.startReplica(Platform.Replicable.GATEWAY, "gateway-2", js2Url);
        ConfigurableApplicationContext quantizer2 = platform.startReplica(Platform.Replicable.QUANTIZER_WORKER, "quantizer-2", null);
        platform.startReplica(Platform.Replicable.QUANTIZER_WORKER, "quantizer-3", js2Url);
        platform.startReplica(Platform.Replicable.EVAL_WORKER, "eval-2", null);
        platform.startReplica(Platform.Replicable.EVAL_WORKER, "eval-3", js2Url);
        double started = (System.nanoTime() - t0) / 1e9;

        ApiClient api1 = tenantWithFeather("replicas");
        ApiClient api2 = new ApiClient("http://127.0.0.1:" + platform.port(gateway2), api1.key());
        List<String> jobs = new ArrayList<>();
        for (int i = 0; i < JOBS; i++) jobs.add(submit(i % 2 == 0 ? api1 : api2, JOB));

        // a quantizer-worker replica goes away mid-run: its partitions move to the others, its task (if any) is re-leased
        for (int i = 0; i < 3000 && finished(platform.jobService) + finished(jobService2) < JOBS / 4; i++) Thread.sleep(100);
        quantizer2.close();

        Set<String> workers = new HashSet<>();
        for (String job : jobs) {
            JsonNode done = api1.awaitJob(job, Duration.ofMinutes(5));
            assertThat(done.path("state").asString()).as(done.toString()).isEqualTo("SUCCEEDED");
            workers.add(done.path("tasks").get(0).path("worker").asString());
        }
        for (String job : jobs.subList(0, JOBS / 2)) assertThat(artifactsOf(api2, job)).as(job).hasSize(1);
        for (String job : jobs.subList(JOBS / 2, JOBS)) assertThat(artifactsOf(api1, job)).as(job).hasSize(1);
        double wall = (System.nanoTime() - t0) / 1e9;
        assertThat(workers).as("the quantizer-workers that ran the jobs").hasSizeGreaterThanOrEqualTo(2);
        // each job finished once, by whichever job-service consumed its last task event; both did some
        assertThat(finished(platform.jobService) + finished(jobService2)).isEqualTo(JOBS);
        assertThat(finished(platform.jobService)).isPositive();
        assertThat(finished(jobService2)).isPositive();

        Map<String, List<Message.JobStateChanged>> events = new HashMap<>();
        try (KafkaProbe kafka = new KafkaProbe(kafkaBootstrap())) {
            for (ConsumerRecord<String, String> r : kafka.readAll(Topics.JOB_EVENTS)) // partition order = publication order per job
                if (Json.read(r.value().getBytes()) instanceof Message.JobStateChanged e && jobs.contains(e.jobId()))
                    events.computeIfAbsent(e.jobId(), k -> new ArrayList<>()).add(e);
        }
        assertThat(events.keySet()).hasSize(JOBS);
        events.forEach((job, list) -> {
            Instant lastAt = Instant.MIN;
            JobState lastState = JobState.SUBMITTED;
            for (Message.JobStateChanged e : list) {
                assertThat(e.at()).as(job + " events in commit order").isAfterOrEqualTo(lastAt);
                assertThat(e.state().ordinal()).as(job + " states never go back").isGreaterThanOrEqualTo(lastState.ordinal());
                lastAt = e.at();
                lastState = e.state();
            }
            assertThat(list.stream().filter(e -> e.state().terminal()).count()).as(job).isEqualTo(1);
            assertThat(list.getLast().state()).as(job).isEqualTo(JobState.SUCCEEDED);
        });
        Files.writeString(Path.of("target", "replicas-report.txt"), String.format(Locale.ROOT,
                "replicas: 2 gateways, 2 job-services, 3+3 workers; replicas started in %.1f s; %d jobs submitted, finished and checked in %.1f s wall (%d workers ran them)%n",
                started, JOBS, wall - started, workers.size()));
    }

    static double finished(ConfigurableApplicationContext jobService) {
        return PlatformMechanicsTest.counter(jobService, "featherweight.jobs.finished", "state", "SUCCEEDED");
    }
}
