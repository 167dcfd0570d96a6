package dev.featherweight.contracts.registry;

/** A presigned URL of one artifact file. */
public record DownloadUrl(String url) {}
