//! Matrix products through the `gemm` crate (AVX-512 microkernels, picked at run time).
//!
//! Chosen by measurement on the 2-core development machine (README, design notes): `gemm` with
//! its `x86-v4` feature ran 115–190 GFLOP/s on f32, `matrixmultiply` 54–74 GFLOP/s.

use super::Real;

/// A row-major matrix operand, optionally read transposed.
#[derive(Clone, Copy)]
pub struct Operand<'a, T> {
    pub data: &'a [T],
    pub rows: usize,
    pub cols: usize,
    pub transposed: bool,
}

impl<'a, T> Operand<'a, T> {
    pub fn new(data: &'a [T], rows: usize, cols: usize) -> Self {
        assert_eq!(data.len(), rows * cols, "operand size");
        Self {
            data,
            rows,
            cols,
            transposed: false,
        }
    }
    pub fn t(self) -> Self {
        Self {
            transposed: !self.transposed,
            ..self
        }
    }
    fn shape(&self) -> (usize, usize) {
        if self.transposed {
            (self.cols, self.rows)
        } else {
            (self.rows, self.cols)
        }
    }
    /// (column stride, row stride) of the logical (possibly transposed) matrix.
    fn strides(&self) -> (isize, isize) {
        if self.transposed {
            (self.cols as isize, 1)
        } else {
            (1, self.cols as isize)
        }
    }
}

/// Below this many multiply-adds a product runs on one thread: splitting small products across
/// the two cores measured slower than one core.
const PARALLEL_WORK: usize = 1 << 27;

/// `c = beta·c + a·b` where `c` is row-major `m×n`. `beta` must be 0 or 1.
pub fn matmul<T: Real>(c: &mut [T], a: Operand<T>, b: Operand<T>, beta: T) {
    product(c, a, b, beta, T::one())
}

/// `c += scale·a·b` (gradient accumulation).
pub fn matmul_acc<T: Real>(c: &mut [T], a: Operand<T>, b: Operand<T>, scale: T) {
    product(c, a, b, T::one(), scale)
}

fn product<T: Real>(c: &mut [T], a: Operand<T>, b: Operand<T>, beta: T, scale: T) {
    let (m, k) = a.shape();
    let (k2, n) = b.shape();
    assert_eq!(k, k2, "inner dimensions differ");
    assert_eq!(c.len(), m * n, "output size");
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if beta == T::zero() {
            c.fill(T::zero());
        }
        return;
    }
    let threads = rayon::current_num_threads();
    let par = if threads > 1 && m * n * k >= PARALLEL_WORK {
        gemm::Parallelism::Rayon(threads)
    } else {
        gemm::Parallelism::None
    };
    let (acs, ars) = a.strides();
    let (bcs, brs) = b.strides();
    // SAFETY: shapes and strides were checked above; `c` does not alias `a` or `b` (borrowck).
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            1,
            n as isize,
            beta != T::zero(),
            a.data.as_ptr(),
            acs,
            ars,
            b.data.as_ptr(),
            bcs,
            brs,
            beta,
            scale,
            false,
            false,
            false,
            par,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(a: &[f64], b: &[f64], m: usize, k: usize, n: usize) -> Vec<f64> {
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                c[i * n + j] = (0..k).map(|p| a[i * k + p] * b[p * n + j]).sum();
            }
        }
        c
    }

    fn transpose(a: &[f64], r: usize, c: usize) -> Vec<f64> {
        let mut t = vec![0.0; r * c];
        for i in 0..r {
            for j in 0..c {
                t[j * r + i] = a[i * c + j];
            }
        }
        t
    }

    #[test]
    fn all_transpose_combinations_match_naive() {
        let (m, k, n) = (7, 5, 3);
        let a: Vec<f64> = (0..m * k).map(|i| (i as f64 * 0.37).sin()).collect();
        let b: Vec<f64> = (0..k * n).map(|i| (i as f64 * 0.91).cos()).collect();
        let want = naive(&a, &b, m, k, n);
        let at = transpose(&a, m, k);
        let bt = transpose(&b, k, n);
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            let oa = if ta {
                Operand::new(&at, k, m).t()
            } else {
                Operand::new(&a, m, k)
            };
            let ob = if tb {
                Operand::new(&bt, n, k).t()
            } else {
                Operand::new(&b, k, n)
            };
            let mut c = vec![1.0; m * n];
            matmul(&mut c, oa, ob, 1.0);
            for (x, y) in c.iter().zip(&want) {
                assert!((x - 1.0 - y).abs() < 1e-12);
            }
        }
    }
}
