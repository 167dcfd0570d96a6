package dev.featherweight.contracts.registry;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/** A source model of a tenant: a Hugging Face folder, its files and metrics cached per evaluation (e.g. base perplexity). */
public record Model(String tenantId, String name, String source, ModelState state, Instant createdAt, List<FileInfo> files,
                    Map<String, Double> metrics) {}
