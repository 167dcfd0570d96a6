package dev.featherweight.standalone;

import dev.featherweight.catalog.ResolvedRecipe;
import dev.featherweight.quantizer.QuantizationEngine;
import tools.jackson.databind.json.JsonMapper;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.List;

/**
 * TEST DOUBLE for the kernels, used only by the platform-mechanics tests (leases, redelivery, S3 outage)
 * while the kernels' methods are not on this branch: it does real, deterministic work — one output file
 * per transformer block derived from the block's bytes of model.safetensors, with per-block resume
 * files — so those tests can check transport, fencing and resume, never quantization results.
 */
public class StubEngine implements QuantizationEngine {
    @Override
    public boolean supports(ResolvedRecipe recipe) {
        return true;
    }

    @Override
    public Result quantize(Path modelDir, ResolvedRecipe recipe, Path outDir, Progress progress) throws Exception {
        int layers = JsonMapper.shared().readTree(Files.readString(modelDir.resolve("config.json"))).path("num_hidden_layers").asInt();
        byte[] weights = Files.readAllBytes(modelDir.resolve("model.safetensors"));
        // like a real reader: a safetensors file starts with the little-endian length of its JSON header
        long header = weights.length < 8 ? -1 : java.nio.ByteBuffer.wrap(weights, 0, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
        if (header < 2 || header > weights.length - 8)
            throw new IllegalArgumentException("model.safetensors is corrupt: header length " + header + " does not fit its " + weights.length + " bytes");
        int resumed = 0;
        for (int b = 0; b < layers; b++) {
            Path done = outDir.resolve("blk." + b + ".part");
            if (Files.exists(done)) {
                resumed++;
            } else {
                MessageDigest md = MessageDigest.getInstance("SHA-256");
                md.update(recipe.label().getBytes());
                md.update(weights, b * weights.length / layers, weights.length / layers);
                Path tmp = outDir.resolve("blk." + b + ".tmp");
                Files.write(tmp, md.digest());
                Files.move(tmp, done);
            }
            progress.block(b + 1, layers + 1, "blk." + b);
        }
        Path out = outDir.resolve("model.bin");
        try (var os = Files.newOutputStream(out)) {
            for (int b = 0; b < layers; b++) os.write(Files.readAllBytes(outDir.resolve("blk." + b + ".part")));
        }
        progress.block(layers + 1, layers + 1, "output");
        return new Result(List.of("model.bin"), resumed);
    }

    @Override
    public String version() {
        return "stub-engine (test double)";
    }
}
