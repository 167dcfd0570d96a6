package dev.featherweight.kernels;

import dev.featherweight.kernels.core.GgmlType;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class GgmlTypeTest {
    @Test
    void bitsPerWeightFollowTheBlockLayouts() {
        assertThat(GgmlType.Q4_0.bitsPerWeight()).isEqualTo(4.5);
        assertThat(GgmlType.Q4_K.bitsPerWeight()).isEqualTo(4.5);
        assertThat(GgmlType.Q6_K.bitsPerWeight()).isEqualTo(6.5625);
        assertThat(GgmlType.Q2_K.bitsPerWeight()).isEqualTo(2.625);
        assertThat(GgmlType.byId(30)).isEqualTo(GgmlType.BF16);
        assertThat(GgmlType.byId(99)).isNull();
    }

    @Test
    void rowBytesRejectsRowsThatAreNotWholeBlocks() {
        assertThat(GgmlType.Q8_0.rowBytes(256)).isEqualTo(8 * 34);
        assertThatThrownBy(() -> GgmlType.Q4_K.rowBytes(288)).hasMessageContaining("multiple of 256");
    }
}
