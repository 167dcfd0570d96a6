package dev.featherweight.kernels.cli;

import dev.featherweight.kernels.SharedData;
import dev.featherweight.kernels.core.GgmlType;
import dev.featherweight.kernels.core.Parallel;
import dev.featherweight.kernels.formats.FormatException;
import dev.featherweight.kernels.formats.OutputLock;
import dev.featherweight.kernels.formats.gguf.GgufFile;
import dev.featherweight.kernels.formats.gguf.HfToGguf;
import dev.featherweight.kernels.formats.safetensors.SafetensorsModel;
import dev.featherweight.kernels.infer.SyntheticModel;
import dev.featherweight.kernels.pipeline.LlamaQuantize;
import dev.featherweight.kernels.quant.gguf.FileType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Outputs under concurrency and kills (issue 14): two writers of one path never share a temporary file or
 * silently replace each other's file (the second fails at once with output-busy, naming the pid); a
 * {@code fw quantize} JVM killed with SIGKILL mid-write leaves its {@code .NAME.<pid>.tmp}, which the next run
 * for that path removes before it succeeds; and a model given by a bare file name works.
 */
class OutputSafetyTest {
    @TempDir
    Path tmp;

    /** Runs fw in this JVM; returns {exit code, stdout, stderr}. */
    static Object[] fw(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        PrintStream oldOut = System.out, oldErr = System.err;
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int code = Fw.run(args);
            return new Object[]{code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8)};
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    static List<String> javaFw(String... args) {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "--add-modules",
                "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), Fw.class.getName()));
        cmd.addAll(List.of(args));
        return cmd;
    }

    static List<Path> list(Path dir) throws IOException {
        try (var s = Files.list(dir)) {
            return s.sorted().toList();
        }
    }

    @Test
    void twoWritersOfOnePathNeverCorruptOrReplaceEachOther() throws Exception {
        Path model = SharedData.demoModel("feather-3m");
        Path reference = tmp.resolve("reference.gguf");
        quantize(model, reference);
        byte[] expected = Files.readAllBytes(reference);

        Path out = tmp.resolve("same/m.gguf");
        // A writer that holds the path (as a running quantization does): the second fails at once, naming the holder.
        try (OutputLock held = OutputLock.acquire(out)) {
            Object[] r = fw("quantize", "--model", model.toString(), "--type", "Q8_0", "--out", out.toString());
            assertThat(r[0]).isEqualTo(1);
            assertThat((String) r[2]).startsWith("fw quantize: [output-busy] " + out).contains("pid " + ProcessHandle.current().pid());
            assertThat(out).doesNotExist();
        }

        // Two real writers started together, several rounds: each either writes the whole file or is refused as busy,
        // and whatever ends at the path is exactly the reference file; no temporary is left.
        ExecutorService two = Executors.newFixedThreadPool(2);
        try {
            for (int round = 0; round < 3; round++) {
                CyclicBarrier start = new CyclicBarrier(2);
                List<Future<String>> results = new ArrayList<>();
                for (int w = 0; w < 2; w++) {
                    results.add(two.submit(() -> {
                        start.await();
                        try {
                            quantize(model, out);
                            return "written";
                        } catch (FormatException e) {
                            assertThat(e.kind()).as(e.getMessage()).isEqualTo(FormatException.Kind.OUTPUT_BUSY);
                            return "busy";
                        }
                    }));
                }
                List<String> outcomes = new ArrayList<>();
                for (Future<String> f : results) outcomes.add(f.get(5, TimeUnit.MINUTES));
                assertThat(outcomes).contains("written");
                assertThat(Files.readAllBytes(out)).isEqualTo(expected);
                assertThat(list(out.getParent())).containsExactlyInAnyOrder(out, OutputLock.lockFile(out));
            }
        } finally {
            two.shutdownNow();
        }
    }

    private static void quantize(Path model, Path out) {
        try (SafetensorsModel w = SafetensorsModel.open(model)) {
            LlamaQuantize.quantize(HfToGguf.plan(model, w, GgmlType.F32), FileType.Q8_0, null, null, out, 1, null);
        }
    }

