package dev.featherweight.gateway;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.featherweight.catalog.Catalog;
import dev.featherweight.catalog.Problem;
import dev.featherweight.catalog.capacity.CapacityException;
import dev.featherweight.catalog.capacity.ModelShape;
import dev.featherweight.catalog.recommend.Recommendation;
import dev.featherweight.contracts.EvalSpec;
import dev.featherweight.contracts.JobSpec;
import dev.featherweight.contracts.RecommendSpec;
import dev.featherweight.contracts.Recipe;
import dev.featherweight.contracts.jobs.JobState;
import dev.featherweight.contracts.jobs.JobView;
import dev.featherweight.contracts.jobs.TaskState;
import dev.featherweight.contracts.jobs.TaskView;
import dev.featherweight.service.JobsApi;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;
import jakarta.servlet.http.HttpServletRequest;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.*;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * "Which quantization should we ship on this GPU?" as a job. The gateway plans the candidates, sizes each with the
 * catalogue's pre-flight estimate and prunes — with the capacity model (or the serving simulation for a request rate) —
 * those that cannot hold the workload on any of the GPUs, before anything is queued; the survivors become an ordinary
 * sweep job (one quantize task per candidate, each followed by its eval task, spread over the workers), so every
 * candidate's numbers are the measured ones of a real artifact in the registry. The answer — Pareto front, recommendation,
 * reasons — is {@link Recommendation#decide} over the job's measured numbers, the same code {@code fw recommend} runs.
 */
@RestController
@RequestMapping("/api/v1/recommendations")
@Tag(name = "recommendations")
public class RecommendationController {
    /** Planned when the request names no candidates: the GGUF K-mixes, Q8_0, F16, GPTQ/AWQ 4-bit, NF4 and LLM.int8. */
    static final List<Recipe> DEFAULT_CANDIDATES = List.of(new Recipe.Gguf("Q3_K_M"), new Recipe.Gguf("Q4_K_M"), new Recipe.Gguf("Q5_K_M"),
            new Recipe.Gguf("Q6_K"), new Recipe.Gguf("Q8_0"), new Recipe.Gguf("F16"), new Recipe.Gptq(4, null, null, null, null, null, null),
            new Recipe.Awq(4, null, null, null), new Recipe.Nf4(null, null), new Recipe.LlmInt8(null));

    private final JobController jobs;
    private final JobsApi jobsApi;
    private final RecipeValidation recipes;
    /** Answers of finished recommendations (a finished job's numbers never change; a request-rate answer costs simulations). */
    private final Cache<String, RecommendationView> finished = Caffeine.newBuilder().expireAfterAccess(Duration.ofMinutes(30)).maximumSize(1_000).build();

    public RecommendationController(JobController jobs, JobsApi jobsApi, RecipeValidation recipes) {
        this.jobs = jobs;
        this.jobsApi = jobsApi;
        this.recipes = recipes;
    }

    /** The held-out text the candidates are measured on (an evaluation text id), its context and chunks (0 = all). */
    public record EvalText(String text, Integer ctx, Integer chunks) {}

    @Schema(description = "model, GPUs (tensor parallel count), context, workload (concurrency OR requestsPerSecond with length distributions), "
            + "quality budget (exactly one of maxKld, maxDeltaPpl, minSameTopP), optional candidate recipes and evaluation text")
    public record RecommendRequest(String modelId, List<RecommendSpec.GpuCount> gpus, Integer ctx, RecommendSpec.Workload workload,
                                   RecommendSpec.Quality quality, List<Recipe> candidates, EvalText eval) {}

    @PostMapping(consumes = MediaType.APPLICATION_JSON_VALUE)
    @ResponseStatus(HttpStatus.ACCEPTED)
    @Operation(summary = "Recommend a quantization: prune candidates by capacity, quantize and evaluate the rest as one job, answer with the Pareto front")
    @ApiResponse(responseCode = "202", description = "accepted: the recommend job (Location: /api/v1/recommendations/{id})")
    @ApiResponse(responseCode = "400", description = "invalid request, every problem named by its JSON path", content = @Content(mediaType = "application/problem+json", schema = @Schema(implementation = ProblemDetail.class)))
    @ApiResponse(responseCode = "404", description = "unknown model", content = @Content(mediaType = "application/problem+json", schema = @Schema(implementation = ProblemDetail.class)))
    @ApiResponse(responseCode = "429", description = "the tenant's jobs-in-flight limit is reached", content = @Content(mediaType = "application/problem+json", schema = @Schema(implementation = ProblemDetail.class)))
    public ResponseEntity<JobController.Accepted> submit(HttpServletRequest request, @RequestBody RecommendRequest body,
                                                         @RequestHeader(value = "Idempotency-Key", required = false) String idempotencyKey) throws Exception {
        long t0 = System.nanoTime();
        String tenant = Auth.tenant(request);
        int ctx = body.ctx() == null ? 0 : body.ctx();
        RecommendSpec question = new RecommendSpec(body.gpus(), ctx, body.workload(), body.quality(), null, null);
        List<String> problems = new ArrayList<>();
        if (body.modelId() == null || body.modelId().isBlank()) problems.add("modelId: required");
        question.validate("", CapacityController.CATALOG, problems);
        List<Recipe> candidates = body.candidates() == null ? DEFAULT_CANDIDATES : body.candidates();
        if (candidates.isEmpty() || candidates.size() > JobSpec.MAX_RECIPES) problems.add("candidates: 1 to " + JobSpec.MAX_RECIPES + " recipes");
        for (int i = 0; body.candidates() != null && i < candidates.size(); i++) {
            if (candidates.get(i) == null) problems.add("candidates[" + i + "]: null");
            else candidates.get(i).validate("candidates[" + i + "]", problems);
        }
        EvalText eval = body.eval() == null ? new EvalText(null, null, null) : body.eval();
        EvalSpec evalSpec = evalSpec(body.quality(), eval);
        if (evalSpec != null) {
            List<String> evalProblems = new ArrayList<>();
            evalSpec.validate("eval", evalProblems);
            for (String p : evalProblems) problems.add(p.replaceFirst("^eval\\.(kld|perplexity)\\.", "eval."));
        }
        if (!problems.isEmpty()) throw new ApiException(HttpStatus.BAD_REQUEST, "invalid recommendation: " + problems.size() + " problem(s)", problems);
        JobController.checkIdempotencyKey(idempotencyKey);
        jobs.requireReady(tenant, body.modelId());
        ModelShape shape = recipes.shape(tenant, body.modelId());
        if (ctx > shape.maxPositions())
            problems.add("ctx: " + ctx + " is beyond the model's " + shape.maxPositions() + " positions (max_position_embeddings)");
        if (evalSpec.kld() != null && evalSpec.kld().ctx() > shape.maxPositions() || evalSpec.perplexity() != null && evalSpec.perplexity().ctx() > shape.maxPositions())
            problems.add("eval.ctx: beyond the model's " + shape.maxPositions() + " positions");
        for (int i = 0; i < body.gpus().size(); i++) {
            int tp = body.gpus().get(i).countOr1();
            if (shape.heads() % tp != 0) problems.add("gpus[" + i + "].count: " + shape.heads() + " attention heads do not split over " + tp + " GPUs");
        }
        // the request's own candidates must suit the model (field errors); a default one that does not is left out with its reason
        List<RecommendSpec.Pruned> pruned = new ArrayList<>();
        List<Recipe> planned = new ArrayList<>();
        Set<String> labels = new HashSet<>();
        for (int i = 0; i < candidates.size(); i++) {
            Recipe r = candidates.get(i);
            List<Problem> modelProblems = r.problems("candidates[" + i + "]", shape);
            if (!modelProblems.isEmpty()) {
                if (body.candidates() != null) modelProblems.forEach(p -> problems.add(p.toString()));
                else pruned.add(new RecommendSpec.Pruned(r.label(), 0, "does not apply to this model: " + modelProblems.getFirst().message()));
                continue;
            }
            if (!labels.add(r.label())) problems.add("candidates[" + i + "]: '" + r.label() + "' is planned twice");
            else planned.add(r);
        }
        if (!problems.isEmpty()) throw new ApiException(HttpStatus.BAD_REQUEST, "invalid recommendation: " + problems.size() + " problem(s)", problems);

        // prune with the capacity model before anything is queued: a pruned candidate is never quantized
        List<Recommendation.GpuTarget> targets = question.targets(CapacityController.CATALOG);
        Recommendation.Workload workload = body.workload().resolve(ctx);
        List<Recipe> survivors = new ArrayList<>();
        for (Recipe r : planned) {
            long estimated = Catalog.builtIn().estimate(r.resolve(shape), shape).outputBytes();
            Recommendation.Pruned p;
            try {
                p = Recommendation.prune(shape, r.label(), estimated, targets, workload);
            } catch (CapacityException e) { // e.g. a request longer than the model's positions
                throw new ApiException(HttpStatus.BAD_REQUEST, "invalid recommendation", List.of("workload: " + e.getMessage()));
            }
            if (p == null) survivors.add(r);
            else pruned.add(new RecommendSpec.Pruned(p.label(), p.estimatedBytes(), p.reason()));
        }
        JobSpec spec = new JobSpec(body.modelId(), survivors, evalSpec,
                new RecommendSpec(body.gpus(), ctx, body.workload(), body.quality(), shape, pruned));
        List<String> specProblems = spec.problems();
        if (!specProblems.isEmpty()) throw new ApiException(HttpStatus.BAD_REQUEST, "invalid recommendation", specProblems);
        return jobs.enqueue(tenant, spec, idempotencyKey, "/api/v1/recommendations/", t0);
    }

    /** KL divergence (which also gives same-top-p) for a KLD or same-top budget, perplexity for a Δ perplexity budget. */
    private static EvalSpec evalSpec(RecommendSpec.Quality quality, EvalText e) {
        if (quality == null) return null;
        String text = e.text() == null ? "demo-stories" : e.text();
        int ctx = e.ctx() == null ? 256 : e.ctx(), chunks = e.chunks() == null ? 8 : e.chunks();
        return quality.maxDeltaPpl() != null
                ? new EvalSpec(new EvalSpec.Perplexity(text, ctx, chunks), null, null, null)
                : new EvalSpec(null, null, new EvalSpec.Kld(text, ctx, chunks), null);
    }

    /** One candidate: its recipe, where its tasks are, and once evaluated its measured bytes and quality and its fits. */
    public record CandidateView(String label, Recipe recipe, String state, String error, String artifactId, Long bytes, Double loss,
                                Double kldMean, Double sameTopP, Double perplexityDelta, Boolean meetsQuality, Boolean onFront,
                                List<Recommendation.Fit> fits) {}

    /**
     * A recommendation: the job's state, the measured candidates, the pruned ones with why; once the job has finished the
     * Pareto front (labels, ascending bytes), the recommended candidate and its artifact (null when none qualifies) and the
     * reasons in words.
     */
    public record RecommendationView(String jobId, String model, JobState state, String error, String metric, double maxLoss, String workload,
                                     List<RecommendSpec.GpuCount> gpus, int ctx, List<CandidateView> candidates, List<RecommendSpec.Pruned> pruned,
                                     List<String> front, String recommended, String recommendedArtifactId, String reasons, Double wallSeconds) {}

    @GetMapping("/{id}")
    @Operation(summary = "A recommendation: candidates with their measured numbers, the pruned ones, and when finished the Pareto front and the recommendation with its reasons")
    @ApiResponse(responseCode = "404", description = "unknown recommendation (or another tenant's)", content = @Content(mediaType = "application/problem+json", schema = @Schema(implementation = ProblemDetail.class)))
    public RecommendationView get(HttpServletRequest request, @PathVariable String id) {
        Ids.check("id", id);
        String tenant = Auth.tenant(request);
        RecommendationView done = finished.getIfPresent(tenant + "/" + id);
        if (done != null) return done;
        JobView job = jobsApi.job(id, tenant); // 404 for an unknown job or another tenant's
        RecommendSpec q = job.spec().recommend();
        if (q == null) throw ApiException.notFound("recommendation " + id);
        RecommendationView view = view(job, q);
        if (job.state().terminal()) finished.put(tenant + "/" + id, view);
        return view;
    }

    static RecommendationView view(JobView job, RecommendSpec q) {
        List<Recommendation.GpuTarget> targets = q.targets(CapacityController.CATALOG);
        Recommendation.Workload w = q.workload().resolve(q.ctx());
        Map<String, TaskView> tasks = new HashMap<>();
        for (TaskView t : job.tasks()) tasks.put(t.id(), t);
        List<Recipe> recipes = job.spec().recipes();
        List<Recommendation.Measured> measured = new ArrayList<>();
        List<Integer> measuredIndex = new ArrayList<>();
        List<CandidateView> candidates = new ArrayList<>();
        for (int i = 0; i < recipes.size(); i++) {
            TaskView quantize = tasks.get(job.id() + "-q" + i), eval = tasks.get(job.id() + "-e" + i);
            String label = recipes.get(i).label();
            TaskView failed = quantize != null && quantize.state() == TaskState.FAILED ? quantize : eval != null && eval.state() == TaskState.FAILED ? eval : null;
            Double loss = eval != null && eval.state() == TaskState.SUCCEEDED ? q.quality().loss(eval.metrics()) : null;
            Double bytes = quantize == null || quantize.metrics() == null ? null : quantize.metrics().get("artifact_bytes");
            if (loss != null && bytes != null) {
                Recommendation.Measured m = Recommendation.measured(q.shape(), label, bytes.longValue(), loss, q.quality().maxLoss(), targets, w);
                measured.add(m);
                measuredIndex.add(candidates.size());
                Map<String, Double> em = eval.metrics();
                candidates.add(new CandidateView(label, recipes.get(i), "MEASURED", null, quantize.artifactId(), m.bytes(), loss, em.get("kld_mean"),
                        em.get("same_top_p"), em.get("perplexity_delta"), m.meetsQuality(), null, m.fits()));
            } else {
                String state = failed != null ? "FAILED" : quantize != null && quantize.state() == TaskState.CANCELLED ? "CANCELLED"
                        : eval != null ? "EVALUATING" : quantize != null && quantize.state() == TaskState.RUNNING ? "QUANTIZING" : "QUEUED";
                candidates.add(new CandidateView(label, recipes.get(i), state, failed == null ? null : failed.error(),
                        quantize == null ? null : quantize.artifactId(), bytes == null ? null : bytes.longValue(), null, null, null, null, null, null, null));
            }
        }
        List<String> front = null;
        String recommended = null, artifact = null, reasons = null;
        if (job.state().terminal() && job.state() != JobState.CANCELLED) {
            List<Recommendation.Pruned> pruned = q.pruned().stream().map(p -> new Recommendation.Pruned(p.candidate(), p.estimatedBytes(), p.reason())).toList();
            Recommendation.Decision d = Recommendation.decide(q.quality().metric(), q.quality().maxLoss(), w, measured, pruned);
            front = d.front().stream().map(Recommendation.Measured::label).toList();
            for (int k = 0; k < measured.size(); k++) {
                CandidateView c = candidates.get(measuredIndex.get(k));
                candidates.set(measuredIndex.get(k), new CandidateView(c.label(), c.recipe(), c.state(), c.error(), c.artifactId(), c.bytes(), c.loss(),
                        c.kldMean(), c.sameTopP(), c.perplexityDelta(), c.meetsQuality(), d.front().contains(measured.get(k)), c.fits()));
            }
            if (d.recommended() != null) {
                recommended = d.recommended().label();
                artifact = candidates.get(measuredIndex.get(measured.indexOf(d.recommended()))).artifactId();
            }
            reasons = d.reasons();
            List<CandidateView> failedOnes = candidates.stream().filter(c -> "FAILED".equals(c.state())).toList();
            for (CandidateView c : failedOnes) reasons += " " + c.label() + " failed: " + c.error() + ".";
        }
        Double wall = job.finishedAt() == null ? null : Duration.between(job.submittedAt(), job.finishedAt()).toMillis() / 1000.0;
        return new RecommendationView(job.id(), job.model(), job.state(), job.error(), q.quality().metric(), q.quality().maxLoss(), w.describe(),
                q.gpus(), q.ctx(), candidates, q.pruned(), front, recommended, artifact, reasons, wall);
    }
}
