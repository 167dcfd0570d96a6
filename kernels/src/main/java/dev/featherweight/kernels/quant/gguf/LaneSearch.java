package dev.featherweight.kernels.quant.gguf;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The K-quant scale searches of {@link QuantSearch} run for eight sub-blocks at once, one sub-block per
 * SIMD lane. Each lane performs exactly the float operations of the scalar C code in exactly its order
 * (the sums still run element by element; only independent sub-blocks share an instruction), so the
 * results are bit-identical to {@link QuantSearch} and to ggml-quants.c — the golden-file tests check
 * that. Per-lane branches become masks: a lane that would leave a loop early simply stops changing.
 *
 * <p>Data are "transposed": element i of lane j lives at index {@code i*LANES + j}; quants are kept as
 * small integers in float arrays (exact) so that no mask has to change element type. The per-lane
 * state (max, sums, best error, …) lives in a float[] {@code st} between small kernels: every kernel
 * is small enough for C2 to inline all vector operations, so no vector is ever boxed. nearest_int is
 * spelled out in each kernel (add 1.5·2^23, read the mantissa bits, clamp, convert) rather than a helper
 * method, because only the Vector API's own force-inlined calls are sure to be inlined.
 */
final class LaneSearch {
    private LaneSearch() {
    }

    /** Sub-blocks searched side by side: the layout of the transposed arrays and of the state slots. */
    static final int LANES = 8;
    /**
     * The CPU's float vectors, at most 8 lanes: a 4-lane CPU (SSE, NEON, {@code -XX:MaxVectorSize=16}) runs each
     * search twice, on lanes 0–3 and 4–7. Lanes never exchange values, so the bytes are the same at every width.
     */
    static final VectorSpecies<Float> F = VectorSpecies.of(float.class, VectorShape.forBitSize(Math.min(256, FloatVector.SPECIES_PREFERRED.vectorBitSize())));
    /** Lanes per vector (4 or 8). */
    static final int W = F.length();

    // Offsets of the per-lane state in st (each 8 floats).
    private static final int MAX = 0, AMAX = 8, MIN = 16, MIN0 = 24, SUMW = 32, SUMX = 40, SCALE = 48, BEST = 56,
            S1 = 64, S2 = 72, S3 = 80, CUR = 88, TSCALE = 96, TMIN = 104;
    /** Size of the state array the searches need. */
    static final int STATE = 112;

    /** Copies {@code lanes} groups of n consecutive values x[xo + n·j + i] into t[i·LANES + j]. */
    static void transpose(float[] x, int xo, int n, int lanes, float[] t) {
        for (int j = 0; j < lanes; j++) {
            for (int i = 0; i < n; i++) t[i * LANES + j] = x[xo + n * j + i];
        }
    }

    /** Copies lane results back: L[lo + n·j + i] = Lt[i·LANES + j]. */
    static void untranspose(float[] Lt, int n, int lanes, byte[] L, int lo) {
        for (int j = 0; j < lanes; j++) {
            for (int i = 0; i < n; i++) L[lo + n * j + i] = (byte) (int) Lt[i * LANES + j];
        }
    }

    // ---------------------------------------------------------------- make_qkx2_quants

    /**
     * {@link QuantSearch#makeQkx2Quants} for eight sub-blocks of n values (xt, wt transposed). Writes
     * the quants to Lt (transposed), the scales to scales[so..so+8) and -min to mins[so..so+8).
     */
    static void makeQkx2Quants(int n, int nmax, float[] xt, float[] wt, float[] Lt, float[] Laux, float[] scales,
                               float[] mins, int so, float rmin, float rdelta, int nstep, boolean useMad, float[] st) {
        for (int h = 0; h < LANES; h += W) { // groups of W lanes: each sub-block's result is independent of the width
            qkx2Init(n, xt, wt, st, h);
            qkx2First(n, nmax, xt, wt, Lt, useMad, st, h);
            for (int is = 0; is <= nstep; ++is) {
                qkx2Sums(n, nmax, rmin + rdelta * is + nmax, xt, wt, Laux, st, h);
                if (qkx2Fit(st, h)) {
                    qkx2Error(n, xt, wt, Laux, useMad, st, h);
                    qkx2Accept(n, Lt, Laux, st, h);
                }
            }
            qkx2Finish(n, Lt, scales, mins, so, st, h);
            }
}

