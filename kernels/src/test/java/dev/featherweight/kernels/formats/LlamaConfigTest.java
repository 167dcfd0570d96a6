package dev.featherweight.kernels.formats;

import dev.featherweight.kernels.formats.hf.LlamaConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * config.json of the three supported families, as their published checkpoints ship them; the parameter
 * counts are the published totals (safetensors metadata of the Hub repositories), so the shape arithmetic
 * — GQA widths, q/k/v biases, tied or untied output — is checked against real models.
 */
class LlamaConfigTest {
    @TempDir
    Path tmp;

    private LlamaConfig read(String json) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("m" + Math.abs(json.hashCode())));
        Files.writeString(dir.resolve("config.json"), json);
        return LlamaConfig.read(dir);
    }

    @Test
    void llama31WithLlama3RopeScalingAndAListOfEosIds() throws IOException {
        LlamaConfig c = read("""
                {"architectures":["LlamaForCausalLM"],"attention_bias":false,"bos_token_id":128000,"eos_token_id":[128001,128008,128009],
                 "hidden_act":"silu","hidden_size":4096,"initializer_range":0.02,"intermediate_size":14336,"max_position_embeddings":131072,
                 "mlp_bias":false,"model_type":"llama","num_attention_heads":32,"num_hidden_layers":32,"num_key_value_heads":8,
                 "pretraining_tp":1,"rms_norm_eps":1e-05,"rope_scaling":{"factor":8.0,"low_freq_factor":1.0,"high_freq_factor":4.0,
                 "original_max_position_embeddings":8192,"rope_type":"llama3"},"rope_theta":500000.0,"tie_word_embeddings":false,
                 "torch_dtype":"bfloat16","vocab_size":128256}""");
        assertThat(c.architecture()).isEqualTo("llama");
        assertThat(c.headDim()).isEqualTo(128);
        assertThat(c.kvHeads()).isEqualTo(8);
        assertThat(c.ropeTheta()).isEqualTo(500000.0);
        assertThat(c.ropeScaling()).isEqualTo(new LlamaConfig.RopeScaling("llama3", 8.0, 1.0, 4.0, 8192));
        assertThat(c.eosTokenIds()).containsExactly(128001, 128008, 128009);
        assertThat(c.eosTokenId()).isEqualTo(128001);
        assertThat(c.bosTokenId()).isEqualTo(128000);
        assertThat(c.attentionBias()).isFalse();
        assertThat(c.torchDtype()).isEqualTo("bfloat16");
        assertThat(c.parameterCount()).isEqualTo(8_030_261_248L);
    }

    @Test
    void mistral7bDefaultsKvHeadsAndHeadDimFromTheShape() throws IOException {
        LlamaConfig c = read("""
                {"architectures":["MistralForCausalLM"],"bos_token_id":1,"eos_token_id":2,"hidden_act":"silu","hidden_size":4096,
                 "initializer_range":0.02,"intermediate_size":14336,"max_position_embeddings":32768,"model_type":"mistral",
                 "num_attention_heads":32,"num_hidden_layers":32,"num_key_value_heads":8,"rms_norm_eps":1e-05,"rope_theta":10000.0,
                 "sliding_window":4096,"tie_word_embeddings":false,"torch_dtype":"bfloat16","vocab_size":32000}""");
        assertThat(c.architecture()).isEqualTo("mistral");
        assertThat(c.headDim()).isEqualTo(128);
        assertThat(c.ropeScaling()).isNull();
        assertThat(c.eosTokenIds()).containsExactly(2);
        assertThat(c.parameterCount()).isEqualTo(7_241_732_096L);
    }

    @Test
    void qwen2HasQkvBiasAndTiedEmbeddings() throws IOException {
        LlamaConfig c = read("""
                {"architectures":["Qwen2ForCausalLM"],"attention_dropout":0.0,"bos_token_id":151643,"eos_token_id":151643,
                 "hidden_act":"silu","hidden_size":896,"initializer_range":0.02,"intermediate_size":4864,"max_position_embeddings":32768,
                 "max_window_layers":24,"model_type":"qwen2","num_attention_heads":14,"num_hidden_layers":24,"num_key_value_heads":2,
                 "rms_norm_eps":1e-06,"rope_theta":1000000.0,"sliding_window":32768,"tie_word_embeddings":true,"torch_dtype":"bfloat16",
                 "use_cache":true,"use_mrope":false,"use_sliding_window":false,"vocab_size":151936}""");
        assertThat(c.architecture()).isEqualTo("qwen2");
        assertThat(c.attentionBias()).isTrue();
        assertThat(c.tieWordEmbeddings()).isTrue();
        assertThat(c.headDim()).isEqualTo(64);
        assertThat(c.rmsNormEps()).isEqualTo(1e-6);
        assertThat(c.parameterCount()).isEqualTo(494_032_768L);
    }

    @Test
    void architectureFromArchitecturesWhenModelTypeIsAbsentAndKvHeadsDefaultToHeads() throws IOException {
        LlamaConfig c = read("""
                {"architectures":["LlamaForCausalLM"],"hidden_size":64,"intermediate_size":128,"num_hidden_layers":2,
                 "num_attention_heads":4,"num_key_value_heads":null,"vocab_size":32,"rope_scaling":null}""");
        assertThat(c.architecture()).isEqualTo("llama");
        assertThat(c.kvHeads()).isEqualTo(4);
        assertThat(c.headDim()).isEqualTo(16);
        assertThat(c.eosTokenIds()).isEmpty();
        assertThat(c.eosTokenId()).isEqualTo(-1);
    }
}
