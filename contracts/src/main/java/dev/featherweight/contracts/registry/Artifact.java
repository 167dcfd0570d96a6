package dev.featherweight.contracts.registry;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/** A quantized model made by one task: its files, its evaluation metrics and its lineage. */
public record Artifact(String id, String tenantId, String modelName, String method, int bits, String label, ArtifactState state,
                       Instant createdAt, Instant completedAt, long totalBytes, List<FileInfo> files, Map<String, Double> metrics,
                       Lineage lineage) {}