    private static void qkx2Init(int n, float[] xt, float[] wt, float[] st, int h) {
        FloatVector x0 = FloatVector.fromArray(F, xt, h);
        FloatVector min = x0, max = x0;
        FloatVector sumW = FloatVector.fromArray(F, wt, h);
        FloatVector sumX = sumW.mul(x0);
        for (int i = 1; i < n; ++i) {
            FloatVector xi = FloatVector.fromArray(F, xt, i * LANES + h);
            min = min.blend(xi, xi.compare(VectorOperators.LT, min));
            max = max.blend(xi, xi.compare(VectorOperators.GT, max));
            FloatVector w = FloatVector.fromArray(F, wt, i * LANES + h);
            sumW = sumW.add(w);
            sumX = sumX.add(w.mul(xi));
        }
        min = min.blend(0f, min.compare(VectorOperators.GT, 0f));
        min.intoArray(st, MIN + h);
        min.intoArray(st, MIN0 + h);
        max.intoArray(st, MAX + h);
        sumW.intoArray(st, SUMW + h);
        sumX.intoArray(st, SUMX + h);
    }

    private static void qkx2First(int n, int nmax, float[] xt, float[] wt, float[] Lt, boolean useMad, float[] st, int h) {
        FloatVector min = FloatVector.fromArray(F, st, MIN + h);
        FloatVector iscale = FloatVector.broadcast(F, (float) nmax).div(FloatVector.fromArray(F, st, MAX + h).sub(min));
        FloatVector scale = FloatVector.broadcast(F, 1f).div(iscale);
        FloatVector best = FloatVector.zero(F);
        for (int i = 0; i < n; ++i) {
            FloatVector xi = FloatVector.fromArray(F, xt, i * LANES + h);
            FloatVector l = ((FloatVector) iscale.mul(xi.sub(min)).add(12582912.f).reinterpretAsInts().and(0x007fffff).sub(0x00400000).min(nmax).max(0).convert(VectorOperators.I2F, 0));
            l.intoArray(Lt, i * LANES + h);
            FloatVector diff = scale.mul(l).add(min).sub(xi);
            diff = useMad ? diff.abs() : diff.mul(diff);
            best = best.add(FloatVector.fromArray(F, wt, i * LANES + h).mul(diff));
        }
        scale.intoArray(st, SCALE + h);
        best.intoArray(st, BEST + h);
    }

    private static void qkx2Sums(int n, int nmax, float numerator, float[] xt, float[] wt, float[] Laux, float[] st, int h) {
        FloatVector min = FloatVector.fromArray(F, st, MIN + h);
        FloatVector iscale = FloatVector.broadcast(F, numerator).div(FloatVector.fromArray(F, st, MAX + h).sub(min));
        FloatVector sumL = FloatVector.zero(F), sumL2 = FloatVector.zero(F), sumXl = FloatVector.zero(F);
        for (int i = 0; i < n; ++i) {
            FloatVector xi = FloatVector.fromArray(F, xt, i * LANES + h);
            FloatVector l = ((FloatVector) iscale.mul(xi.sub(min)).add(12582912.f).reinterpretAsInts().and(0x007fffff).sub(0x00400000).min(nmax).max(0).convert(VectorOperators.I2F, 0));
            l.intoArray(Laux, i * LANES + h);
            FloatVector wl = FloatVector.fromArray(F, wt, i * LANES + h).mul(l);
            sumL = sumL.add(wl);
            sumL2 = sumL2.add(wl.mul(l));
            sumXl = sumXl.add(wl.mul(xi));
        }
        sumL.intoArray(st, S1 + h);
        sumL2.intoArray(st, S2 + h);
        sumXl.intoArray(st, S3 + h);
    }

