package dev.featherweight.kernels.cli;

import dev.featherweight.kernels.SharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code fw bench} as a user runs it: fw's own rows without llama.cpp, a clear refusal of a folder without llama.cpp's
 * binaries, and the ratios against a stand-in llama.cpp (scripts that do a known thing: there is no llama.cpp build
 * on the CI machine) — each fw side is a real fw process.
 */
class BenchCommandTest {
    static final Path F32 = SharedData.shared("golden/gguf/feather-3m-F32.gguf");

    record Result(int exit, String out, String err) {
    }

    static Result bench(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        PrintStream oldOut = System.out, oldErr = System.err;
        int exit;
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            String[] all = new String[args.length + 1];
            all[0] = "bench";
            System.arraycopy(args, 0, all, 1, args.length);
            exit = Fw.run(all);
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
        return new Result(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** The cells of the table row starting with job and type. */
    static String[] row(String out, String job, String type) {
        return Arrays.stream(out.split("\n")).filter(l -> l.startsWith(job) && l.split("\\s+")[1].equals(type)).findFirst()
                .orElseThrow(() -> new AssertionError("no row " + job + " " + type + " in:\n" + out)).trim().split("\\s{2,}");
    }

    @Test
    void withoutLlamaCppOnlyFwsRowsAreMeasured() {
        Result r = bench("--model", F32.toString(), "--types", "Q8_0", "--runs", "1");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("llama.cpp: not given (fw only)", "load average", "feather-3m-F32.gguf");
        String[] q = row(r.out(), "quantize", "Q8_0");
        assertThat(Double.parseDouble(q[2])).as("fw seconds").isPositive();
        assertThat(q[3]).as("llama.cpp seconds").isEqualTo("—");
        assertThat(q[4]).as("ratio").isEqualTo("—");
        assertThat(r.out()).doesNotContain("perplexity  ");
    }

    @Test
    void aFolderWithoutLlamaCppIsRefusedBeforeAnythingRuns(@TempDir Path empty) throws Exception {
        Result missing = bench("--llama-cpp", empty.resolve("nowhere").toString(), "--model", F32.toString());
        assertThat(missing.exit()).isNotZero();
        assertThat(missing.err()).contains("fw bench:", "nowhere", "not a folder");
        Result noBinaries = bench("--llama-cpp", empty.toString(), "--model", F32.toString());
        assertThat(noBinaries.exit()).isNotZero();
        assertThat(noBinaries.err()).contains("no executable llama-quantize in " + empty + "/build/bin");
        assertThat(noBinaries.out()).isEmpty();
        // a build with llama-quantize only cannot run the perplexity jobs --text asks for
        script(empty.resolve("llama-quantize"), "exit 0");
        Result noPerplexity = bench("--llama-cpp", empty.toString(), "--model", F32.toString(), "--text", F32.toString());
        assertThat(noPerplexity.exit()).isNotZero();
        assertThat(noPerplexity.err()).contains("has llama-quantize but no executable llama-perplexity");
    }

    @Test
    void ratiosAreFwOverLlamaCppForEachJob(@TempDir Path llama) throws Exception {
        Path bin = Files.createDirectories(llama.resolve("build").resolve("bin"));
        // stand-ins with llama.cpp's command lines: quantize copies its input, perplexity prints llama.cpp's timing line
        script(bin.resolve("llama-quantize"), "sleep 0.2; cp \"$1\" \"$2\"");
        script(bin.resolve("llama-perplexity"), "echo 'llama_perf_context_print: prompt eval time =     200.00 ms /   512 tokens (    0.39 ms per token,  2560.00 tokens per second)' >&2");
        script(bin.resolve("llama-bench"), "echo '[{\"n_prompt\": 0, \"n_gen\": 8, \"avg_ts\": 1000.5}]'");
        Result r = bench("--llama-cpp", llama.toString(), "--model", F32.toString(), "--types", "Q4_0", "--runs", "1",
                "--text", SharedData.shared("eval/dev.tinystories.txt").toString(), "--ctx", "64", "--chunks", "2",
                "--tokenizer", SharedData.demoModel("feather-3m").toString(), "--generate", "8");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("llama.cpp: " + bin);
        String[] q = row(r.out(), "quantize", "Q4_0");
        double fw = Double.parseDouble(q[2]), ll = Double.parseDouble(q[3]);
        assertThat(ll).as("the stand-in sleeps 0.2 s").isGreaterThanOrEqualTo(0.2);
        // the printed seconds are rounded to 0.01 s: the ratio of the unrounded times lies within that rounding
        assertThat(Double.parseDouble(q[4])).isCloseTo(fw / ll, org.assertj.core.data.Offset.offset(0.006 + fw / ll * (0.005 / fw + 0.005 / ll) * 1.01));
        assertThat(Double.parseDouble(q[5])).as("fw CPU seconds (user + system, /usr/bin/time)").isPositive();
        assertThat(Double.parseDouble(q[6])).as("llama.cpp CPU seconds: the stand-in only sleeps").isLessThan(0.2);
        String[] p = row(r.out(), "perplexity", "Q4_0");
        assertThat(p[12]).as("llama.cpp tok/s parsed from its log").isEqualTo("2560");
        double fwTokens = Double.parseDouble(p[11]);
        assertThat(fwTokens).isPositive();
        assertThat(Double.parseDouble(p[13])).as("tok/s fw/llama").isCloseTo(fwTokens / 2560.0, org.assertj.core.data.Offset.offset(0.006 + 0.5 / 2560));
        String[] g = row(r.out(), "generate", "Q4_0");
        assertThat(g[12]).as("llama-bench's avg_ts of its generation test").isEqualTo("1001");
        assertThat(Double.parseDouble(g[11])).as("fw generate --stats tok/s").isPositive();
    }

    private static void script(Path file, String body) throws Exception {
        Files.writeString(file, "#!/bin/sh\n" + body + "\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
}
