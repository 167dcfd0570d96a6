package dev.featherweight.kernels.quant;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * What to do to a model: the method's typed parameters ({@link QuantizationParams}) plus per-module rules with
 * GPTQModel's {@code dynamic} semantics (gptqmodel/quantization/config.py {@code dynamic_get}): rules are tried in
 * order against the full module name ("model.layers.3.mlp.down_proj") with {@code re.match} (anchored at the start);
 * the first match wins; a skip rule ("-:regex") leaves the module unquantized, an override ("+:regex") changes
 * bits/group size.
 */
public record Recipe(QuantizationParams params, List<Rule> rules) {

    /** One per-module rule: skip, or override bits and/or group size (null = keep the recipe's). */
    public record Rule(String regex, boolean skip, Integer bits, Integer groupSize) {
        public Rule {
            Pattern.compile(regex);
        }

        public boolean matches(String module) {
            return Pattern.compile(regex).matcher(module).lookingAt();
        }

        /** The key GPTQModel writes in {@code dynamic}: "-:regex" for a skip, "+:regex" for an override. */
        public String dynamicKey() {
            return (skip ? "-:" : "+:") + regex;
        }

        /** Parses "REGEX=bits:B,group:G" (an --override value). */
        public static Rule parseOverride(String s) {
            int eq = s.lastIndexOf('=');
            if (eq <= 0) throw new IllegalArgumentException("override '" + s + "' is not REGEX=bits:B,group:G");
            Integer bits = null, group = null;
            for (String kv : s.substring(eq + 1).split(",")) {
                String[] p = kv.split(":", 2);
                if (p.length != 2) throw new IllegalArgumentException("override '" + s + "': '" + kv + "' is not key:value");
                switch (p[0].trim().toLowerCase(Locale.ROOT)) {
                    case "bits" -> bits = Integer.parseInt(p[1].trim());
                    case "group", "group_size" -> group = Integer.parseInt(p[1].trim());
                    default -> throw new IllegalArgumentException("override '" + s + "': unknown key '" + p[0] + "' (bits, group)");
                }
            }
            return new Rule(s.substring(0, eq), false, bits, group);
        }
    }

    /** The effective parameters of one module, or null when it is skipped. */
    public record ModuleParams(int bits, int groupSize) {
    }

    public Recipe {
        rules = List.copyOf(rules);
        for (Rule r : rules) {
            if (!r.skip() && !params.takesOverrides()) {
                throw new IllegalArgumentException("per-module bits/group overrides exist only in GPTQ checkpoints (dynamic); method "
                        + params.method() + " takes --skip only");
            }
            if (r.bits() != null) Rtn.checkBits(r.bits());
        }
    }

    public Recipe(QuantizationParams params) {
        this(params, List.of());
    }

    /** A recipe without rules from parameters by name ({@link QuantizationParams#of}). */
    public static Recipe of(String method, Map<String, ?> values) {
        return new Recipe(QuantizationParams.of(method, values));
    }

    public String method() {
        return params.method();
    }

    public Recipe withRules(List<Rule> r) {
        List<Rule> all = new ArrayList<>(rules);
        all.addAll(r);
        return new Recipe(params, all);
    }

    public ModuleParams paramsFor(String module) {
        for (Rule r : rules) {
            if (r.matches(module)) {
                if (r.skip()) return null;
                return new ModuleParams(r.bits() != null ? r.bits() : params.bits(), r.groupSize() != null ? r.groupSize() : params.groupSize());
            }
        }
        return new ModuleParams(params.bits(), params.groupSize());
    }

    /** A stable text of every parameter, for the resume fingerprint. */
    public String canonical() {
        StringBuilder sb = new StringBuilder(params.toString());
        for (Rule r : rules) sb.append("|rule:").append(r.dynamicKey()).append(':').append(r.bits()).append(':').append(r.groupSize());
        return sb.toString();
    }
}