    @Test
    void aKilledQuantizeLeavesATemporaryThatTheNextRunRemoves() throws Exception {
        // ~37 M weights: the child spends seconds writing, so the kill lands mid-write
        Path model = tmp.resolve("synth");
        try (Parallel pool = new Parallel(2)) {
            SyntheticModel.write(new SyntheticModel.Shape("kill-test", "llama", 768, 2048, 2, 12, 4, 32000, 10000, 1e-5, 2048, true, false),
                    7, "f32", model, SharedData.demoModel("feather-3m"), pool);
        }
        Path outDir = Files.createDirectories(tmp.resolve("out"));
        Path out = outDir.resolve("m.gguf");
        Process child = new ProcessBuilder(javaFw("quantize", "--model", model.toString(), "--type", "Q8_0", "--out", out.toString(), "--threads", "1"))
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        Path childTemp = outDir.resolve(".m.gguf." + child.pid() + ".tmp");
        try {
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
            while (!Files.exists(childTemp) && child.isAlive() && System.nanoTime() < deadline) Thread.sleep(5);
            assertThat(childTemp).as("the child's temporary file").exists();

            // meanwhile, a second writer of the same path in another process is refused at once, naming the child
            FormatException busy = org.assertj.core.api.Assertions.catchThrowableOfType(FormatException.class, () -> OutputLock.acquire(out));
            assertThat(busy).isNotNull();
            assertThat(busy.kind()).isEqualTo(FormatException.Kind.OUTPUT_BUSY);
            assertThat(busy.getMessage()).contains("pid " + child.pid());
        } finally {
            child.destroyForcibly(); // SIGKILL: no shutdown hook, no finally block runs in the child
            child.waitFor(1, TimeUnit.MINUTES);
        }
        assertThat(child.exitValue()).as("killed, not finished").isNotZero();
        assertThat(out).doesNotExist();
        assertThat(childTemp).as("what kill -9 leaves behind").exists();

        Object[] rerun = fw("quantize", "--model", model.toString(), "--type", "Q8_0", "--out", out.toString(), "--threads", "2");
        assertThat(rerun[0]).as((String) rerun[2]).isEqualTo(0);
        assertThat(list(outDir)).as("the dead run's temporary is gone").containsExactlyInAnyOrder(out, OutputLock.lockFile(out));
        try (GgufFile g = GgufFile.open(out)) {
            assertThat(g.tensorInfo("blk.0.attn_q.weight").type()).isEqualTo(GgmlType.Q8_0);
        }
    }

    @Test
    void aModelGivenByABareFileNameRuns() throws Exception {
        // ModelLoader took path.getParent() of "f3m-F32.gguf" (null); run where the file is, as a user would
        Path dir = Files.createDirectories(tmp.resolve("cwd"));
        Files.createSymbolicLink(dir.resolve("f3m-F32.gguf"), SharedData.shared("golden/gguf/feather-3m-F32.gguf"));
        ByteBuffer bb = ByteBuffer.allocate(200 * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 200; i++) bb.putInt(i == 0 ? 1 : 3 + (i * 37) % 500);
        Files.write(dir.resolve("t.u32"), bb.array());
        for (List<String> args : List.of(List.of("perplexity", "--model", "f3m-F32.gguf", "--tokens", "t.u32", "--ctx", "64", "--chunks", "1", "--json"),
                List.of("quantize", "--model", "f3m-F32.gguf", "--type", "Q8_0", "--out", "q.gguf"),
                List.of("inspect", "f3m-F32.gguf"))) {
            Process p = new ProcessBuilder(javaFw(args.toArray(String[]::new))).directory(dir.toFile()).redirectErrorStream(true).start();
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor(5, TimeUnit.MINUTES)).isTrue();
            assertThat(p.exitValue()).as(args + ": " + output).isZero();
            assertThat(output).doesNotContain("Exception");
        }
        assertThat(dir.resolve("q.gguf")).isRegularFile();
    }
}
