package dev.featherweight.contracts.jobs;

import dev.featherweight.contracts.JobSpec;

import java.time.Instant;
import java.util.List;

/** A job as the API shows it: its state, the spec it was submitted with, and its tasks. */
public record JobView(String id, String tenantId, String model, JobState state, String error, Instant submittedAt, Instant startedAt,
                      Instant finishedAt, Double progress, Double etaSeconds, double gpuSeconds, double wallSeconds, JobSpec spec,
                      List<TaskView> tasks) {}
