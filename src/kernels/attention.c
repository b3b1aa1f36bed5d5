/* attention.c -- two-pass softmax attention of one query over n tokens.
 *
 * Pass 1 computes the scores s_i = <a, z_i> (+ log pi_i) into w and their
 * maximum; pass 2 turns them into weights and takes the tilted mean
 * zbar = Z^T w, from which F = V zbar.  Taking the weighted mean of the
 * tokens before applying V costs O(nD + pD) instead of O(npD) and is the
 * same convex combination: F lies between min_i (V z_i)_r and max_i
 * (V z_i)_r in every component r, up to rounding.
 */
#include "kernels/attention.h"
#include "kernels/linalg.h"
#include "kernels/slmath.h"
#include "kernels/softmax.h"

void sl_attn_forward(size_t n, size_t D, size_t Dq, size_t p, const double *Z,
                     const double *W, const double *V, const double *x,
                     const double *pi, double *a, double *w, double *zbar,
                     double *F, double *lognorm)
{
    /* 1. Tilt direction a = W x (D). */
    sl_matvec(D, Dq, W, x, a);
    //@ ghost Tilted:;

    /* 2. Scores s_i = <a, z_i> + log pi_i, kept in w until step 4. */
    /*@
      loop invariant bound: 0 <= i <= n;
      loop invariant tilt:  \forall integer k; 0 <= k < D ==>
                              a[k] == \at(a[k], LoopEntry);
      loop assigns i, w[0 .. n - 1];
      loop variant n - i;
    */
    for (size_t i = 0; i < n; i++) {
        //@ assert row: SlRowFits(i, n, D);
        w[i] = sl_dot(D, a, Z + i * D);
        if (pi != NULL)
            w[i] += sl_log(pi[i]);
    }

    /* 3. Largest score, then the shifted exponentials e_i = exp(s_i - M)
     *    in [0, 1] with sum in [1, n]: nothing overflows. */
    double m = sl_max(n, w);
    double sum = sl_exp_shift(n, w, m);
    //@ assert sum: sum == SlSum(w, n) && 1 <= sum;
    //@ ghost Shifted:;

    /* 4. Weights w_i = e_i / sum. */
    sl_normalise(n, w, sum);
    //@ assert total_s: SlSum(w, n) == SlSum{Shifted}(w, n) / sum;
    //@ assert unit: SlSum{Shifted}(w, n) / sum == 1;
    //@ assert weights: SlSum(w, n) == 1;
    //@ ghost Weighted:;

    /* 5. Tilted mean zbar = sum_i w_i z_i = Z^T w (D). */
    sl_matvec_t(n, D, Z, w, zbar);
    //@ ghost Averaged:;

    /* 6. Output F = V zbar (p). */
    sl_matvec(p, D, V, zbar, F);

    /* 7. log sum_i pi_i e^{<a, z_i>} = M + log(sum), with pi_i = 1/n
     *    when no masses were given. */
    *lognorm = m + sl_log(sum);
    if (pi == NULL)
        *lognorm -= sl_log((double)n);

    /* Steps 5-7 wrote zbar, F and lognorm only: the frame of the proof
     * (Z first as a flat array, whose indices stay linear). */
    //@ assert kept_Zf: SlSame{Weighted, Here}(Z, n * D);
    //@ assert kept_a: SlSame{Tilted, Here}(a, D);
    /*@ assert tilt: \forall integer k; 0 <= k < D ==>
                       a[k] == \at(SlRowDot(W, x, Dq, k), Pre); */
    //@ assert kept_w: SlSame{Weighted, Here}(w, n);
    //@ assert kept_Z: SlSameMat{Weighted, Here}(Z, n, D);
    //@ assert kept_V: SlSameMat{Averaged, Here}(V, p, D);
    //@ assert kept_zbar: SlSame{Averaged, Here}(zbar, D);
    //@ assert total: SlSum(w, n) == 1;
    //@ assert range: \forall integer i; 0 <= i < n ==> 0 <= w[i] <= 1;
    //@ assert nonneg: SlNonnegs(w, n);
    /*@ assert mean: \forall integer k; 0 <= k < D ==>
                       zbar[k] == SlColDot(Z, w, n, D, k); */
    //@ assert is_mean: SlIsMean(zbar, Z, w, n, D);
    /*@ assert output: \forall integer r; 0 <= r < p ==>
                         F[r] == SlRowDot(V, zbar, D, r); */
    /*@ assert scores: \forall integer r; 0 <= r < p ==>
                         F[r] == SlDot(V + r * D, zbar, D); */
}

double sl_attn_ess(size_t n, const double *w)
{
    return 1.0 / sl_dot(n, w, w);
}
