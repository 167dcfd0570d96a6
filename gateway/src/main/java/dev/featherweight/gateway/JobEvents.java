package dev.featherweight.gateway;

import dev.featherweight.contracts.Json;
import dev.featherweight.contracts.Message;
import dev.featherweight.contracts.jobs.JobView;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.MediaType;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.stereotype.Component;
import org.springframework.web.servlet.mvc.method.annotation.SseEmitter;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.function.Supplier;

/**
 * Fans job events out to SSE subscribers. Every gateway instance reads the whole topic (its own consumer
 * group, from the latest offset), since a browser may be connected to any of them. A subscriber first gets
 * a "snapshot" (the job as it is), taken after subscribing so that no event falls between; events that
 * arrive while the snapshot is being taken are held and sent after it.
 */
@Component
public class JobEvents {
    private static final Logger log = LoggerFactory.getLogger(JobEvents.class);
    private final Map<String, Set<Subscription>> byJob = new ConcurrentHashMap<>();

    private static final class Subscription {
        final SseEmitter emitter = new SseEmitter(30 * 60_000L);
        final List<Message.JobStateChanged> held = new ArrayList<>();
        boolean ready;
        boolean done;

        synchronized void deliver(Message.JobStateChanged e, String payload) throws IOException {
            if (done) return;
            if (!ready) {
                held.add(e);
                return;
            }
            emitter.send(SseEmitter.event().id(e.messageId()).name(e.taskId() == null ? "job" : "task").data(payload));
            if (e.taskId() == null && e.state().terminal()) {
                done = true;
                emitter.complete();
            }
        }

        synchronized void start(JobView snapshot) throws IOException {
            emitter.send(SseEmitter.event().name("snapshot").data(snapshot, MediaType.APPLICATION_JSON));
            if (snapshot.state().terminal()) {
                done = true;
                emitter.complete();
                return;
            }
            ready = true;
            for (Message.JobStateChanged e : held) deliver(e, Json.write(e));
            held.clear();
        }
    }

    SseEmitter subscribe(String tenant, String jobId, Supplier<JobView> snapshotAfterSubscribing) {
        Subscription s = new Subscription();
        Set<Subscription> set = byJob.computeIfAbsent(jobId, k -> new CopyOnWriteArraySet<>());
        set.add(s);
        Runnable remove = () -> set.remove(s);
        s.emitter.onCompletion(remove);
        s.emitter.onTimeout(remove);
        s.emitter.onError(e -> remove.run());
        try {
            s.start(snapshotAfterSubscribing.get());
        } catch (IOException e) {
            remove.run();
        }
        return s.emitter;
    }

    @KafkaListener(topics = dev.featherweight.contracts.Topics.JOB_EVENTS, groupId = "gateway-sse-${random.uuid}",
            properties = {"auto.offset.reset=latest", "key.deserializer=org.apache.kafka.common.serialization.StringDeserializer",
                    "value.deserializer=org.apache.kafka.common.serialization.StringDeserializer"})
    public void onEvent(String payload) {
        if (!(Json.read(payload) instanceof Message.JobStateChanged e)) return;
        Set<Subscription> set = byJob.get(e.jobId());
        if (set == null) return;
        for (Subscription s : set) {
            try {
                s.deliver(e, payload);
            } catch (IOException | IllegalStateException ex) {
                set.remove(s);
                log.debug("SSE subscriber gone: {}", ex.toString());
            }
        }
        if (e.taskId() == null && e.state().terminal()) byJob.remove(e.jobId());
    }
}
