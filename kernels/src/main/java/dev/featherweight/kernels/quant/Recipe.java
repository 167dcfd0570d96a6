package dev.featherweight.kernels.quant;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * What to do to a model: the method and its parameters, plus per-module rules with GPTQModel's {@code dynamic}
 * semantics (gptqmodel/quantization/config.py {@code dynamic_get}): rules are tried in order against the full
 * module name ("model.layers.3.mlp.down_proj") with {@code re.match} (anchored at the start); the first match
 * wins; a skip rule ("-:regex") leaves the module unquantized, an override ("+:regex") changes bits/group size.
 */
public record Recipe(Method method, int bits, int groupSize, boolean sym, boolean actOrder, boolean staticGroups,
                     double dampPercent, boolean trueSequential, boolean doubleQuant, boolean gptqV2, boolean duoScaling,
                     List<Rule> rules) {

    public enum Method {
        RTN("rtn"), GPTQ("gptq"), AWQ("awq"), NF4("nf4"), FP4("fp4"), LLM_INT8("llm-int8");

        public final String cli;

        Method(String cli) {
            this.cli = cli;
        }

        public static Method parse(String s) {
            for (Method m : values()) if (m.cli.equalsIgnoreCase(s) || m.name().equalsIgnoreCase(s)) return m;
            throw new IllegalArgumentException("unknown method '" + s + "' (rtn, gptq, awq, nf4, fp4, llm-int8)");
        }

        /** Whether the method runs calibration data through the model. */
        public boolean calibrated() {
            return this == GPTQ || this == AWQ;
        }

        /** Whether the method uses a uniform integer grid (GPTQ/AWQ checkpoints). */
        public boolean uniform() {
            return this == RTN || this == GPTQ || this == AWQ;
        }
    }

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
        if (method.uniform() || method == Method.NF4 || method == Method.FP4 || method == Method.LLM_INT8) {
            if (method.uniform()) Rtn.checkBits(bits);
        }
        if (method == Method.AWQ && bits != 4) throw new IllegalArgumentException("AWQ gemm checkpoints are 4-bit; got --bits " + bits);
        for (Rule r : rules) {
            if (!r.skip() && !(method == Method.GPTQ || method == Method.RTN)) {
                throw new IllegalArgumentException("per-module bits/group overrides exist only in GPTQ checkpoints (dynamic); method " + method.cli + " takes --skip only");
            }
            if (r.bits() != null) Rtn.checkBits(r.bits());
        }
    }

    public static Recipe of(Method m, int bits, int groupSize) {
        return new Recipe(m, bits, groupSize, m != Method.AWQ, false, false, 0.01, true, false, false, true, List.of());
    }

    public Recipe withRules(List<Rule> r) {
        List<Rule> all = new ArrayList<>(rules);
        all.addAll(r);
        return new Recipe(method, bits, groupSize, sym, actOrder, staticGroups, dampPercent, trueSequential, doubleQuant, gptqV2, duoScaling, all);
    }

    public ModuleParams paramsFor(String module) {
        for (Rule r : rules) {
            if (r.matches(module)) {
                if (r.skip()) return null;
                return new ModuleParams(r.bits() != null ? r.bits() : bits, r.groupSize() != null ? r.groupSize() : groupSize);
            }
        }
        return new ModuleParams(bits, groupSize);
    }

    /** A stable text of every parameter, for the resume fingerprint. */
    public String canonical() {
        StringBuilder sb = new StringBuilder();
        sb.append(method).append('|').append(bits).append('|').append(groupSize).append('|').append(sym).append('|').append(actOrder)
                .append('|').append(staticGroups).append('|').append(dampPercent).append('|').append(trueSequential).append('|')
                .append(doubleQuant).append('|').append(gptqV2).append('|').append(duoScaling);
        for (Rule r : rules) sb.append("|rule:").append(r.dynamicKey()).append(':').append(r.bits()).append(':').append(r.groupSize());
        return sb.toString();
    }
}
