package dev.featherweight.contracts.registry;

public record Tenant(String id, String name) {}
