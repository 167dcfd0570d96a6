package dev.featherweight.catalog.capacity;

import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Prompt or output lengths: "fixed:N", "uniform:A:B", "normal:MEAN:SD", "lognormal:MU:SIGMA" (of ln tokens),
 * or a bare number (fixed). Samples are clamped to [1, max].
 */
public interface LengthDistribution {
    int sample(SplittableRandom rnd);

    double mean();

    static LengthDistribution parse(String spec) {
        String[] p = spec.trim().toLowerCase(Locale.ROOT).split(":");
        try {
            if (p.length == 1) return fixed(Integer.parseInt(p[0]));
            return switch (p[0]) {
                case "fixed" -> fixed(Integer.parseInt(p[1]));
                case "uniform" -> {
                    int a = Integer.parseInt(p[1]), b = Integer.parseInt(p[2]);
                    if (a < 1 || b < a) throw new CapacityException("uniform needs 1 ≤ A ≤ B: " + spec);
                    yield new LengthDistribution() {
                        public int sample(SplittableRandom r) {
                            return r.nextInt(a, b + 1);
                        }

                        public double mean() {
                            return (a + b) / 2.0;
                        }
                    };
                }
                case "normal" -> {
                    double m = Double.parseDouble(p[1]), sd = Double.parseDouble(p[2]);
                    yield new LengthDistribution() {
                        public int sample(SplittableRandom r) {
                            return (int) Math.max(1, Math.round(m + sd * gaussian(r)));
                        }

                        public double mean() {
                            return m;
                        }
                    };
                }
                case "lognormal" -> {
                    double mu = Double.parseDouble(p[1]), sigma = Double.parseDouble(p[2]);
                    yield new LengthDistribution() {
                        public int sample(SplittableRandom r) {
                            return (int) Math.max(1, Math.round(Math.exp(mu + sigma * gaussian(r))));
                        }

                        public double mean() {
                            return Math.exp(mu + sigma * sigma / 2);
                        }
                    };
                }
                default -> throw new CapacityException("unknown length distribution '" + spec + "' (fixed:N, uniform:A:B, normal:M:SD, lognormal:MU:SIGMA)");
            };
        } catch (NumberFormatException | ArrayIndexOutOfBoundsException e) {
            throw new CapacityException("malformed length distribution '" + spec + "'");
        }
    }

    static LengthDistribution fixed(int n) {
        if (n < 1) throw new CapacityException("a length must be ≥ 1, got " + n);
        return new LengthDistribution() {
            public int sample(SplittableRandom r) {
                return n;
            }

            public double mean() {
                return n;
            }
        };
    }

    /** Box–Muller on the seeded generator, so runs are reproducible across JDKs. */
    static double gaussian(SplittableRandom r) {
        double u1 = 1.0 - r.nextDouble(), u2 = r.nextDouble();
        return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    }
}
