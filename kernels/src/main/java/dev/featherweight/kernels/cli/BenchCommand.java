package dev.featherweight.kernels.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * {@code fw bench}: fw against a llama.cpp build on the same jobs, as whole processes, runs interleaved (fw, llama.cpp,
 * llama.cpp, fw, …) so a shared machine's load hits both alike: GGUF quantization of one F32/F16/BF16 file to each type
 * (llama-quantize), with --text perplexity of each result (llama-perplexity), with --generate one-token generation
 * (llama-bench -p 0 -n N). Prints the median wall time, peak
 * resident memory (from /usr/bin/time when present) and perplexity throughput of each side, their ratios, the load
 * average and the date. Without --llama-cpp only fw's rows are measured.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Time fw against a llama.cpp build (whole processes, interleaved runs): GGUF quantization per type, with --text perplexity, with --generate generation.")
public final class BenchCommand implements Callable<Integer> {
    private static final Pattern LLAMA_TOKENS_PER_SECOND = Pattern.compile("prompt eval time\\s*=.*?([0-9.]+) tokens per second");
    private static final Pattern FW_GENERATED = Pattern.compile("generated \\d+ tokens ([0-9.]+) tok/s");
    private static final Path TIME = Path.of("/usr/bin/time");

    @Spec
    CommandSpec spec;

    @Option(names = "--llama-cpp", description = "llama.cpp folder: its build/bin (or bin, or the folder itself) holds llama-quantize and llama-perplexity")
    Path llamaCpp;

    @Option(names = "--model", required = true, description = "GGUF F32/F16/BF16 file, the input of both quantizers")
    Path model;

    @Option(names = "--types", split = ",", defaultValue = "Q8_0,Q4_0,Q4_K_M,Q6_K", description = "file types (default ${DEFAULT-VALUE})")
    List<String> types;

    @Option(names = "--runs", defaultValue = "3", description = "runs of each side per job (default ${DEFAULT-VALUE}); the median is reported")
    int runs;

    @Option(names = "--threads", defaultValue = "2", description = "threads of both sides (default ${DEFAULT-VALUE})")
    int threads;

    @Option(names = "--text", description = "also measure perplexity on this text (llama.cpp's mode, --ctx, --chunks)")
    Path text;

    @Option(names = "--tokenizer", description = "folder with tokenizer.json for fw's perplexity (when the GGUF's own vocabulary is not to be used)")
    Path tokenizer;

    @Option(names = "--ctx", defaultValue = "256", description = "perplexity context (default ${DEFAULT-VALUE})")
    int ctx;

    @Option(names = "--chunks", defaultValue = "16", description = "perplexity chunks (default ${DEFAULT-VALUE})")
    int chunks;

    @Option(names = "--generate", defaultValue = "0",
            description = "also measure generation of this many tokens one at a time (fw generate --stats against llama-bench -p 0 -n N)")
    int generate;

    /** One process run: wall seconds, CPU seconds (user + system; NaN unknown), peak RSS in KB (-1 unknown), its stdout and stderr. */
    record Run(double seconds, double cpuSeconds, long peakKb, String stdout, String stderr) {
    }

    /** The medians of one side of one job (NaN / -1 when not measured). */
    record Side(double seconds, double cpuSeconds, long peakKb, double tokensPerSecond) {
        static final Side NONE = new Side(Double.NaN, Double.NaN, -1, Double.NaN);
    }

