package dev.featherweight.contracts.jobs;

/** For workers: the task's current attempt and whether it is still open (the worker-side half of fencing). */
public record TaskStatus(String id, TaskState state, int attempt, boolean open) {}
