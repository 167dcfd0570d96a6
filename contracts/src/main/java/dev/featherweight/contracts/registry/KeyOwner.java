package dev.featherweight.contracts.registry;

/** Whose key a key hash is. */
public record KeyOwner(String tenantId, boolean admin) {}