    @Override
    public Integer call() throws Exception {
        if (runs < 1) throw new IllegalArgumentException("--runs must be at least 1");
        if (!Files.isRegularFile(model)) throw new IllegalArgumentException("--model " + model + ": no such file (a GGUF F32/F16/BF16 file)");
        Path bin = llamaCpp == null ? null : llamaBin(llamaCpp);
        PrintWriter out = spec.commandLine().getOut();
        double loadStart = load();
        Instant start = Instant.now();
        Path tmp = Files.createTempDirectory("fw-bench");
        List<String[]> rows = new ArrayList<>();
        try {
            for (String type : types) {
                Path fwOut = tmp.resolve("fw-" + type + ".gguf"), llamaOut = tmp.resolve("llama-" + type + ".gguf");
                List<String> fwCmd = fw("quantize", "--model", model.toString(), "--type", type, "--out", fwOut.toString(), "--threads", "" + threads);
                List<String> llamaCmd = bin == null ? null : List.of(bin.resolve("llama-quantize").toString(), model.toString(), llamaOut.toString(), type, "" + threads);
                Side[] q = interleave(fwCmd, llamaCmd, tmp, r -> Double.NaN);
                rows.add(row("quantize", type, q[0], q[1], false));
                if (text != null) {
                    List<String> fwPpl = new ArrayList<>(fw("perplexity", "--model", fwOut.toString(), "--text", text.toString(), "--ctx", "" + ctx,
                            "--chunks", "" + chunks, "--threads", "" + threads, "--json"));
                    if (tokenizer != null) fwPpl.addAll(List.of("--tokenizer", tokenizer.toString()));
                    List<String> llamaPpl = bin == null ? null : List.of(bin.resolve("llama-perplexity").toString(), "-m", llamaOut.toString(), "-f",
                            text.toString(), "-c", "" + ctx, "--chunks", "" + chunks, "-t", "" + threads);
                    Side[] p = interleave(fwPpl, llamaPpl, tmp, r -> r == null ? Double.NaN : tokensPerSecond(r));
                    rows.add(row("perplexity", type, p[0], p[1], true));
                }
                if (generate > 0) {
                    List<String> fwGen = new ArrayList<>(fw("generate", "--model", fwOut.toString(), "--prompt", "Once upon a time", "--tokens",
                            "" + generate, "--threads", "" + threads, "--stats"));
                    if (tokenizer != null) fwGen.addAll(List.of("--tokenizer", tokenizer.toString()));
                    List<String> llamaGen = bin == null ? null : List.of(bin.resolve("llama-bench").toString(), "-m", llamaOut.toString(), "-p", "0",
                            "-n", "" + generate, "-t", "" + threads, "-r", "1", "-o", "json");
                    Side[] g = interleave(fwGen, llamaGen, tmp, BenchCommand::generationTokensPerSecond);
                    rows.add(row("generate", type, g[0], g[1], true));
                }
            }
        } finally {
            try (Stream<Path> files = Files.walk(tmp)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
        out.printf(Locale.ROOT, "fw bench: %s, %d thread(s), median of %d run(s) each, interleaved; %s; load average %.2f at start, %.2f at end%n",
                model.getFileName(), threads, runs, start.truncatedTo(ChronoUnit.SECONDS), loadStart, load());
        out.printf(Locale.ROOT, "llama.cpp: %s%n", bin == null ? "not given (fw only)" : bin);
        String[] header = {"job", "type", "fw s", "llama.cpp s", "time fw/llama", "fw CPU s", "llama.cpp CPU s", "CPU fw/llama", "fw MB", "llama.cpp MB", "RSS fw/llama", "fw tok/s", "llama.cpp tok/s",
                "tok/s fw/llama"};
        printTable(out, header, rows);
        out.flush();
        return 0;
    }

    /** The folder holding llama.cpp's binaries: DIR/build/bin, DIR/bin or DIR itself; a clear error when none has them. */
    private Path llamaBin(Path dir) {
        if (!Files.isDirectory(dir)) throw new IllegalArgumentException("--llama-cpp " + dir + ": not a folder (give a llama.cpp checkout or its build/bin)");
        List<String> needed = new ArrayList<>(List.of("llama-quantize"));
        if (text != null) needed.add("llama-perplexity");
        if (generate > 0) needed.add("llama-bench");
        for (Path candidate : List.of(dir.resolve("build").resolve("bin"), dir.resolve("bin"), dir)) {
            if (Files.isExecutable(candidate.resolve("llama-quantize"))) {
                for (String tool : needed) {
                    if (!Files.isExecutable(candidate.resolve(tool))) {
                        throw new IllegalArgumentException("--llama-cpp " + dir + ": " + candidate + " has llama-quantize but no executable " + tool
                                + " (needed for the jobs asked for)");
                    }
                }
                return candidate;
            }
        }
        throw new IllegalArgumentException("--llama-cpp " + dir + ": no executable llama-quantize in " + dir + "/build/bin, " + dir + "/bin or " + dir
                + " (build llama.cpp first: cmake -B build && cmake --build build --config Release)");
    }

    /** fw generate --stats' "generated N tokens X tok/s", or llama-bench -o json's avg_ts of its generation test. */
    static double generationTokensPerSecond(Run r) {
        Matcher m = FW_GENERATED.matcher(r.stderr());
        if (m.find()) return Double.parseDouble(m.group(1));
        for (JsonNode test : JsonMapper.builder().build().readTree(r.stdout())) {
            if (test.path("n_gen").asInt() > 0) return test.path("avg_ts").asDouble();
        }
        return Double.NaN;
    }

    @FunctionalInterface
    private interface Throughput {
        double of(Run r);
    }

    /** Runs both commands `runs` times, alternating which goes first; returns the medians {fw, llama.cpp}. */
    private Side[] interleave(List<String> fwCmd, List<String> llamaCmd, Path tmp, Throughput throughput) throws IOException, InterruptedException {
        List<Run> fwRuns = new ArrayList<>(), llamaRuns = new ArrayList<>();
        for (int i = 0; i < runs; i++) {
            boolean fwFirst = i % 2 == 0;
            if (fwFirst) fwRuns.add(runFw(fwCmd, tmp));
            if (llamaCmd != null) llamaRuns.add(run(llamaCmd, tmp, null));
            if (!fwFirst) fwRuns.add(runFw(fwCmd, tmp));
        }
        return new Side[]{median(fwRuns, throughput), llamaCmd == null ? Side.NONE : median(llamaRuns, throughput)};
    }

    /** fw as bin/fw runs it: restarted once with the -Xmx it asks for when the job needs a larger heap (exit 75). */
    private Run runFw(List<String> cmd, Path tmp) throws IOException, InterruptedException {
        Path restart = Files.createTempFile(tmp, "heap", ".txt");
        try {
            Run r = run(cmd, tmp, restart);
            if (r == null) {
                List<String> again = new ArrayList<>(cmd);
                again.removeIf(a -> a.startsWith("-Xmx"));
                again.add(1, "-Xmx" + Files.readString(restart).trim() + "m");
                r = run(again, tmp, null);
            }
            return r;
        } finally {
            Files.deleteIfExists(restart);
        }
    }

    /** One process: wall time, and CPU time and peak RSS through /usr/bin/time when it exists. Null: fw asked for a heap restart. */
    private Run run(List<String> cmd, Path tmp, Path restartFile) throws IOException, InterruptedException {
        Path stdout = Files.createTempFile(tmp, "out", ".txt"), stderr = Files.createTempFile(tmp, "err", ".txt"), rss = Files.createTempFile(tmp, "rss", ".txt");
        List<String> full = new ArrayList<>();
        boolean timed = Files.isExecutable(TIME);
        if (timed) full.addAll(List.of(TIME.toString(), "-f", "%M %U %S", "-o", rss.toString()));
        full.addAll(cmd);
        ProcessBuilder pb = new ProcessBuilder(full).redirectOutput(stdout.toFile()).redirectError(stderr.toFile());
        pb.environment().remove("FW_HEAP_RESTART_FILE");
        if (restartFile != null) pb.environment().put("FW_HEAP_RESTART_FILE", restartFile.toString());
        long t0 = System.nanoTime();
        int rc = pb.start().waitFor();
        double seconds = (System.nanoTime() - t0) / 1e9;
        if (rc == Fw.HEAP_RESTART_EXIT && restartFile != null && Files.size(restartFile) > 0) return null;
        String err = Files.readString(stderr);
        if (rc != 0) {
            throw new IllegalStateException("`" + String.join(" ", cmd) + "` exited with " + rc + ": " + lastLines(err, 5));
        }
        long peak = -1;
        double cpu = Double.NaN;
        if (timed) {
            String[] lines = Files.readString(rss).trim().split("\n");
            String[] fields = lines[lines.length - 1].trim().split(" ");   // "%M %U %S": the last line (earlier ones are time's own notes)
            peak = Long.parseLong(fields[0]);
            cpu = Double.parseDouble(fields[1]) + Double.parseDouble(fields[2]);
        }
        return new Run(seconds, cpu, peak, Files.readString(stdout), err);
    }

    /** fw in a new JVM like this one: same java, same JVM options (heap, AOT cache, modules), same class path. */
    static List<String> fw(String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (a.startsWith("-X") || a.startsWith("--add-modules") || a.startsWith("--enable-native-access")) cmd.add(a);
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Fw.class.getName()));
        cmd.addAll(Arrays.asList(args));
        return cmd;
    }

