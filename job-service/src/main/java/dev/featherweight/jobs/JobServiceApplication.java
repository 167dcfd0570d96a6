package dev.featherweight.jobs;

import dev.featherweight.contracts.Json;
import dev.featherweight.contracts.Message;
import dev.featherweight.contracts.jobs.JobState;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import dev.featherweight.service.KafkaProducerConfiguration;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import dev.featherweight.servicesecurity.InternalServiceSecurity;
import org.springframework.boot.SpringApplication;
import org.springframework.context.annotation.Import;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;
import org.springframework.scheduling.annotation.EnableScheduling;

import java.util.List;
import java.util.function.Consumer;

/**
 * job-service: two Kafka consumers (functional beans bound by Spring Cloud Stream), the outbox publisher,
 * the lease sweeper, and a small internal REST API for the gateway and workers.
 */
@SpringBootApplication
@Import({InternalServiceSecurity.class, KafkaProducerConfiguration.class})
@EnableScheduling
@EnableConfigurationProperties(JobsProperties.class)
public class JobServiceApplication {

    public static void main(String[] args) {
        new org.springframework.boot.builder.SpringApplicationBuilder(JobServiceApplication.class)
                .properties("spring.config.name=job-service").run(args);
    }

    /** fw.jobs.commands: JobSubmitted, JobCancelled. */
    @Bean
    public Consumer<byte[]> jobCommands(JobStateMachine machine) {
        return payload -> machine.onCommand(Json.read(payload));
    }

    /** fw.tasks.events: started, progress, heartbeat, succeeded, failed. */
    @Bean
    public Consumer<byte[]> taskEvents(JobStateMachine machine) {
        return payload -> {
            if (Json.read(payload) instanceof Message.TaskEvent e) machine.onTaskEvent(e);
        };
    }

    @Bean
    public List<Gauge> jobGauges(MeterRegistry meters, JobRepository jobs, OutboxPublisher outbox) {
        return java.util.Arrays.stream(JobState.values())
                .map(s -> Gauge.builder("featherweight.jobs", jobs, r -> r.countByState(s)).tag("state", s.name()).register(meters))
                .collect(java.util.stream.Collectors.collectingAndThen(java.util.stream.Collectors.toList(), l -> {
                    l.add(Gauge.builder("featherweight.outbox.unpublished", outbox, OutboxPublisher::unpublished).register(meters));
                    return l;
                }));
    }
}
