package dev.featherweight.contracts.registry;

/** One stored file of a model or an artifact: its path inside the folder, its size and its sha256 (hex). */
public record FileInfo(String path, long size, String sha256) {}
