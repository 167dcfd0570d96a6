package dev.featherweight.contracts.registry;

/** PENDING while a worker uploads; COMPLETE once every promised file is stored with its sha256 (only then visible to tenants). */
public enum ArtifactState { PENDING, COMPLETE }
