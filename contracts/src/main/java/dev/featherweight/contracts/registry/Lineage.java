package dev.featherweight.contracts.registry;

/** Where an artifact came from: its source model, the job and task that made it, the recipe (JSON) and the kernels' version. */
public record Lineage(String modelName, String jobId, String taskId, String recipe, String kernelsVersion) {}
