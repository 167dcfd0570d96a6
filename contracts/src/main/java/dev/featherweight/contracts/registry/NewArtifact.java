package dev.featherweight.contracts.registry;

/** What a worker registers before uploading; the registry keys artifacts by {@code taskId}, so registering twice is harmless. */
public record NewArtifact(String tenantId, String taskId, String jobId, String modelName, String method, int bits, String label,
                          String recipe, String kernelsVersion) {}
