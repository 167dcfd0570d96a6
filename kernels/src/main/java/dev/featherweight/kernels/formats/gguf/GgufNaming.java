package dev.featherweight.kernels.formats.gguf;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The general.name / basename / size_label convert_hf_to_gguf.py derives from a model's folder name
 * (gguf-py metadata.py: {@code id_to_title}, {@code get_model_id_components}) and the size label it
 * computes from the parameter count when the name has none ({@code model_weight_count_rounded_notation}).
 * The common cases: "feather-3m" → name "Feather 3m", basename "feather", size "3M"; "hf" → name "Hf".
 */
public record GgufNaming(String name, String basename, String finetune, String version, String sizeLabel) {
    private static final Pattern VERSION = Pattern.compile("(v|iter)?\\d+([.]\\d+)*", Pattern.CASE_INSENSITIVE);
    private static final Pattern TYPE = Pattern.compile("i?q\\d(_\\w)*|b?fp?(16|32)", Pattern.CASE_INSENSITIVE);
    private static final Pattern SIZE = Pattern.compile("(([A]|\\d+[x])?\\d+([._]\\d+)?[KMBT][\\d]?|small|mini|medium|large|x?xl)", Pattern.CASE_INSENSITIVE);
    private static final Pattern FINETUNE = Pattern.compile("chat|instruct|vision|lora", Pattern.CASE_INSENSITIVE);
    private static final Pattern TITLE_SKIP = Pattern.compile("^(v\\d+(?:\\.\\d+)*|\\d.*)$");

    /** Title-cases lower-case words that are not versions or numbers, '-' becoming ' '. */
    static String idToTitle(String s) {
        List<String> out = new ArrayList<>();
        for (String w : s.strip().replace('-', ' ').split("\\s+")) {
            if (w.isEmpty()) continue;
            boolean lower = w.equals(w.toLowerCase(Locale.ROOT)) && !w.equals(w.toUpperCase(Locale.ROOT));
            out.add(lower && !TITLE_SKIP.matcher(w).matches() ? Character.toUpperCase(w.charAt(0)) + w.substring(1) : w);
        }
        return String.join(" ", out);
    }

    public static GgufNaming fromModelId(String modelId, long totalParams) {
        String full = modelId.contains("/") ? modelId.substring(modelId.indexOf('/') + 1) : modelId;
        List<String> parts = new ArrayList<>();
        for (String p : full.split("-")) if (!p.isEmpty()) parts.add(p);
        List<Set<String>> types = new ArrayList<>();
        for (int i = 0; i < parts.size(); i++) types.add(new HashSet<>());
        for (int i = 0; i < parts.size(); i++) {
            String part = parts.get(i);
            if (VERSION.matcher(part).matches()) {
                types.get(i).add("version");
            } else if (TYPE.matcher(part).matches()) {
                types.get(i).add("type");
                parts.set(i, part.toUpperCase(Locale.ROOT));
            } else if (i > 0 && SIZE.matcher(part).matches()) {
                part = normalizeSizeLabel(part);
                if (totalParams != 0) {
                    try {
                        double label = sizeLabelParams(part);
                        if (totalParams > 0 && Math.abs(label - totalParams) > 7 * totalParams / 8) {
                            types.get(i).add("finetune"); // likely a context length
                            part = part.substring(0, part.length() - 1) + part.substring(part.length() - 1).toLowerCase(Locale.ROOT);
                        }
                    } catch (NumberFormatException ignored) {
                        // a word size label: keep it
                    }
                }
                if (types.get(i).isEmpty()) types.get(i).add("size_label");
                parts.set(i, part);
            } else if (i > 0 && FINETUNE.matcher(part).matches()) {
                types.get(i).add("finetune");
            }
        }
        boolean numericSize = false;
        for (int i = 0; i < parts.size(); i++) {
            if (types.get(i).contains("size_label") && parts.get(i).chars().anyMatch(Character::isDigit)) numericSize = true;
        }
        if (numericSize) {
            for (int i = 0; i < parts.size(); i++) {
                if (types.get(i).contains("size_label") && parts.get(i).chars().allMatch(Character::isLetter)) types.get(i).remove("size_label");
            }
        }
        boolean atStart = true;
        for (int i = 0; i < parts.size(); i++) {
            Set<String> t = types.get(i);
            if (atStart && ((t.isEmpty() && Character.isLetter(parts.get(i).charAt(0))) || t.contains("version"))) {
                t.add("basename");
            } else {
                atStart = false;
                if (t.isEmpty()) t.add("finetune");
            }
        }
        for (int i = parts.size() - 1; i >= 0; i--) {
            Set<String> t = types.get(i);
            if (t.contains("basename") && t.size() > 1) t.remove("basename");
            else break;
        }
        String basename = join(parts, types, "basename");
        LinkedHashSet<String> sizes = new LinkedHashSet<>();
        for (int i = 0; i < parts.size(); i++) if (types.get(i).contains("size_label")) sizes.add(parts.get(i));
        String size = sizes.isEmpty() ? null : String.join("-", sizes);
        String finetune = join(parts, types, "finetune");
        List<String> versions = new ArrayList<>();
        for (int i = 0; i < parts.size(); i++) {
            if (types.get(i).contains("version") && !types.get(i).contains("basename")) versions.add(parts.get(i));
        }
        String version = versions.isEmpty() ? null : String.join("-", versions);
        if (size == null && finetune == null && version == null) basename = null; // too ambiguous
        if (size == null && totalParams > 0) size = roundedNotation(totalParams);
        return new GgufNaming(idToTitle(full), basename, finetune, version, size);
    }

    private static String join(List<String> parts, List<Set<String>> types, String kind) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < parts.size(); i++) if (types.get(i).contains(kind)) out.add(parts.get(i));
        return out.isEmpty() ? null : String.join("-", out);
    }

    private static String normalizeSizeLabel(String label) {
        label = label.replace('_', '.');
        if (Character.isDigit(label.charAt(label.length() - 1)) && label.length() >= 2) {
            label = label.substring(0, label.length() - 2) + "." + label.charAt(label.length() - 1) + label.charAt(label.length() - 2);
        }
        if (label.length() > 1 && Character.isDigit(label.charAt(label.length() - 2)) && "kmbt".indexOf(label.charAt(label.length() - 1)) >= 0) {
            label = label.substring(0, label.length() - 1) + Character.toUpperCase(label.charAt(label.length() - 1));
        }
        return label;
    }

    private static double sizeLabelParams(String label) {
        int scale = " KMBT".indexOf(label.charAt(label.length() - 1));
        if (scale < 0) throw new NumberFormatException(label);
        return Double.parseDouble(label.substring(0, label.length() - 1)) * Math.pow(1000, scale);
    }

    /** gguf-py's {@code model_weight_count_rounded_notation(n, min_digits=2)}: 6,556,928 → "6.6M". */
    public static String roundedNotation(long n) {
        double scaled;
        String suffix;
        if (n > 1e12) {
            scaled = n * 1e-12;
            suffix = "T";
        } else if (n > 1e9) {
            scaled = n * 1e-9;
            suffix = "B";
        } else if (n > 1e6) {
            scaled = n * 1e-6;
            suffix = "M";
        } else {
            scaled = n * 1e-3;
            suffix = "K";
        }
        String rounded = String.valueOf(Math.round(scaled)).replaceFirst("^0+", "");
        int fix = Math.max(2 - rounded.length(), 0);
        return String.format(Locale.ROOT, "%." + fix + "f%s", scaled, suffix);
    }
}
