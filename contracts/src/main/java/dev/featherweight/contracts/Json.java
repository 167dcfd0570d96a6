package dev.featherweight.contracts;

import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * The one JSON codec for messages: adds {@code "schema": SCHEMA_VERSION} on write and refuses a message
 * written by a newer schema on read (an older reader must not silently drop fields it does not know).
 */
public final class Json {
    public static final int SCHEMA_VERSION = 1;

    public static final JsonMapper MAPPER = JsonMapper.builder()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .disable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES) // an omitted flag is false, an omitted number 0 (then named by validation)
            .build();

    public static String write(Message message) {
        ObjectNode node = MAPPER.valueToTree(message);
        node.put("schema", SCHEMA_VERSION);
        return MAPPER.writeValueAsString(node);
    }

    public static Message read(String json) {
        JsonNode node = MAPPER.readTree(json);
        int schema = node.path("schema").asInt(1);
        if (schema > SCHEMA_VERSION)
            throw new IllegalArgumentException("message schema " + schema + " is newer than this service's " + SCHEMA_VERSION + ": " + abbreviate(json));
        return MAPPER.treeToValue(node, Message.class);
    }

    public static Message read(byte[] json) {
        return read(new String(json, java.nio.charset.StandardCharsets.UTF_8));
    }

    private static String abbreviate(String s) {
        return s.length() > 200 ? s.substring(0, 200) + "…" : s;
    }

    private Json() {}
}
