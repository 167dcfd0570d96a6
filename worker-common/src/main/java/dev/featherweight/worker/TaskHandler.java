package dev.featherweight.worker;

import dev.featherweight.contracts.Message;

import java.util.Map;

/** What a worker does with one task; the {@link TaskRuntime} does everything around it. */
public interface TaskHandler {

    /** The artifact made or evaluated, metrics, and the simulated GPU seconds spent. */
    record Outcome(String artifactId, Map<String, Double> metrics, double gpuSeconds) {}

    Outcome run(Message.TaskAssigned task, TaskContext context) throws Exception;
}