    /** Least-squares scale and min of the candidate; false when no lane has D > 0. */
    private static boolean qkx2Fit(float[] st, int h) {
        FloatVector sumW = FloatVector.fromArray(F, st, SUMW + h), sumX = FloatVector.fromArray(F, st, SUMX + h);
        FloatVector sumL = FloatVector.fromArray(F, st, S1 + h), sumL2 = FloatVector.fromArray(F, st, S2 + h), sumXl = FloatVector.fromArray(F, st, S3 + h);
        FloatVector D = sumW.mul(sumL2).sub(sumL.mul(sumL));
        VectorMask<Float> positive = D.compare(VectorOperators.GT, 0f);
        FloatVector thisScale = sumW.mul(sumXl).sub(sumX.mul(sumL)).div(D);
        FloatVector thisMin = sumL2.mul(sumX).sub(sumL.mul(sumXl)).div(D);
        VectorMask<Float> minPositive = thisMin.compare(VectorOperators.GT, 0f);
        thisMin = thisMin.blend(0f, minPositive);
        thisScale = thisScale.blend(sumXl.div(sumL2), minPositive);
        thisScale.intoArray(st, TSCALE + h);
        thisMin.intoArray(st, TMIN + h);
        // A lane without D > 0 must not accept: give it an error that never beats its best.
        FloatVector.broadcast(F, Float.NaN).blend(0f, positive).intoArray(st, CUR + h);
        return positive.anyTrue();
    }

    private static void qkx2Error(int n, float[] xt, float[] wt, float[] Laux, boolean useMad, float[] st, int h) {
        FloatVector thisScale = FloatVector.fromArray(F, st, TSCALE + h), thisMin = FloatVector.fromArray(F, st, TMIN + h);
        FloatVector cur = FloatVector.zero(F);
        for (int i = 0; i < n; ++i) {
            FloatVector diff = thisScale.mul(FloatVector.fromArray(F, Laux, i * LANES + h)).add(thisMin).sub(FloatVector.fromArray(F, xt, i * LANES + h));
            diff = useMad ? diff.abs() : diff.mul(diff);
            cur = cur.add(FloatVector.fromArray(F, wt, i * LANES + h).mul(diff));
        }
        cur.add(FloatVector.fromArray(F, st, CUR + h)).intoArray(st, CUR + h); // + NaN for lanes with D <= 0, + 0 otherwise (exact)
    }

    private static void qkx2Accept(int n, float[] Lt, float[] Laux, float[] st, int h) {
        FloatVector cur = FloatVector.fromArray(F, st, CUR + h), best = FloatVector.fromArray(F, st, BEST + h);
        VectorMask<Float> better = cur.compare(VectorOperators.LT, best);
        if (!better.anyTrue()) return;
        for (int i = 0; i < n; ++i) FloatVector.fromArray(F, Lt, i * LANES + h).blend(FloatVector.fromArray(F, Laux, i * LANES + h), better).intoArray(Lt, i * LANES + h);
        best.blend(cur, better).intoArray(st, BEST + h);
        FloatVector.fromArray(F, st, SCALE + h).blend(FloatVector.fromArray(F, st, TSCALE + h), better).intoArray(st, SCALE + h);
        FloatVector.fromArray(F, st, MIN + h).blend(FloatVector.fromArray(F, st, TMIN + h), better).intoArray(st, MIN + h);
    }

    private static void qkx2Finish(int n, float[] Lt, float[] scales, float[] mins, int so, float[] st, int h) {
        FloatVector min0 = FloatVector.fromArray(F, st, MIN0 + h);
        VectorMask<Float> flat = FloatVector.fromArray(F, st, MAX + h).compare(VectorOperators.EQ, min0); // C: all L = 0, scale 0, the_min = -min
        for (int i = 0; i < n; ++i) FloatVector.fromArray(F, Lt, i * LANES + h).blend(0f, flat).intoArray(Lt, i * LANES + h);
        FloatVector.fromArray(F, st, SCALE + h).blend(0f, flat).intoArray(scales, so + h);
        FloatVector.fromArray(F, st, MIN + h).blend(min0, flat).neg().intoArray(mins, so + h);
    }

    // ---------------------------------------------------------------- make_qx_quants (rmse_type 1, no qw)

    /**
     * {@link QuantSearch#makeQxQuants} with rmse_type 1 for eight sub-blocks of n values, weighted by wt
     * (transposed, the C qw) or, when wt is null, by x²; Lt gets the quants with the +nmax offset,
     * scales[so..so+8) the scales.
     */
    static void makeQxQuants(int n, int nmax, float[] xt, float[] wt, float[] Lt, float[] Laux, float[] scales, int so, float[] st) {
        for (int h = 0; h < LANES; h += W) { // groups of W lanes: each sub-block's result is independent of the width
            signedMaxAbs(n, xt, st, h);
            qxSums(n, nmax, (float) -nmax, xt, wt, Lt, st, h);
            qxFirstScale(st, h);
            for (int is = -9; is <= 9; ++is) {
                if (is == 0) continue;
                qxSums(n, nmax, -(nmax + 0.1f * is), xt, wt, Laux, st, h);
                qxAccept(n, Lt, Laux, st, h);
            }
            zeroSmallLanes(n, 0f, Lt, scales, so, st, h);
            }
}

