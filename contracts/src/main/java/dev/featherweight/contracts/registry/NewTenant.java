package dev.featherweight.contracts.registry;

public record NewTenant(String name) {}
