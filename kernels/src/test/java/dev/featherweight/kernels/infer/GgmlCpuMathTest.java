package dev.featherweight.kernels.infer;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The rope cache against glibc's own cosf/sinf bits (src/test/resources/llamacpp/glibc-rope-sincosf.txt, written by a
 * tiny C program on this project's reference platform): all 4096 angles of 256 positions × 16 pairs, and by name the
 * 90 where glibc is not correctly rounded (Math.cos/Math.sin rounded to float would miss those).
 */
class GgmlCpuMathTest {
    static List<String> fixture() throws Exception {
        try (var in = GgmlCpuMathTest.class.getResourceAsStream("/llamacpp/glibc-rope-sincosf.txt")) {
            return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII).lines().filter(l -> !l.startsWith("#")).toList();
        }
    }

    @Test
    void ropeCacheIsGlibcsCosfAndSinfForEveryAngle() throws Exception {
        List<String> lines = fixture();
        float[] cos = new float[256 * 16], sin = new float[256 * 16];
        GgmlCpuMath.ropeCache(10000, 32, 256, cos, sin);
        ByteBuffer all = ByteBuffer.allocate(256 * 16 * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 256 * 16; i++) all.putInt(Float.floatToRawIntBits(cos[i])).putInt(Float.floatToRawIntBits(sin[i]));
        assertThat("all " + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(all.array()))).isEqualTo(lines.getFirst());

        int notCorrectlyRounded = 0;
        for (String l : lines.subList(1, lines.size())) {
            String[] f = l.split(" ");
            int at = Integer.parseInt(f[0]) * 16 + Integer.parseInt(f[1]);
            assertThat(Integer.toHexString(Float.floatToRawIntBits(cos[at]))).as(l).isEqualTo(f[2]);
            assertThat(Integer.toHexString(Float.floatToRawIntBits(sin[at]))).as(l).isEqualTo(f[3]);
            notCorrectlyRounded++;
        }
        assertThat(notCorrectlyRounded).isEqualTo(90);
    }

    @Test
    void expfOfBothBuildsIsCloseToExpAndHandlesTheRangeEnds() {
        for (int lanes : new int[] {8, 16}) {
            for (float x = -87f; x <= 88f; x += 0.37f) { // normal results: the error bound is relative
                double exact = Math.exp(x);
                assertThat((double) GgmlCpuMath.expf(x, lanes)).as("x %s, %d lanes", x, lanes).isCloseTo(exact, org.assertj.core.data.Percentage.withPercentage(1e-4));
            }
            assertThat(GgmlCpuMath.expf(Float.NEGATIVE_INFINITY, lanes)).isZero();
            assertThat(GgmlCpuMath.expf(-200f, lanes)).isZero();
            assertThat(GgmlCpuMath.expf(200f, lanes)).isInfinite();
            assertThat(GgmlCpuMath.expf(0f, lanes)).isEqualTo(1f);
        }
    }
}