    /** max = the signed value of largest magnitude (first one on ties), amax = its magnitude. */
    private static void signedMaxAbs(int n, float[] xt, float[] st, int h) {
        FloatVector max = FloatVector.zero(F), amax = FloatVector.zero(F);
        for (int i = 0; i < n; ++i) {
            FloatVector xi = FloatVector.fromArray(F, xt, i * LANES + h);
            FloatVector ax = xi.abs();
            VectorMask<Float> m = ax.compare(VectorOperators.GT, amax);
            amax = amax.blend(ax, m);
            max = max.blend(xi, m);
        }
        max.intoArray(st, MAX + h);
        amax.intoArray(st, AMAX + h);
    }

    private static void qxSums(int n, int nmax, float numerator, float[] xt, float[] wt, float[] Lout, float[] st, int h) {
        FloatVector iscale = FloatVector.broadcast(F, numerator).div(FloatVector.fromArray(F, st, MAX + h));
        FloatVector sumlx = FloatVector.zero(F), suml2 = FloatVector.zero(F);
        for (int i = 0; i < n; ++i) {
            FloatVector xi = FloatVector.fromArray(F, xt, i * LANES + h);
            FloatVector l = ((FloatVector) iscale.mul(xi).add(12582912.f).reinterpretAsInts().and(0x007fffff).sub(0x00400000).min(nmax - 1).max(-nmax).convert(VectorOperators.I2F, 0));
            l.add((float) nmax).intoArray(Lout, i * LANES + h);
            FloatVector w = wt == null ? xi.mul(xi) : FloatVector.fromArray(F, wt, i * LANES + h);
            sumlx = sumlx.add(w.mul(xi).mul(l));
            suml2 = suml2.add(w.mul(l).mul(l));
        }
        sumlx.intoArray(st, S1 + h);
        suml2.intoArray(st, S2 + h);
    }

    private static void qxFirstScale(float[] st, int h) {
        FloatVector sumlx = FloatVector.fromArray(F, st, S1 + h), suml2 = FloatVector.fromArray(F, st, S2 + h);
        FloatVector scale = sumlx.div(suml2).blend(0f, suml2.compare(VectorOperators.EQ, 0f));
        scale.intoArray(st, SCALE + h);
        scale.mul(sumlx).intoArray(st, BEST + h);
    }

    private static void qxAccept(int n, float[] Lt, float[] Laux, float[] st, int h) {
        FloatVector sumlx = FloatVector.fromArray(F, st, S1 + h), suml2 = FloatVector.fromArray(F, st, S2 + h), best = FloatVector.fromArray(F, st, BEST + h);
        VectorMask<Float> better = suml2.compare(VectorOperators.GT, 0f)
                .and(sumlx.mul(sumlx).compare(VectorOperators.GT, best.mul(suml2)));
        if (!better.anyTrue()) return;
        for (int i = 0; i < n; ++i) FloatVector.fromArray(F, Lt, i * LANES + h).blend(FloatVector.fromArray(F, Laux, i * LANES + h), better).intoArray(Lt, i * LANES + h);
        FloatVector s = sumlx.div(suml2);
        FloatVector.fromArray(F, st, SCALE + h).blend(s, better).intoArray(st, SCALE + h);
        best.blend(s.mul(sumlx), better).intoArray(st, BEST + h);
    }

    /** Lanes whose amax is below GROUP_MAX_EPS: all quants 0 and scale 0 (C returns early for them). */
    private static void zeroSmallLanes(int n, float lzero, float[] Lt, float[] scales, int so, float[] st, int h) {
        VectorMask<Float> zero = FloatVector.fromArray(F, st, AMAX + h).compare(VectorOperators.LT, QuantSearch.GROUP_MAX_EPS);
        for (int i = 0; i < n; ++i) FloatVector.fromArray(F, Lt, i * LANES + h).blend(lzero, zero).intoArray(Lt, i * LANES + h);
        FloatVector.fromArray(F, st, SCALE + h).blend(0f, zero).intoArray(scales, so + h);
    }

    // ---------------------------------------------------------------- make_q3_quants (do_rmse)

