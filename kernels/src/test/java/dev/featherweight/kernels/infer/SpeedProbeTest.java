package dev.featherweight.kernels.infer;

import dev.featherweight.kernels.SharedData;
import org.junit.jupiter.api.Test;

class SpeedProbeTest {
    @Test
    void probe() throws Exception {
        int[] tokens = ForwardLogitsTest.readTokens(SharedData.shared("eval").resolve("dev.tinystories.tokens.u32"), 1 << 20);
        for (String name : new String[]{"stories260K", "feather-3m"}) {
            try (LlamaModel m = TestModels.loadHf(SharedData.shared("models").resolve(name))) {
                for (int rep = 0; rep < 3; rep++) {
                    var r = Perplexity.run(m, tokens, Perplexity.Options.llamacpp(256, 32, 1));
                    System.out.printf("%s ppl %.4f %.0f tok/s%n", name, r.perplexity(), r.tokensPerSecond());
                }
            }
        }
    }
}
