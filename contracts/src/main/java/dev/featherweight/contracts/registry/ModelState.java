package dev.featherweight.contracts.registry;

/** A model is UPLOADING while its files arrive and READY once it holds a config.json (only READY models take jobs). */
public enum ModelState { UPLOADING, READY }
