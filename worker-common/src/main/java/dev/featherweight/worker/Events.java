package dev.featherweight.worker;

import dev.featherweight.contracts.Json;
import dev.featherweight.contracts.Message;
import dev.featherweight.contracts.Topics;
import org.springframework.kafka.core.KafkaTemplate;

import java.util.concurrent.TimeUnit;

/** Sends task events (acks=all) and waits for the acknowledgement, so an event is never silently lost. */
public class Events {
    private final KafkaTemplate<String, String> kafka;

    public Events(KafkaTemplate<String, String> kafka) {
        this.kafka = kafka;
    }

    public void send(Message.TaskEvent event) {
        try {
            kafka.send(Topics.TASK_EVENTS, event.key(), Json.write(event)).get(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while sending " + event.getClass().getSimpleName(), e);
        } catch (Exception e) {
            throw new IllegalStateException("Kafka did not acknowledge " + event.getClass().getSimpleName() + " of " + event.taskId(), e);
        }
    }
}
