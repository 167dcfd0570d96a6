package dev.featherweight.contracts;

import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class KvCapacityTest {
    static JsonNode config(int layers, int hidden, int heads, int kvHeads) {
        return Json.MAPPER.readTree("{\"num_hidden_layers\":" + layers + ",\"hidden_size\":" + hidden + ",\"num_attention_heads\":" + heads
                + ",\"num_key_value_heads\":" + kvHeads + "}");
    }

    @Test
    void llama2_13bInFp16OnA100LeavesRoomForFourSequencesOf4096() {
        // seed arithmetic: 2 (K,V) × 2 bytes × 40 layers × 5120 × 4096 tokens = 3,355,443,200 bytes per sequence
        JsonNode c = config(40, 5120, 40, 40);
        var row = KvCapacity.table(c, 26_000_000_000L, List.of("A100-40GB-PCIe"), 4096, "f16").getFirst();
        assertThat(row.kvBytesPerSequence()).isEqualTo(2L * 2 * 40 * 5120 * 4096);
        assertThat(row.maxSequences()).isEqualTo((40_000_000_000L - 26_000_000_000L) / (2L * 2 * 40 * 5120) / 4096);
        assertThat(row.maxSequences()).isEqualTo(4);
    }

    @Test
    void groupedQueryAttentionAndQuantizedKvShrinkTheCache() {
        // Llama-3-8B: 32 layers, 32 heads of 128, 8 KV heads → 2 × 32 × 8 × 128 × 2 bytes
        assertThat(KvCapacity.kvBytesPerToken(config(32, 4096, 32, 8), "f16")).isEqualTo(131_072);
        assertThat(KvCapacity.kvBytesPerToken(config(32, 4096, 32, 1), "f16")).isEqualTo(131_072 / 8);
        assertThat(KvCapacity.kvBytesPerToken(config(32, 4096, 32, 8), "q8_0")).isEqualTo(131_072 / 2 * 34 / 32);
        assertThatThrownBy(() -> KvCapacity.kvBytesPerToken(config(32, 4096, 32, 8), "f8")).hasMessageContaining("kv dtype 'f8'");
    }
}
