package dev.featherweight.jobs;

import dev.featherweight.contracts.EvalSpec;
import dev.featherweight.contracts.JobSpec;
import dev.featherweight.contracts.Json;
import dev.featherweight.contracts.Message;
import dev.featherweight.contracts.Recipe;
import dev.featherweight.contracts.Topics;
import dev.featherweight.contracts.jobs.JobState;
import dev.featherweight.contracts.jobs.TaskState;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.autoconfigure.AutoConfigurationPackage;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.data.jpa.autoconfigure.DataJpaRepositoriesAutoConfiguration;
import org.springframework.boot.flyway.autoconfigure.FlywayAutoConfiguration;
import org.springframework.boot.hibernate.autoconfigure.HibernateJpaAutoConfiguration;
import org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration;
import org.springframework.boot.jdbc.autoconfigure.DataSourceTransactionManagerAutoConfiguration;
import org.springframework.boot.jdbc.autoconfigure.JdbcClientAutoConfiguration;
import org.springframework.boot.jdbc.autoconfigure.JdbcTemplateAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.transaction.autoconfigure.TransactionAutoConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The job/task state machine on a real PostgreSQL (embedded, with the service's Flyway schema and JPA
 * mapping): the legal transitions and what each writes to the outbox, and the illegal ones — events of a
 * superseded attempt, events for a finished task, redelivered messages — which change nothing.
 */
@SpringBootTest(classes = JobStateMachineTest.Slice.class, properties = {
        "spring.flyway.locations=classpath:db/jobs", "spring.jpa.hibernate.ddl-auto=validate", "spring.jpa.open-in-view=false",
        "featherweight.jobs.max-attempts=2", "featherweight.jobs.lease=30s", "featherweight.jobs.queue-timeout=1h"})
class JobStateMachineTest {
    static final EmbeddedPostgres PG;

