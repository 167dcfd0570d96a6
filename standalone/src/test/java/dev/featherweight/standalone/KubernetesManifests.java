package dev.featherweight.standalone;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * A strict check of a rendered manifest against the Kubernetes API model (fabric8's generated classes): the kind
 * and apiVersion must be known, every value must have its field's type (no coercion of "8080" to a number), and no
 * field may be unknown — fabric8 keeps unknown fields in {@code additionalProperties} instead of refusing them,
 * so every object of the read manifest is walked and any such leftover is a problem.
 */
final class KubernetesManifests {
    private static final Map<String, Class<? extends HasMetadata>> KINDS = Map.of(
            "Deployment", Deployment.class, "Service", Service.class, "Secret", Secret.class, "NetworkPolicy", NetworkPolicy.class,
            "HorizontalPodAutoscaler", HorizontalPodAutoscaler.class, "PodDisruptionBudget", PodDisruptionBudget.class);
    private static final ObjectMapper STRICT = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
            .build();

    /** What is wrong with the manifest (empty when it is a valid object of its kind). */
    static List<String> problems(Map<String, Object> manifest) {
        List<String> problems = new ArrayList<>();
        Class<? extends HasMetadata> type = KINDS.get(String.valueOf(manifest.get("kind")));
        if (type == null) return List.of("kind " + manifest.get("kind") + " is not one this chart is expected to render");
        if (!HasMetadata.getApiVersion(type).equals(manifest.get("apiVersion")))
            problems.add("apiVersion " + manifest.get("apiVersion") + " is not " + HasMetadata.getApiVersion(type));
        HasMetadata resource;
        try {
            resource = STRICT.convertValue(manifest, type);
        } catch (IllegalArgumentException e) {
            problems.add(e.getMessage());
            return problems;
        }
        unknownFields(resource, "$", problems);
        if (resource.getMetadata() == null || resource.getMetadata().getName() == null) problems.add("metadata.name missing");
        return problems;
    }

    private static void unknownFields(Object node, String path, List<String> problems) {
        if (node == null) return;
        if (node instanceof Collection<?> c) {
            int i = 0;
            for (Object o : c) unknownFields(o, path + "[" + i++ + "]", problems);
            return;
        }
        if (node instanceof Map<?, ?> m) {
            m.forEach((k, v) -> unknownFields(v, path + "." + k, problems));
            return;
        }
        if (!node.getClass().getName().startsWith("io.fabric8.")) return;
        for (Method getter : node.getClass().getMethods()) {
            if (getter.getParameterCount() != 0 || Modifier.isStatic(getter.getModifiers()) || getter.getDeclaringClass() == Object.class) continue;
            String name = getter.getName();
            if (!name.startsWith("get") || name.equals("getClass")) continue;
            Object value;
            try {
                value = getter.invoke(node);
            } catch (ReflectiveOperationException | RuntimeException e) {
                continue;
            }
            if (name.equals("getAdditionalProperties")) {
                if (value instanceof Map<?, ?> extra && !extra.isEmpty()) problems.add(path + ": unknown field(s) " + extra.keySet());
            } else {
                unknownFields(value, path + "." + Character.toLowerCase(name.charAt(3)) + name.substring(4), problems);
            }
        }
    }

    private KubernetesManifests() {}
}