    /**
     * {@link QuantSearch#makeQ3Quants} with do_rmse for eight sub-blocks of n values: the coordinate
     * descent runs lane-parallel; a lane whose pass changed nothing would change nothing in further
     * passes either, so running the passes while any lane still changes gives each lane its C result.
     * Lt gets the quants with the +nmax offset.
     */
    static void makeQ3Quants(int n, int nmax, float[] xt, float[] Lt, float[] scales, int so, float[] st) {
        for (int h = 0; h < LANES; h += W) { // groups of W lanes: each sub-block's result is independent of the width
            signedMaxAbs(n, xt, st, h);
            q3First(n, nmax, xt, Lt, st, h);
            for (int itry = 0; itry < 5; ++itry) {
                if (!q3Pass(n, nmax, xt, Lt, st, h)) break;
            }
            q3Finish(n, nmax, Lt, st, h);
            zeroSmallLanes(n, 0f, Lt, scales, so, st, h);
            }
}

    private static void q3First(int n, int nmax, float[] xt, float[] Lt, float[] st, int h) {
        FloatVector iscale = FloatVector.broadcast(F, (float) -nmax).div(FloatVector.fromArray(F, st, MAX + h));
        FloatVector sumlx = FloatVector.zero(F), suml2 = FloatVector.zero(F);
        for (int i = 0; i < n; ++i) {
            FloatVector xi = FloatVector.fromArray(F, xt, i * LANES + h);
            FloatVector l = ((FloatVector) iscale.mul(xi).add(12582912.f).reinterpretAsInts().and(0x007fffff).sub(0x00400000).min(nmax - 1).max(-nmax).convert(VectorOperators.I2F, 0));
            l.intoArray(Lt, i * LANES + h);
            FloatVector w = xi.mul(xi);
            sumlx = sumlx.add(w.mul(xi).mul(l));
            suml2 = suml2.add(w.mul(l).mul(l));
        }
        sumlx.intoArray(st, S1 + h);
        suml2.intoArray(st, S2 + h);
    }

    private static boolean q3Pass(int n, int nmax, float[] xt, float[] Lt, float[] st, int h) {
        FloatVector sumlx = FloatVector.fromArray(F, st, S1 + h), suml2 = FloatVector.fromArray(F, st, S2 + h);
        FloatVector changed = FloatVector.zero(F); // 1 in lanes that changed a quant (a vector, not a mask: masks in loop phis get boxed)
        for (int i = 0; i < n; ++i) {
            FloatVector xi = FloatVector.fromArray(F, xt, i * LANES + h);
            FloatVector lf = FloatVector.fromArray(F, Lt, i * LANES + h);
            FloatVector w = xi.mul(xi);
            FloatVector slx = sumlx.sub(w.mul(xi).mul(lf));
            FloatVector sl2 = suml2.sub(w.mul(lf).mul(lf));
            FloatVector nl = ((FloatVector) xi.mul(sl2).div(slx).add(12582912.f).reinterpretAsInts().and(0x007fffff).sub(0x00400000).min(nmax - 1).max(-nmax).convert(VectorOperators.I2F, 0));
            FloatVector slx2 = slx.add(w.mul(xi).mul(nl));
            FloatVector sl22 = sl2.add(w.mul(nl).mul(nl));
            VectorMask<Float> m = slx.compare(VectorOperators.GT, 0f)
                    .and(nl.compare(VectorOperators.NE, lf))
                    .and(sl22.compare(VectorOperators.GT, 0f))
                    .and(slx2.mul(slx2).mul(suml2).compare(VectorOperators.GT, sumlx.mul(sumlx).mul(sl22)));
            // Usually no lane moves: the branch (well predicted) keeps the sums out of a blend chain, so the
            // next element's work can start before this one's compare is known, as in the scalar C loop.
            if (m.anyTrue()) {
                lf.blend(nl, m).intoArray(Lt, i * LANES + h);
                sumlx = sumlx.blend(slx2, m);
                suml2 = suml2.blend(sl22, m);
                changed = changed.blend(1f, m);
            }
        }
        sumlx.intoArray(st, S1 + h);
        suml2.intoArray(st, S2 + h);
        return changed.compare(VectorOperators.NE, 0f).anyTrue();
    }

