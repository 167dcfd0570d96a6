package dev.featherweight.kernels.pipeline.modifier;

import dev.featherweight.kernels.core.Parallel;
import dev.featherweight.kernels.core.WeightMatrix;
import dev.featherweight.kernels.infer.BlockWeights;
import dev.featherweight.kernels.infer.LlamaModel;
import dev.featherweight.kernels.quant.QuantizedModule;
import dev.featherweight.kernels.quant.Recipe;

/**
 * What the calibration pipeline gives a {@link QuantizationModifier} for one block: its weights, the recipe's
 * per-module rules, the calibration samples' inputs to the block (run through it on request, with every matmul
 * input shown), and where to report finished modules. Module names are the forward pass's ("attn_q" …
 * "ffn_down", {@link BlockWeights#MODULES}).
 */
public interface BlockContext {

    /** Sees the input of each matmul of this block: {@code x} is nTokens × cols, valid only during the call. */
    @FunctionalInterface
    interface InputObserver {
        void onInput(int sample, String module, float[] x, int nTokens, int cols);
    }

    int layer();

    LlamaModel.Config config();

    /** The block's weights as in the model (not to be modified). */
    BlockWeights weights();

    Parallel pool();

    /** The module's bits and group size after the recipe's rules, or null when it is kept unquantized. */
    Recipe.ModuleParams paramsFor(String module);

    /** The module's full Hugging Face name ("model.layers.3.mlp.down_proj"). */
    String moduleName(String module);

    /** Number of calibration samples (0 for a modifier that is not calibrated). */
    int samples();

    int seqLen();

    /**
     * Runs every calibration sample through the block with weights {@code w}, showing {@code observer} each
     * matmul input. A pass ends right after the input of module {@code stopAfter} was shown (null: runs the whole
     * block). Returns the block's outputs of the first {@code keepOutputs} samples (with {@code stopAfter} null).
     */
    float[][] forward(BlockWeights w, InputObserver observer, String stopAfter, int keepOutputs);

    /** The block's output for one sample with weights {@code w} (a new array). */
    float[] output(int sample, BlockWeights w);

    /**
     * The block's self-attention alone ({@code self_attn}: q/k/v, RoPE, causal attention, o_proj) with weights
     * {@code w} on one sample's normalized inputs x (seqLen × dim, the input of q/k/v): a new seqLen × dim array.
     */
    float[] selfAttention(float[] x, BlockWeights w);

    /** The block's MLP alone ({@code mlp}) with weights {@code w} on normalized inputs x (nTokens × dim): a new array. */
    float[] mlp(float[] x, int nTokens, BlockWeights w);

    /** Reports a finished module: its relative squared error against {@code reference}, measured row by row. */
    void moduleDone(String module, QuantizedModule q, WeightMatrix reference, long startNanos);

    /** Reports an intermediate step (e.g. a scale search) with its error. */
    void stepDone(String what, double seconds, double error);
}
