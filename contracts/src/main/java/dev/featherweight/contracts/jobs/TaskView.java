package dev.featherweight.contracts.jobs;

import dev.featherweight.contracts.Message.TaskKind;

import java.time.Instant;
import java.util.Map;

/** One task of a job as the API shows it: progress per block, simulated GPU and wall seconds, ETA, result. */
public record TaskView(String id, TaskKind kind, String label, TaskState state, int attempt, int maxAttempts, String worker, String gpu,
                       Integer block, Integer blocks, String module, Double progress, Double wallSeconds, Double gpuSeconds,
                       Double etaSeconds, String inputArtifactId, String artifactId, Map<String, Double> metrics, String error,
                       Instant startedAt, Instant finishedAt) {}
