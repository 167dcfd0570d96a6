package dev.featherweight.gateway;

import dev.featherweight.contracts.Json;
import dev.featherweight.contracts.Message;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.stereotype.Component;
import org.springframework.web.servlet.mvc.method.annotation.SseEmitter;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArraySet;

/**
 * Fans job events out to SSE subscribers. Every gateway instance reads the whole topic (its own consumer
 * group, from the latest offset), since a browser may be connected to any of them.
 */
@Component
public class JobEvents {
    private static final Logger log = LoggerFactory.getLogger(JobEvents.class);
    private final Map<String, Set<SseEmitter>> byJob = new ConcurrentHashMap<>();

    /** Subscribes, then sends the job as it is now ("snapshot"); a finished job's stream ends there. */
    SseEmitter subscribe(String tenant, String jobId, java.util.function.Supplier<Object> snapshotAfterSubscribing) {
        SseEmitter emitter = new SseEmitter(30 * 60_000L);
        Set<SseEmitter> set = byJob.computeIfAbsent(jobId, k -> new CopyOnWriteArraySet<>());
        set.add(emitter);
        Runnable remove = () -> set.remove(emitter);
        emitter.onCompletion(remove);
        emitter.onTimeout(remove);
        emitter.onError(e -> remove.run());
        try {
            Object snapshot = snapshotAfterSubscribing.get();
            emitter.send(SseEmitter.event().name("snapshot").data(snapshot, org.springframework.http.MediaType.APPLICATION_JSON));
            if (snapshot instanceof Map<?, ?> m && List.of("SUCCEEDED", "FAILED", "CANCELLED").contains(String.valueOf(m.get("state")))) {
                emitter.complete();
                remove.run();
            }
        } catch (IOException e) {
            remove.run();
        }
        return emitter;
    }

    @KafkaListener(topics = dev.featherweight.contracts.Topics.JOB_EVENTS, groupId = "gateway-sse-${random.uuid}",
            properties = {"auto.offset.reset=latest", "key.deserializer=org.apache.kafka.common.serialization.StringDeserializer",
                    "value.deserializer=org.apache.kafka.common.serialization.StringDeserializer"})
    public void onEvent(String payload) {
        if (!(Json.read(payload) instanceof Message.JobStateChanged e)) return;
        Set<SseEmitter> set = byJob.get(e.jobId());
        if (set == null) return;
        boolean terminal = e.taskId() == null && (e.state().equals("SUCCEEDED") || e.state().equals("FAILED") || e.state().equals("CANCELLED"));
        for (SseEmitter emitter : set) {
            try {
                emitter.send(SseEmitter.event().id(e.messageId()).name(e.taskId() == null ? "job" : "task").data(payload));
                if (terminal) emitter.complete();
            } catch (IOException | IllegalStateException ex) {
                set.remove(emitter);
                log.debug("SSE subscriber gone: {}", ex.toString());
            }
        }
        if (terminal) byJob.remove(e.jobId());
    }
}