    private static Side median(List<Run> runs, Throughput throughput) {
        double[] s = runs.stream().mapToDouble(Run::seconds).sorted().toArray();
        double[] c = runs.stream().mapToDouble(Run::cpuSeconds).sorted().toArray();
        long[] m = runs.stream().mapToLong(Run::peakKb).sorted().toArray();
        double[] t = runs.stream().mapToDouble(throughput::of).sorted().toArray();
        return new Side(s[s.length / 2], c[c.length / 2], m[m.length / 2], t[t.length / 2]);
    }

    /** fw perplexity --json's tokensPerSecond, or llama-perplexity's "prompt eval time … tokens per second". */
    static double tokensPerSecond(Run r) {
        String o = r.stdout().trim();
        if (o.startsWith("{")) {
            JsonNode j = JsonMapper.builder().build().readTree(o);
            return j.get("tokensPerSecond").asDouble();
        }
        Matcher m = LLAMA_TOKENS_PER_SECOND.matcher(r.stderr());
        double last = Double.NaN;
        while (m.find()) last = Double.parseDouble(m.group(1));
        return last;
    }

    private static String[] row(String job, String type, Side fw, Side llama, boolean throughput) {
        return new String[]{job, type, num(fw.seconds(), 2), num(llama.seconds(), 2), num(fw.seconds() / llama.seconds(), 2), num(fw.cpuSeconds(), 2),
                num(llama.cpuSeconds(), 2), num(fw.cpuSeconds() / llama.cpuSeconds(), 2), mb(fw.peakKb()),
                mb(llama.peakKb()), fw.peakKb() > 0 && llama.peakKb() > 0 ? num((double) fw.peakKb() / llama.peakKb(), 2) : "—",
                throughput ? num(fw.tokensPerSecond(), 0) : "—", throughput ? num(llama.tokensPerSecond(), 0) : "—",
                throughput ? num(fw.tokensPerSecond() / llama.tokensPerSecond(), 2) : "—"};
    }

