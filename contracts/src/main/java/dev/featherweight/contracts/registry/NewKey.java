package dev.featherweight.contracts.registry;

/** An API key as the registry stores it: only its sha256. */
public record NewKey(String keyHash, boolean admin) {}
