package dev.featherweight.kernels.formats.hf;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/** The linear modules of a Llama block under their two names. */
public final class HfModules {
    private HfModules() {
    }

    /** Block module name as the forward pass and GGUF call it ("attn_q") → Hugging Face module suffix ("self_attn.q_proj"), in block order. */
    public static final Map<String, String> BY_BLOCK_MODULE;

    static {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("attn_q", "self_attn.q_proj");
        m.put("attn_k", "self_attn.k_proj");
        m.put("attn_v", "self_attn.v_proj");
        m.put("attn_output", "self_attn.o_proj");
        m.put("ffn_gate", "mlp.gate_proj");
        m.put("ffn_up", "mlp.up_proj");
        m.put("ffn_down", "mlp.down_proj");
        BY_BLOCK_MODULE = Collections.unmodifiableMap(m);
    }
}
