package dev.featherweight.kernels.quant.gguf;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
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

    static final VectorSpecies<Float> F = FloatVector.SPECIES_256;
    static final int LANES = 8;

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
        qkx2Init(n, xt, wt, st);
        qkx2First(n, nmax, xt, wt, Lt, useMad, st);
        for (int is = 0; is <= nstep; ++is) {
            qkx2Sums(n, nmax, rmin + rdelta * is + nmax, xt, wt, Laux, st);
            if (qkx2Fit(st)) {
                qkx2Error(n, xt, wt, Laux, useMad, st);
                qkx2Accept(n, Lt, Laux, st);
            }
        }
        qkx2Finish(n, Lt, scales, mins, so, st);
    }

    private static void qkx2Init(int n, float[] xt, float[] wt, float[] st) {
        FloatVector x0 = FloatVector.fromArray(F, xt, 0);
        FloatVector min = x0, max = x0;
        FloatVector sumW = FloatVector.fromArray(F, wt, 0);
        FloatVector sumX = sumW.mul(x0);
        for (int i = 1; i < n; ++i) {
            FloatVector xi = FloatVector.fromArray(F, xt, i * LANES);
            min = min.blend(xi, xi.compare(VectorOperators.LT, min));
            max = max.blend(xi, xi.compare(VectorOperators.GT, max));
            FloatVector w = FloatVector.fromArray(F, wt, i * LANES);
            sumW = sumW.add(w);
            sumX = sumX.add(w.mul(xi));
        }
        min = min.blend(0f, min.compare(VectorOperators.GT, 0f));
        min.intoArray(st, MIN);
        min.intoArray(st, MIN0);
        max.intoArray(st, MAX);
        sumW.intoArray(st, SUMW);
        sumX.intoArray(st, SUMX);
    }

    private static void qkx2First(int n, int nmax, float[] xt, float[] wt, float[] Lt, boolean useMad, float[] st) {
        FloatVector min = FloatVector.fromArray(F, st, MIN);
        FloatVector iscale = FloatVector.broadcast(F, (float) nmax).div(FloatVector.fromArray(F, st, MAX).sub(min));
        FloatVector scale = FloatVector.broadcast(F, 1f).div(iscale);
        FloatVector best = FloatVector.zero(F);
        for (int i = 0; i < n; ++i) {
            FloatVector xi = FloatVector.fromArray(F, xt, i * LANES);
            FloatVector l = ((FloatVector) iscale.mul(xi.sub(min)).add(12582912.f).reinterpretAsInts().and(0x007fffff).sub(0x00400000).min(nmax).max(0).convert(VectorOperators.I2F, 0));
            l.intoArray(Lt, i * LANES);
            FloatVector diff = scale.mul(l).add(min).sub(xi);
            diff = useMad ? diff.abs() : diff.mul(diff);
            best = best.add(FloatVector.fromArray(F, wt, i * LANES).mul(diff));
        }
        scale.intoArray(st, SCALE);
        best.intoArray(st, BEST);
    }

    private static void qkx2Sums(int n, int nmax, float numerator, float[] xt, float[] wt, float[] Laux, float[] st) {
        FloatVector min = FloatVector.fromArray(F, st, MIN);
        FloatVector iscale = FloatVector.broadcast(F, numerator).div(FloatVector.fromArray(F, st, MAX).sub(min));
        FloatVector sumL = FloatVector.zero(F), sumL2 = FloatVector.zero(F), sumXl = FloatVector.zero(F);
        for (int i = 0; i < n; ++i) {
            FloatVector xi = FloatVector.fromArray(F, xt, i * LANES);
            FloatVector l = ((FloatVector) iscale.mul(xi.sub(min)).add(12582912.f).reinterpretAsInts().and(0x007fffff).sub(0x00400000).min(nmax).max(0).convert(VectorOperators.I2F, 0));
            l.intoArray(Laux, i * LANES);
            FloatVector wl = FloatVector.fromArray(F, wt, i * LANES).mul(l);
            sumL = sumL.add(wl);
            sumL2 = sumL2.add(wl.mul(l));
            sumXl = sumXl.add(wl.mul(xi));
        }
        sumL.intoArray(st, S1);
        sumL2.intoArray(st, S2);
        sumXl.intoArray(st, S3);
    }

    /** Least-squares scale and min of the candidate; false when no lane has D > 0. */
    private static boolean qkx2Fit(float[] st) {
        FloatVector sumW = FloatVector.fromArray(F, st, SUMW), sumX = FloatVector.fromArray(F, st, SUMX);
        FloatVector sumL = FloatVector.fromArray(F, st, S1), sumL2 = FloatVector.fromArray(F, st, S2), sumXl = FloatVector.fromArray(F, st, S3);
        FloatVector D = sumW.mul(sumL2).sub(sumL.mul(sumL));
        VectorMask<Float> positive = D.compare(VectorOperators.GT, 0f);
        FloatVector thisScale = sumW.mul(sumXl).sub(sumX.mul(sumL)).div(D);
        FloatVector thisMin = sumL2.mul(sumX).sub(sumL.mul(sumXl)).div(D);
        VectorMask<Float> minPositive = thisMin.compare(VectorOperators.GT, 0f);
        thisMin = thisMin.blend(0f, minPositive);
        thisScale = thisScale.blend(sumXl.div(sumL2), minPositive);
        thisScale.intoArray(st, TSCALE);
        thisMin.intoArray(st, TMIN);
        // A lane without D > 0 must not accept: give it an error that never beats its best.
        FloatVector.broadcast(F, Float.NaN).blend(0f, positive).intoArray(st, CUR);
        return positive.anyTrue();
    }

    private static void qkx2Error(int n, float[] xt, float[] wt, float[] Laux, boolean useMad, float[] st) {
        FloatVector thisScale = FloatVector.fromArray(F, st, TSCALE), thisMin = FloatVector.fromArray(F, st, TMIN);
        FloatVector cur = FloatVector.zero(F);
        for (int i = 0; i < n; ++i) {
            FloatVector diff = thisScale.mul(FloatVector.fromArray(F, Laux, i * LANES)).add(thisMin).sub(FloatVector.fromArray(F, xt, i * LANES));
            diff = useMad ? diff.abs() : diff.mul(diff);
            cur = cur.add(FloatVector.fromArray(F, wt, i * LANES).mul(diff));
        }
        cur.add(FloatVector.fromArray(F, st, CUR)).intoArray(st, CUR); // + NaN for lanes with D <= 0, + 0 otherwise (exact)
    }

    private static void qkx2Accept(int n, float[] Lt, float[] Laux, float[] st) {
        FloatVector cur = FloatVector.fromArray(F, st, CUR), best = FloatVector.fromArray(F, st, BEST);
        VectorMask<Float> better = cur.compare(VectorOperators.LT, best);
        if (!better.anyTrue()) return;
        for (int i = 0; i < n; ++i) FloatVector.fromArray(F, Lt, i * LANES).blend(FloatVector.fromArray(F, Laux, i * LANES), better).intoArray(Lt, i * LANES);
        best.blend(cur, better).intoArray(st, BEST);
        FloatVector.fromArray(F, st, SCALE).blend(FloatVector.fromArray(F, st, TSCALE), better).intoArray(st, SCALE);
        FloatVector.fromArray(F, st, MIN).blend(FloatVector.fromArray(F, st, TMIN), better).intoArray(st, MIN);
    }

    private static void qkx2Finish(int n, float[] Lt, float[] scales, float[] mins, int so, float[] st) {
        FloatVector min0 = FloatVector.fromArray(F, st, MIN0);
        VectorMask<Float> flat = FloatVector.fromArray(F, st, MAX).compare(VectorOperators.EQ, min0); // C: all L = 0, scale 0, the_min = -min
        for (int i = 0; i < n; ++i) FloatVector.fromArray(F, Lt, i * LANES).blend(0f, flat).intoArray(Lt, i * LANES);
        FloatVector.fromArray(F, st, SCALE).blend(0f, flat).intoArray(scales, so);
        FloatVector.fromArray(F, st, MIN).blend(min0, flat).neg().intoArray(mins, so);
    }

    // ---------------------------------------------------------------- make_qx_quants (rmse_type 1, no qw)

    /**
     * {@link QuantSearch#makeQxQuants} with rmse_type 1 for eight sub-blocks of n values, weighted by wt
     * (transposed, the C qw) or, when wt is null, by x²; Lt gets the quants with the +nmax offset,
     * scales[so..so+8) the scales.
     */
    static void makeQxQuants(int n, int nmax, float[] xt, float[] wt, float[] Lt, float[] Laux, float[] scales, int so, float[] st) {
        signedMaxAbs(n, xt, st);
        qxSums(n, nmax, (float) -nmax, xt, wt, Lt, st);
        qxFirstScale(st);
        for (int is = -9; is <= 9; ++is) {
            if (is == 0) continue;
            qxSums(n, nmax, -(nmax + 0.1f * is), xt, wt, Laux, st);
            qxAccept(n, Lt, Laux, st);
        }
        zeroSmallLanes(n, 0f, Lt, scales, so, st);
    }

    /** max = the signed value of largest magnitude (first one on ties), amax = its magnitude. */
    private static void signedMaxAbs(int n, float[] xt, float[] st) {
        FloatVector max = FloatVector.zero(F), amax = FloatVector.zero(F);
        for (int i = 0; i < n; ++i) {
            FloatVector xi = FloatVector.fromArray(F, xt, i * LANES);
            FloatVector ax = xi.abs();
            VectorMask<Float> m = ax.compare(VectorOperators.GT, amax);
            amax = amax.blend(ax, m);
            max = max.blend(xi, m);
        }
        max.intoArray(st, MAX);
        amax.intoArray(st, AMAX);
    }

    private static void qxSums(int n, int nmax, float numerator, float[] xt, float[] wt, float[] Lout, float[] st) {
        FloatVector iscale = FloatVector.broadcast(F, numerator).div(FloatVector.fromArray(F, st, MAX));
        FloatVector sumlx = FloatVector.zero(F), suml2 = FloatVector.zero(F);
        for (int i = 0; i < n; ++i) {
            FloatVector xi = FloatVector.fromArray(F, xt, i * LANES);
            FloatVector l = ((FloatVector) iscale.mul(xi).add(12582912.f).reinterpretAsInts().and(0x007fffff).sub(0x00400000).min(nmax - 1).max(-nmax).convert(VectorOperators.I2F, 0));
            l.add((float) nmax).intoArray(Lout, i * LANES);
            FloatVector w = wt == null ? xi.mul(xi) : FloatVector.fromArray(F, wt, i * LANES);
            sumlx = sumlx.add(w.mul(xi).mul(l));
            suml2 = suml2.add(w.mul(l).mul(l));
        }
        sumlx.intoArray(st, S1);
        suml2.intoArray(st, S2);
    }

    private static void qxFirstScale(float[] st) {
        FloatVector sumlx = FloatVector.fromArray(F, st, S1), suml2 = FloatVector.fromArray(F, st, S2);
        FloatVector scale = sumlx.div(suml2).blend(0f, suml2.compare(VectorOperators.EQ, 0f));
        scale.intoArray(st, SCALE);
        scale.mul(sumlx).intoArray(st, BEST);
    }

    private static void qxAccept(int n, float[] Lt, float[] Laux, float[] st) {
        FloatVector sumlx = FloatVector.fromArray(F, st, S1), suml2 = FloatVector.fromArray(F, st, S2), best = FloatVector.fromArray(F, st, BEST);
        VectorMask<Float> better = suml2.compare(VectorOperators.GT, 0f)
                .and(sumlx.mul(sumlx).compare(VectorOperators.GT, best.mul(suml2)));
        if (!better.anyTrue()) return;
        for (int i = 0; i < n; ++i) FloatVector.fromArray(F, Lt, i * LANES).blend(FloatVector.fromArray(F, Laux, i * LANES), better).intoArray(Lt, i * LANES);
        FloatVector s = sumlx.div(suml2);
        FloatVector.fromArray(F, st, SCALE).blend(s, better).intoArray(st, SCALE);
        best.blend(s.mul(sumlx), better).intoArray(st, BEST);
    }

    /** Lanes whose amax is below GROUP_MAX_EPS: all quants 0 and scale 0 (C returns early for them). */
    private static void zeroSmallLanes(int n, float lzero, float[] Lt, float[] scales, int so, float[] st) {
        VectorMask<Float> zero = FloatVector.fromArray(F, st, AMAX).compare(VectorOperators.LT, QuantSearch.GROUP_MAX_EPS);
        for (int i = 0; i < n; ++i) FloatVector.fromArray(F, Lt, i * LANES).blend(lzero, zero).intoArray(Lt, i * LANES);
        FloatVector.fromArray(F, st, SCALE).blend(0f, zero).intoArray(scales, so);
    }

    // ---------------------------------------------------------------- make_q3_quants (do_rmse)

    /**
     * {@link QuantSearch#makeQ3Quants} with do_rmse for eight sub-blocks of n values: the coordinate
     * descent runs lane-parallel; a lane whose pass changed nothing would change nothing in further
     * passes either, so running the passes while any lane still changes gives each lane its C result.
     * Lt gets the quants with the +nmax offset.
     */
    static void makeQ3Quants(int n, int nmax, float[] xt, float[] Lt, float[] scales, int so, float[] st) {
        signedMaxAbs(n, xt, st);
        q3First(n, nmax, xt, Lt, st);
        for (int itry = 0; itry < 5; ++itry) {
            if (!q3Pass(n, nmax, xt, Lt, st)) break;
        }
        q3Finish(n, nmax, Lt, st);
        zeroSmallLanes(n, 0f, Lt, scales, so, st);
    }

    private static void q3First(int n, int nmax, float[] xt, float[] Lt, float[] st) {
        FloatVector iscale = FloatVector.broadcast(F, (float) -nmax).div(FloatVector.fromArray(F, st, MAX));
        FloatVector sumlx = FloatVector.zero(F), suml2 = FloatVector.zero(F);
        for (int i = 0; i < n; ++i) {
            FloatVector xi = FloatVector.fromArray(F, xt, i * LANES);
            FloatVector l = ((FloatVector) iscale.mul(xi).add(12582912.f).reinterpretAsInts().and(0x007fffff).sub(0x00400000).min(nmax - 1).max(-nmax).convert(VectorOperators.I2F, 0));
            l.intoArray(Lt, i * LANES);
            FloatVector w = xi.mul(xi);
            sumlx = sumlx.add(w.mul(xi).mul(l));
            suml2 = suml2.add(w.mul(l).mul(l));
        }
        sumlx.intoArray(st, S1);
        suml2.intoArray(st, S2);
    }

    private static boolean q3Pass(int n, int nmax, float[] xt, float[] Lt, float[] st) {
        FloatVector sumlx = FloatVector.fromArray(F, st, S1), suml2 = FloatVector.fromArray(F, st, S2);
        FloatVector changed = FloatVector.zero(F); // 1 in lanes that changed a quant (a vector, not a mask: masks in loop phis get boxed)
        for (int i = 0; i < n; ++i) {
            FloatVector xi = FloatVector.fromArray(F, xt, i * LANES);
            FloatVector lf = FloatVector.fromArray(F, Lt, i * LANES);
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
            lf.blend(nl, m).intoArray(Lt, i * LANES);
            sumlx = sumlx.blend(slx2, m);
            suml2 = suml2.blend(sl22, m);
            changed = changed.blend(1f, m);
        }
        sumlx.intoArray(st, S1);
        suml2.intoArray(st, S2);
        return changed.compare(VectorOperators.NE, 0f).anyTrue();
    }

    private static void q3Finish(int n, int nmax, float[] Lt, float[] st) {
        for (int i = 0; i < n; ++i) FloatVector.fromArray(F, Lt, i * LANES).add((float) nmax).intoArray(Lt, i * LANES);
        FloatVector sumlx = FloatVector.fromArray(F, st, S1), suml2 = FloatVector.fromArray(F, st, S2);
        sumlx.div(suml2).blend(0f, suml2.compare(VectorOperators.GT, 0f).not()).intoArray(st, SCALE);
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
        signedMaxAbs(32, xt, st);
        FloatVector max = FloatVector.fromArray(F, st, MAX);
        FloatVector d = max.neg().div(KV[0]);
        FloatVector.broadcast(F, 1f).div(d).intoArray(st, ID);
        iq4Sums(xt, wt, Lt, st);
        FloatVector sumqx = FloatVector.fromArray(F, st, S1), sumq2 = FloatVector.fromArray(F, st, S2);
        d = sumqx.div(sumq2);
        d.intoArray(st, SCALE);
        d.mul(sumqx).intoArray(st, BEST);
        for (int itry = -7; itry <= 7; ++itry) {
            FloatVector.broadcast(F, (float) (itry + IQ4_NLCodec.KVALUES[0])).div(FloatVector.fromArray(F, st, MAX)).intoArray(st, ID);
            iq4Sums(xt, wt, null, st);
            iq4Accept(st);
        }
        VectorMask<Float> zero = FloatVector.fromArray(F, st, AMAX).compare(VectorOperators.LT, QuantSearch.GROUP_MAX_EPS);
        FloatVector scale = FloatVector.fromArray(F, st, SCALE).blend(0f, zero);
        scale.intoArray(scales, 0);
        FloatVector.broadcast(F, 1f).div(scale).blend(0f, scale.compare(VectorOperators.EQ, 0f)).intoArray(st, ID);
        iq4Indices(xt, Lt, st);
    }

    private static void iq4Sums(float[] xt, float[] wt, float[] Lout, float[] st) {
        FloatVector id = FloatVector.fromArray(F, st, ID);
        FloatVector sumqx = FloatVector.zero(F), sumq2 = FloatVector.zero(F);
        for (int i = 0; i < 32; ++i) {
            FloatVector xi = FloatVector.fromArray(F, xt, i * LANES);
            FloatVector a = id.mul(xi);
            FloatVector lo = FloatVector.broadcast(F, KV[0]), hi = FloatVector.broadcast(F, KV[1]), ml = FloatVector.zero(F);
            for (int k = 1; k < 15; k++) {
                VectorMask<Float> m = a.compare(VectorOperators.GE, KV[k]);
                lo = lo.blend(KV[k], m);
                hi = hi.blend(KV[k + 1], m);
                ml = ml.blend((float) k, m);
            }
            VectorMask<Float> lower = a.sub(lo).compare(VectorOperators.LT, hi.sub(a));
            if (Lout != null) ml.add(1f).blend(ml, lower).intoArray(Lout, i * LANES);
            FloatVector q = hi.blend(lo, lower);
            FloatVector wq = FloatVector.fromArray(F, wt, i * LANES).mul(q);
            sumqx = sumqx.add(wq.mul(xi));
            sumq2 = sumq2.add(wq.mul(q));
        }
        sumqx.intoArray(st, S1);
        sumq2.intoArray(st, S2);
    }

    private static void iq4Accept(float[] st) {
        FloatVector sumqx = FloatVector.fromArray(F, st, S1), sumq2 = FloatVector.fromArray(F, st, S2);
        FloatVector best = FloatVector.fromArray(F, st, BEST);
        VectorMask<Float> better = sumq2.compare(VectorOperators.GT, 0f)
                .and(sumqx.mul(sumqx).compare(VectorOperators.GT, best.mul(sumq2)));
        FloatVector d = sumqx.div(sumq2);
        FloatVector.fromArray(F, st, SCALE).blend(d, better).intoArray(st, SCALE);
        best.blend(d.mul(sumqx), better).intoArray(st, BEST);
    }

    private static void iq4Indices(float[] xt, float[] Lt, float[] st) {
        FloatVector id = FloatVector.fromArray(F, st, ID);
        for (int i = 0; i < 32; ++i) {
            FloatVector a = id.mul(FloatVector.fromArray(F, xt, i * LANES));
            FloatVector lo = FloatVector.broadcast(F, KV[0]), hi = FloatVector.broadcast(F, KV[1]), ml = FloatVector.zero(F);
            for (int k = 1; k < 15; k++) {
                VectorMask<Float> m = a.compare(VectorOperators.GE, KV[k]);
                lo = lo.blend(KV[k], m);
                hi = hi.blend(KV[k + 1], m);
                ml = ml.blend((float) k, m);
            }
            VectorMask<Float> lower = a.sub(lo).compare(VectorOperators.LT, hi.sub(a));
            ml.add(1f).blend(ml, lower).intoArray(Lt, i * LANES);
        }
    }
}