    private static void q3Finish(int n, int nmax, float[] Lt, float[] st, int h) {
        for (int i = 0; i < n; ++i) FloatVector.fromArray(F, Lt, i * LANES + h).add((float) nmax).intoArray(Lt, i * LANES + h);
        FloatVector sumlx = FloatVector.fromArray(F, st, S1 + h), suml2 = FloatVector.fromArray(F, st, S2 + h);
        sumlx.div(suml2).blend(0f, suml2.compare(VectorOperators.GT, 0f).not()).intoArray(st, SCALE + h);
    }

    // ---------------------------------------------------------------- IQ4_NL (quantize_row_iq4_nl_impl, 32/32, ntry 7)

    private static final float[] KV = new float[16];

    static {
        for (int k = 0; k < 16; k++) KV[k] = IQ4_NLCodec.KVALUES[k];
    }

    /** Offsets in st for the IQ4_NL search (reusing the generic slots). */
    private static final int ID = TSCALE;

    /**
     * {@code quantize_row_iq4_nl_impl(32, 32, …, ntry = 7)} for eight 32-blocks (xt, wt transposed; wt are
     * the weights already: x² or qw·sqrt(σ² + x²)). Writes the unrounded block scales to scales[0..8) and
     * the final table indices to Lt. best_index_int8 is computed without branches: the bisection of the
     * C code ends at the pair (ml, ml+1) with val[ml] ≤ a &lt; val[ml+1] (ml = number of val[1..14] ≤ a),
     * then picks ml when a - val[ml] &lt; val[ml+1] - a, which also gives 0 below val[0] and 15 above val[15].
     */
    static void iq4nl(float[] xt, float[] wt, float[] Lt, float[] scales, float[] st) {
        for (int h = 0; h < LANES; h += W) { // groups of W lanes: each sub-block's result is independent of the width
            signedMaxAbs(32, xt, st, h);
            FloatVector max = FloatVector.fromArray(F, st, MAX + h);
            FloatVector d = max.neg().div(KV[0]);
            FloatVector.broadcast(F, 1f).div(d).intoArray(st, ID + h);
            iq4Sums(xt, wt, Lt, st, h);
            FloatVector sumqx = FloatVector.fromArray(F, st, S1 + h), sumq2 = FloatVector.fromArray(F, st, S2 + h);
            d = sumqx.div(sumq2);
            d.intoArray(st, SCALE + h);
            d.mul(sumqx).intoArray(st, BEST + h);
            for (int itry = -7; itry <= 7; ++itry) {
                FloatVector.broadcast(F, (float) (itry + IQ4_NLCodec.KVALUES[0])).div(FloatVector.fromArray(F, st, MAX + h)).intoArray(st, ID + h);
                iq4Sums(xt, wt, null, st, h);
                iq4Accept(st, h);
            }
            VectorMask<Float> zero = FloatVector.fromArray(F, st, AMAX + h).compare(VectorOperators.LT, QuantSearch.GROUP_MAX_EPS);
            FloatVector scale = FloatVector.fromArray(F, st, SCALE + h).blend(0f, zero);
            scale.intoArray(scales, h);
            FloatVector.broadcast(F, 1f).div(scale).blend(0f, scale.compare(VectorOperators.EQ, 0f)).intoArray(st, ID + h);
            iq4Indices(xt, Lt, st, h);
            }
}

    private static void iq4Sums(float[] xt, float[] wt, float[] Lout, float[] st, int h) {
        FloatVector id = FloatVector.fromArray(F, st, ID + h);
        FloatVector sumqx = FloatVector.zero(F), sumq2 = FloatVector.zero(F);
        for (int i = 0; i < 32; ++i) {
            FloatVector xi = FloatVector.fromArray(F, xt, i * LANES + h);
            FloatVector a = id.mul(xi);
            FloatVector lo = FloatVector.broadcast(F, KV[0]), hi = FloatVector.broadcast(F, KV[1]), ml = FloatVector.zero(F);
            for (int k = 1; k < 15; k++) {
                VectorMask<Float> m = a.compare(VectorOperators.GE, KV[k]);
                lo = lo.blend(KV[k], m);
                hi = hi.blend(KV[k + 1], m);
                ml = ml.blend((float) k, m);
            }
            VectorMask<Float> lower = a.sub(lo).compare(VectorOperators.LT, hi.sub(a));
            if (Lout != null) ml.add(1f).blend(ml, lower).intoArray(Lout, i * LANES + h);
            FloatVector q = hi.blend(lo, lower);
            FloatVector wq = FloatVector.fromArray(F, wt, i * LANES + h).mul(q);
            sumqx = sumqx.add(wq.mul(xi));
            sumq2 = sumq2.add(wq.mul(q));
        }
        sumqx.intoArray(st, S1 + h);
        sumq2.intoArray(st, S2 + h);
    }