    static {
        try {
            PG = EmbeddedPostgres.builder().start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @SpringBootConfiguration
    @AutoConfigurationPackage // entities and repositories of this package
    @ImportAutoConfiguration({DataSourceAutoConfiguration.class, DataSourceTransactionManagerAutoConfiguration.class,
            TransactionAutoConfiguration.class, JdbcTemplateAutoConfiguration.class, JdbcClientAutoConfiguration.class,
            FlywayAutoConfiguration.class, HibernateJpaAutoConfiguration.class, DataJpaRepositoriesAutoConfiguration.class})
    @EnableConfigurationProperties(JobsProperties.class)
    @Import(JobStateMachine.class)
    static class Slice {
        @Bean
        MeterRegistry meters() {
            return new SimpleMeterRegistry();
        }
    }

    @DynamicPropertySource
    static void database(DynamicPropertyRegistry r) {
        r.add("spring.datasource.url", () -> PG.getJdbcUrl("postgres", "postgres"));
        r.add("spring.datasource.username", () -> "postgres");
        r.add("spring.datasource.password", () -> "postgres");
    }

    @AfterAll
    static void stop() throws IOException {
        PG.close();
    }

    @Autowired
    JobStateMachine machine;
    @Autowired
    JobRepository jobs;
    @Autowired
    TaskRepository tasks;
    @Autowired
    JdbcClient db;

    String jobId;

    @BeforeEach
    void newJob() {
        jobId = "j-" + UUID.randomUUID();
    }

    static String id() {
        return UUID.randomUUID().toString();
    }

    void submit(EvalSpec eval, Recipe... recipes) {
        machine.onCommand(new Message.JobSubmitted(id(), jobId, "t-1", new JobSpec("feather-3m", List.of(recipes), eval), Instant.now()));
    }

    TaskEntity task(String suffix) {
        return tasks.findById(jobId + suffix).orElseThrow();
    }

    JobEntity job() {
        return jobs.findById(jobId).orElseThrow();
    }

    /** The outbox messages of this job on a topic, oldest first. */
    List<Message> outbox(String topic) {
        return db.sql("select payload from outbox where topic = ? and msg_key like ? order by id").params(topic, jobId + "%")
                .query(String.class).list().stream().map(Json::read).toList();
    }

    void started(String taskId, int attempt) {
        machine.onTaskEvent(new Message.TaskStarted(id(), taskId, jobId, attempt, "w1", "L4", Instant.now()));
    }

    @Test
    void submitPlansOneAssignedTaskPerRecipeAndAnnouncesThemThroughTheOutbox() {
        submit(null, new Recipe.Gguf("Q8_0"), new Recipe.Gguf("Q4_K_M"));
        assertThat(job().state).isEqualTo(JobState.SUBMITTED);
        assertThat(task("-q0").state).isEqualTo(TaskState.ASSIGNED);
        assertThat(task("-q0").attempt).isEqualTo(1);
        assertThat(task("-q1").state).isEqualTo(TaskState.ASSIGNED);
        List<Message> assigned = outbox(Topics.TASKS_QUANTIZE);
        assertThat(assigned).hasSize(2).allSatisfy(m -> assertThat(m).isInstanceOf(Message.TaskAssigned.class));
        assertThat(((Message.TaskAssigned) assigned.getFirst()).recipe()).isEqualTo(new Recipe.Gguf("Q8_0"));
    }

    @Test
    void aRedeliveredSubmissionChangesNothing() {
        Message.JobSubmitted m = new Message.JobSubmitted(id(), jobId, "t-1", new JobSpec("feather-3m", List.of(new Recipe.Gguf("Q8_0")), null), Instant.now());
        machine.onCommand(m);
        machine.onCommand(m);
        assertThat(tasks.findByJobIdOrderBySeq(jobId)).hasSize(1);
        assertThat(outbox(Topics.TASKS_QUANTIZE)).hasSize(1);
    }

    @Test
    void anInvalidSpecFromAnotherProducerFailsTheJobWithoutTasks() {
        machine.onCommand(new Message.JobSubmitted(id(), jobId, "t-1", new JobSpec("feather-3m", List.of(), null), Instant.now()));
        assertThat(job().state).isEqualTo(JobState.FAILED);
        assertThat(job().error).startsWith("invalid job: recipes");
        assertThat(tasks.findByJobIdOrderBySeq(jobId)).isEmpty();
    }

    @Test
    void startedThenSucceededRunsTheJobToSucceeded() {
        submit(null, new Recipe.Gguf("Q8_0"));
        started(jobId + "-q0", 1);
        assertThat(task("-q0").state).isEqualTo(TaskState.RUNNING);
        assertThat(job().state).isEqualTo(JobState.RUNNING);
        machine.onTaskEvent(new Message.TaskSucceeded(id(), jobId + "-q0", jobId, 1, "a-1", 2.0, 0.5, Map.of("artifact_bytes", 10.0)));
        assertThat(task("-q0").state).isEqualTo(TaskState.SUCCEEDED);
        assertThat(task("-q0").outputArtifactId).isEqualTo("a-1");
        assertThat(job().state).isEqualTo(JobState.SUCCEEDED);
        assertThat(outbox(Topics.JOB_EVENTS)).last().satisfies(m -> assertThat(((Message.JobStateChanged) m).state()).isEqualTo(JobState.SUCCEEDED));
    }

    @Test
    void aSucceededQuantizationWithAnEvalSpecAssignsAnEvalTaskOnItsArtifact() {
        submit(new EvalSpec(null, new EvalSpec.Capacity(List.of("L4"), 2048, "fp16")), new Recipe.Gguf("Q8_0"));
        started(jobId + "-q0", 1);
        machine.onTaskEvent(new Message.TaskSucceeded(id(), jobId + "-q0", jobId, 1, "a-1", 2.0, 0.5, Map.of()));
        TaskEntity eval = task("-e0");
        assertThat(eval.state).isEqualTo(TaskState.ASSIGNED);
        assertThat(eval.inputArtifactId).isEqualTo("a-1");
        assertThat(job().state).isEqualTo(JobState.RUNNING);
        assertThat(outbox(Topics.TASKS_EVAL)).singleElement().satisfies(m -> assertThat(((Message.TaskAssigned) m).artifactId()).isEqualTo("a-1"));
    }

    @Test
    void aRetryableFailureHandsTheTaskOutAgainAndFencesTheOldAttempt() {
        submit(null, new Recipe.Gguf("Q8_0"));
        String task = jobId + "-q0";
        started(task, 1);
        machine.onTaskEvent(new Message.TaskFailed(id(), task, jobId, 1, "S3 down", true));
        assertThat(task("-q0").state).isEqualTo(TaskState.ASSIGNED);
        assertThat(task("-q0").attempt).isEqualTo(2);
        // the old attempt's worker was only slow: its success must not count
        machine.onTaskEvent(new Message.TaskSucceeded(id(), task, jobId, 1, "a-stale", 1.0, 0.1, Map.of()));
        assertThat(task("-q0").state).isEqualTo(TaskState.ASSIGNED);
        assertThat(task("-q0").outputArtifactId).isNull();
        // attempt 2 waits out the retry backoff (5 s by default): not offered before it is over, offered after
        assertThat(outbox(Topics.TASKS_QUANTIZE)).extracting(m -> ((Message.TaskAssigned) m).attempt()).containsExactly(1);
        assertThat(task("-q0").retryAt).isAfter(java.time.Instant.now());
        assertThat(machine.reoffer(task, java.time.Instant.now())).isFalse();
        db.sql("update tasks set retry_at = now() - interval '1 second' where id = ?").param(task).update();
        assertThat(machine.reoffer(task, java.time.Instant.now())).isTrue();
        assertThat(outbox(Topics.TASKS_QUANTIZE)).extracting(m -> ((Message.TaskAssigned) m).attempt()).containsExactly(1, 2);
    }

    @Test
    void aFailureOnTheLastAttemptFailsTheTaskAndTheJobWithTheReason() {
        submit(null, new Recipe.Gguf("Q8_0"));
        String task = jobId + "-q0";
        machine.onTaskEvent(new Message.TaskFailed(id(), task, jobId, 1, "disk full", true));
        machine.onTaskEvent(new Message.TaskFailed(id(), task, jobId, 2, "disk full again", true)); // max-attempts=2
        assertThat(task("-q0").state).isEqualTo(TaskState.FAILED);
        assertThat(job().state).isEqualTo(JobState.FAILED);
        assertThat(job().error).contains("after 2 attempt(s)").contains("disk full again");
    }

    /** A recommend job: the survivors of the gateway's pruning as recipes, a KLD eval, the question. */
    void submitRecommendation(Recipe... candidates) {
        var question = new dev.featherweight.contracts.RecommendSpec(List.of(new dev.featherweight.contracts.RecommendSpec.GpuCount("L4", 1)), 512,
                new dev.featherweight.contracts.RecommendSpec.Workload(4, null, null, null, null, null),
                new dev.featherweight.contracts.RecommendSpec.Quality(0.01, null, null), null, List.of());
        machine.onCommand(new Message.JobSubmitted(id(), jobId, "t-1", new JobSpec("feather-3m", List.of(candidates),
                new EvalSpec(null, null, new EvalSpec.Kld(null, 64, 2), null), question), Instant.now()));
    }

    @Test
    void aRecommendationSucceedsOnTheCandidatesMeasuredFailsWhenNoneWasAndAnswersAtOnceWhenAllWerePruned() {
        submitRecommendation(new Recipe.Gguf("Q8_0"), new Recipe.Gguf("Q4_K_M"));
        machine.onTaskEvent(new Message.TaskFailed(id(), jobId + "-q0", jobId, 1, "does not fit", false));
        started(jobId + "-q1", 1);
        machine.onTaskEvent(new Message.TaskSucceeded(id(), jobId + "-q1", jobId, 1, "a-1", 1.0, 0.1, Map.of("artifact_bytes", 10.0)));
        started(jobId + "-e1", 1);
        machine.onTaskEvent(new Message.TaskSucceeded(id(), jobId + "-e1", jobId, 1, "a-1", 1.0, 0.1, Map.of("kld_mean", 0.001)));
        assertThat(job().state).as("one candidate measured: the answer stands on it").isEqualTo(JobState.SUCCEEDED);

        jobId = "j-" + UUID.randomUUID();
        submitRecommendation(new Recipe.Gguf("Q8_0"), new Recipe.Gguf("Q4_K_M"));
        machine.onTaskEvent(new Message.TaskFailed(id(), jobId + "-q0", jobId, 1, "does not fit", false));
        started(jobId + "-q1", 1);
        machine.onTaskEvent(new Message.TaskSucceeded(id(), jobId + "-q1", jobId, 1, "a-2", 1.0, 0.1, Map.of()));
        machine.onTaskEvent(new Message.TaskFailed(id(), jobId + "-e1", jobId, 1, "evaluation text 'x' not found", false));
        assertThat(job().state).isEqualTo(JobState.FAILED);
        assertThat(job().error).startsWith("every candidate failed, so nothing could be recommended; ").contains("does not fit");

        jobId = "j-" + UUID.randomUUID();
        submitRecommendation();
        assertThat(job().state).as("every candidate pruned: nothing to run").isEqualTo(JobState.SUCCEEDED);
        assertThat(job().finishedAt).isNotNull();
        assertThat(tasks.findByJobIdOrderBySeq(jobId)).isEmpty();
    }

    @Test
    void aNonRetryableFailureFailsAtOnceButTheOtherRecipesOfTheSweepRunToTheirEnd() {
        submit(null, new Recipe.Gguf("Q8_0"), new Recipe.Gguf("Q4_K_M"));
        machine.onTaskEvent(new Message.TaskFailed(id(), jobId + "-q0", jobId, 1, "does not fit", false));
        assertThat(task("-q0").state).isEqualTo(TaskState.FAILED);
        assertThat(job().state).isEqualTo(JobState.SUBMITTED);
        started(jobId + "-q1", 1);
        machine.onTaskEvent(new Message.TaskSucceeded(id(), jobId + "-q1", jobId, 1, "a-2", 1.0, 0.1, Map.of()));
        assertThat(job().state).isEqualTo(JobState.FAILED);
        assertThat(job().error).contains("does not fit");
    }

    @Test
    void cancelClosesOpenTasksAndLaterEventsOfThemAreIgnored() {
        submit(null, new Recipe.Gguf("Q8_0"));
        started(jobId + "-q0", 1);
        machine.onCommand(new Message.JobCancelled(id(), jobId, "t-1", Instant.now()));
        assertThat(job().state).isEqualTo(JobState.CANCELLED);
        assertThat(task("-q0").state).isEqualTo(TaskState.CANCELLED);
        machine.onTaskEvent(new Message.TaskSucceeded(id(), jobId + "-q0", jobId, 1, "a-late", 1.0, 0.1, Map.of()));
        assertThat(task("-q0").state).isEqualTo(TaskState.CANCELLED);
        assertThat(job().state).isEqualTo(JobState.CANCELLED);
    }

    @Test
    void anotherTenantCannotCancelTheJob() {
        submit(null, new Recipe.Gguf("Q8_0"));
        machine.onCommand(new Message.JobCancelled(id(), jobId, "t-other", Instant.now()));
        assertThat(job().state).isEqualTo(JobState.SUBMITTED);
        assertThat(task("-q0").state).isEqualTo(TaskState.ASSIGNED);
    }

    @Test
    void anExpiredLeaseHandsTheTaskOutAgainButAStillValidOneDoesNot() {
        submit(null, new Recipe.Gguf("Q8_0"));
        String task = jobId + "-q0";
        started(task, 1);
        machine.leaseExpired(task, 1); // the lease runs for 30 s yet
        assertThat(task("-q0").attempt).isEqualTo(1);
        db.sql("update tasks set lease_until = now() - interval '1 second' where id = ?").param(task).update();
        machine.leaseExpired(task, 1);
        assertThat(task("-q0").state).isEqualTo(TaskState.ASSIGNED);
        assertThat(task("-q0").attempt).isEqualTo(2);
        assertThat(task("-q0").error).startsWith("lease expired");
    }
}
