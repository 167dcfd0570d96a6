package dev.featherweight.kernels.formats;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.regex.Pattern;

/**
 * Multiple-choice tasks in llama-perplexity's HellaSwag text format: 6 lines per task — the context, the gold ending's
 * index (0–3), the four endings. {@link #generate} builds such tasks from any text (no data set can be downloaded here).
 */
public final class HellaSwagTasks {
    private static final Pattern SENTENCE_END = Pattern.compile("(?<=[.!?][\"'”’)]?)\\s+");
    private static final Pattern BLANK_LINES = Pattern.compile("\\n\\s*\\n");
    static final int MIN_WORDS_NEXT = 8, MAX_WORDS_NEXT = 24, MAX_WORDS_FIRST = 30;

    private HellaSwagTasks() {
    }

    public record Task(String context, int gold, List<String> endings) {
        public Task {
            if (endings.size() != 4) throw new IllegalArgumentException("a task has 4 endings, got " + endings.size());
            if (gold < 0 || gold > 3) throw new IllegalArgumentException("gold index must be 0..3, got " + gold);
        }
    }

    /** Parses the format (lines split on \n as llama-perplexity's getline; a number of lines not a multiple of 6 is refused). */
    public static List<Task> parse(String text) {
        List<String> lines = new ArrayList<>(List.of(text.split("\n", -1)));
        if (!lines.isEmpty() && lines.getLast().isEmpty()) lines.removeLast(); // getline yields no line after the last \n
        if (lines.size() % 6 != 0) throw new IllegalArgumentException("task file: " + lines.size() + " lines is not a multiple of 6");
        List<Task> tasks = new ArrayList<>();
        for (int i = 0; i < lines.size(); i += 6) {
            int gold;
            try {
                gold = Integer.parseInt(lines.get(i + 1).trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("task " + (i / 6 + 1) + ": gold index '" + lines.get(i + 1) + "' is not a number");
            }
            tasks.add(new Task(lines.get(i), gold, List.copyOf(lines.subList(i + 2, i + 6))));
        }
        return tasks;
    }

    public static String format(List<Task> tasks) {
        StringBuilder sb = new StringBuilder();
        for (Task t : tasks) {
            sb.append(t.context()).append('\n').append(t.gold()).append('\n');
            for (String e : t.endings()) sb.append(e).append('\n');
        }
        return sb.toString();
    }

    /** A sentence and where it came from; its words split into the half that ends a context and the rest (the ending). */
    private record Pair(int story, int sentence, String first, String head, String rest, int restWords) {
    }

    /**
     * Up to n tasks from a text: stories are blocks separated by blank lines (each line is a story when there are
     * none), sentences end at . ! ? (a closing quote kept). Context = a sentence (≤ 30 words) + the first half (by words,
     * rounded down) of the next sentence of the same story (8–24 words); the true ending = that sentence's second half;
     * three distractors = second halves of sentences of other stories with the same word count (widened by ±1, ±2, …
     * only when fewer than 3 exist), the endings shuffled. Deterministic for a seed; tasks in text order.
     */
    public static List<Task> generate(String text, int n, long seed) {
        String norm = text.replace("\r\n", "\n");
        List<String> stories = new ArrayList<>();
        for (String block : BLANK_LINES.split(norm)) if (!block.isBlank()) stories.add(block.replace('\n', ' ').strip());
        if (stories.size() < 2) {
            stories.clear();
            for (String line : norm.split("\n")) if (!line.isBlank()) stories.add(line.strip());
        }
        List<Pair> pairs = new ArrayList<>();
        for (int s = 0; s < stories.size(); s++) {
            String[] sentences = SENTENCE_END.split(stories.get(s));
            for (int i = 0; i + 1 < sentences.length; i++) {
                String[] a = words(sentences[i]), b = words(sentences[i + 1]);
                if (a.length == 0 || a.length > MAX_WORDS_FIRST || b.length < MIN_WORDS_NEXT || b.length > MAX_WORDS_NEXT) continue;
                int half = b.length / 2;
                pairs.add(new Pair(s, i + 1, String.join(" ", a), String.join(" ", List.of(b).subList(0, half)),
                        String.join(" ", List.of(b).subList(half, b.length)), b.length - half));
            }
        }
        Random rng = new Random(seed);
        List<Pair> chosen = new ArrayList<>(pairs);
        Collections.shuffle(chosen, rng);
        chosen = new ArrayList<>(chosen.subList(0, Math.min(n, chosen.size())));
        chosen.sort(Comparator.comparingInt(Pair::story).thenComparingInt(Pair::sentence));
        List<Task> tasks = new ArrayList<>();
        for (Pair p : chosen) {
            List<String> pool = new ArrayList<>();
            for (int widen = 0; pool.size() < 3 && widen <= MAX_WORDS_NEXT; widen++) {
                pool.clear();
                for (Pair o : pairs) {
                    if (o.story() != p.story() && Math.abs(o.restWords() - p.restWords()) <= widen && !o.rest().equals(p.rest())
                            && !pool.contains(o.rest())) pool.add(o.rest());
                }
            }
            if (pool.size() < 3) continue; // a text of one story has no distractors
            Collections.shuffle(pool, rng);
            int gold = rng.nextInt(4);
            List<String> endings = new ArrayList<>(pool.subList(0, 3));
            endings.add(gold, p.rest());
            tasks.add(new Task(p.first() + " " + p.head(), gold, endings));
        }
        return tasks;
    }

    private static String[] words(String s) {
        String t = s.strip();
        return t.isEmpty() ? new String[0] : t.split("\\s+");
    }
}