    private static String num(double v, int decimals) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%." + decimals + "f", v) : "—";
    }

    private static String mb(long kb) {
        return kb > 0 ? String.format(Locale.ROOT, "%.0f", kb / 1024.0) : "—";
    }

    private static void printTable(PrintWriter out, String[] header, List<String[]> rows) {
        int[] w = new int[header.length];
        for (int i = 0; i < header.length; i++) w[i] = header[i].length();
        for (String[] r : rows) for (int i = 0; i < r.length; i++) w[i] = Math.max(w[i], r[i].length());
        List<String[]> all = new ArrayList<>();
        all.add(header);
        all.addAll(rows);
        for (String[] r : all) {
            StringBuilder b = new StringBuilder();
            for (int i = 0; i < r.length; i++) {
                String cell = i < 2 ? String.format("%-" + w[i] + "s", r[i]) : String.format("%" + w[i] + "s", r[i]);
                b.append(i == 0 ? "" : "  ").append(cell);
            }
            out.println(b.toString().stripTrailing());
        }
    }

    /** The 1-minute load average (−1 where /proc/loadavg does not exist). */
    private static double load() {
        try {
            return Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).split(" ")[0]);
        } catch (IOException | RuntimeException e) {
            return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
        }
    }

    private static String lastLines(String s, int n) {
        String[] lines = s.strip().split("\n");
        return String.join(" / ", Arrays.copyOfRange(lines, Math.max(0, lines.length - n), lines.length));
    }
}
