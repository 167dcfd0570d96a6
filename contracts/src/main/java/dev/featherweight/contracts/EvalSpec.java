package dev.featherweight.contracts;

import java.util.List;

/**
 * What to measure on each artifact of a job: perplexity (of the source model and of the artifact, on a
 * named evaluation text, llama.cpp-style: ctx tokens per chunk, first half of each chunk not scored) and
 * the capacity table (KV cache and concurrent sequences) for some GPUs of the catalog. Either may be null.
 */
public record EvalSpec(Perplexity perplexity, Capacity capacity, Kld kld, MultipleChoice multipleChoice) {

    public EvalSpec(Perplexity perplexity, Capacity capacity) {
        this(perplexity, capacity, null, null);
    }

    /**
     * KL divergence of each artifact against the job's source model ({@code "kld": true} or an object); a null text,
     * ctx or chunks takes the perplexity spec's (without one: text demo-stories, ctx 256, all chunks).
     */
    public record Kld(String text, Integer ctx, Integer chunks) {
        @com.fasterxml.jackson.annotation.JsonCreator(mode = com.fasterxml.jackson.annotation.JsonCreator.Mode.PROPERTIES)
        public Kld {
        }

        /** {@code "kld": true}: every setting from the perplexity spec. */
        @com.fasterxml.jackson.annotation.JsonCreator(mode = com.fasterxml.jackson.annotation.JsonCreator.Mode.DELEGATING)
        public static Kld of(boolean on) {
            return on ? new Kld(null, null, null) : null;
        }

        public String textOr(Perplexity p) {
            return text != null ? text : p != null ? p.text() : "demo-stories";
        }

        public int ctxOr(Perplexity p) {
            return ctx != null ? ctx : p != null ? p.ctx() : 256;
        }

        public int chunksOr(Perplexity p) {
            return chunks != null ? chunks : p != null ? p.chunks() : 0;
        }
    }

    /** Multiple-choice accuracy on a HellaSwag-format task file (an evaluation text id; the bundled one: demo-stories.hellaswag). */
    public record MultipleChoice(String tasks, int limit) {}

    public record Perplexity(String text, int ctx, int chunks) {}

    public record Capacity(List<String> gpus, int ctx, String kvDtype) {}

    /** KV-cache element types, as the catalogue's capacity math names them. */
    public static final List<String> KV_DTYPES = dev.featherweight.catalog.Catalog.kvDtypes();

    public void validate(String path, List<String> errors) {
        if (perplexity != null) {
            Checks.id(errors, path + ".perplexity.text", perplexity.text());
            Checks.range(errors, path + ".perplexity.ctx", perplexity.ctx(), 8, 1 << 17);
            Checks.range(errors, path + ".perplexity.chunks", perplexity.chunks(), 0, 100_000);
        }
        if (kld != null) {
            if (kld.text() != null) Checks.id(errors, path + ".kld.text", kld.text());
            if (kld.ctx() != null) Checks.range(errors, path + ".kld.ctx", kld.ctx(), 8, 1 << 17);
            if (kld.chunks() != null) Checks.range(errors, path + ".kld.chunks", kld.chunks(), 0, 100_000);
        }
        if (multipleChoice != null) {
            Checks.id(errors, path + ".multipleChoice.tasks", multipleChoice.tasks());
            Checks.range(errors, path + ".multipleChoice.limit", multipleChoice.limit(), 0, 100_000);
        }
        if (capacity != null) {
            if (capacity.gpus() == null || capacity.gpus().isEmpty() || capacity.gpus().size() > 64)
                errors.add(path + ".capacity.gpus: 1 to 64 GPU names from the catalog");
            else for (int i = 0; i < capacity.gpus().size(); i++) Checks.id(errors, path + ".capacity.gpus[" + i + "]", capacity.gpus().get(i));
            Checks.range(errors, path + ".capacity.ctx", capacity.ctx(), 1, 1 << 21);
            if (!KV_DTYPES.contains(capacity.kvDtype()))
                errors.add(path + ".capacity.kvDtype: '" + capacity.kvDtype() + "' is not allowed; one of " + KV_DTYPES);
        }
    }
}
