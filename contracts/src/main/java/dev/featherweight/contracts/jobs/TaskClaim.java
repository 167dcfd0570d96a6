package dev.featherweight.contracts.jobs;

/** A worker asks the job-service to run this attempt of a task (the start-side half of fencing). */
public record TaskClaim(int attempt, String worker, String gpu) {}
