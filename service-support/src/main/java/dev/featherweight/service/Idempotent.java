package dev.featherweight.service;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * On a method of an internal HTTP API: sending the request again has the same effect as sending it once,
 * so {@link InternalClients} retries it after a transient failure (connection refused or reset, timeout,
 * 502/503/504). Requests without it (creating a tenant, a model or a key) are sent once.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface Idempotent {}
