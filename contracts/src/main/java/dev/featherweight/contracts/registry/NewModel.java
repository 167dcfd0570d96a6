package dev.featherweight.contracts.registry;

/** Registers a model before its files arrive; {@code source} says where it came from ("upload", "hf://…", "s3://…"). */
public record NewModel(String name, String source) {}