    private static void iq4Accept(float[] st, int h) {
        FloatVector sumqx = FloatVector.fromArray(F, st, S1 + h), sumq2 = FloatVector.fromArray(F, st, S2 + h);
        FloatVector best = FloatVector.fromArray(F, st, BEST + h);
        VectorMask<Float> better = sumq2.compare(VectorOperators.GT, 0f)
                .and(sumqx.mul(sumqx).compare(VectorOperators.GT, best.mul(sumq2)));
        FloatVector d = sumqx.div(sumq2);
        FloatVector.fromArray(F, st, SCALE + h).blend(d, better).intoArray(st, SCALE + h);
        best.blend(d.mul(sumqx), better).intoArray(st, BEST + h);
    }

    private static void iq4Indices(float[] xt, float[] Lt, float[] st, int h) {
        FloatVector id = FloatVector.fromArray(F, st, ID + h);
        for (int i = 0; i < 32; ++i) {
            FloatVector a = id.mul(FloatVector.fromArray(F, xt, i * LANES + h));
            FloatVector lo = FloatVector.broadcast(F, KV[0]), hi = FloatVector.broadcast(F, KV[1]), ml = FloatVector.zero(F);
            for (int k = 1; k < 15; k++) {
                VectorMask<Float> m = a.compare(VectorOperators.GE, KV[k]);
                lo = lo.blend(KV[k], m);
                hi = hi.blend(KV[k + 1], m);
                ml = ml.blend((float) k, m);
            }
            VectorMask<Float> lower = a.sub(lo).compare(VectorOperators.LT, hi.sub(a));
            ml.add(1f).blend(ml, lower).intoArray(Lt, i * LANES + h);
        }
    }

    // ---------------------------------------------------------------- final quants of the K-quants

    /**
     * The last step of every K-quant: {@code L[lo+i] = clamp(nearest_int((x[xo+i] + add)/d), min, max) + offset}
     * for i in [0, n), n a multiple of 8 — lane-wise IEEE division, so identical to the scalar loop
     * (with add = 0, x + 0 only turns -0 into +0, which rounds to the same 0).
     */
    static void requantize(float[] x, int xo, int n, float add, float d, int min, int max, int offset, byte[] L, int lo, int[] tmp) {
        FloatVector vd = FloatVector.broadcast(F, d);
        for (int i = 0; i < n; i += W) {
            FloatVector v = FloatVector.fromArray(F, x, xo + i).add(add).div(vd);
            v.add(12582912.f).reinterpretAsInts().and(0x007fffff).sub(0x00400000).min(max).max(min).add(offset).intoArray(tmp, 0);
            for (int k = 0; k < W; k++) L[lo + i + k] = (byte) tmp[k];
        }
    }

    // ---------------------------------------------------------------- legacy 32-blocks

    /**
     * {@code q[j] = min(maxq, (int) ((x[xo+j] - sub)·id + bias))} for the 32 values of a legacy block: the
     * truncating conversion of quantize_row_q4_1_ref / q5_1_ref, lane-wise (same float operations per value).
     */
    static void truncQuants32(float[] x, int xo, float sub, float id, float bias, int maxq, int[] q) {
        for (int i = 0; i < 32; i += W) {
            FloatVector v = FloatVector.fromArray(F, x, xo + i).sub(sub).mul(id).add(bias);
            ((IntVector) v.convert(VectorOperators.F2I, 0)).min(maxq).intoArray(q, i);
        }
    }

    /** Minimum and maximum of 32 values (lane-wise min/max are exact; the caller redoes zero/NaN cases in C order). */
    static void minMax32(float[] x, int xo, float[] out) {
        FloatVector mn = FloatVector.fromArray(F, x, xo), mx = mn;
        for (int i = W; i < 32; i += W) {
            FloatVector v = FloatVector.fromArray(F, x, xo + i);
            mn = mn.min(v);
            mx = mx.max(v);
        }
        out[0] = mn.reduceLanes(VectorOperators.MIN);
        out[1] = mx.reduceLanes(VectorOperators.MAX);
    }
}
