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
    /// (rows, columns) of the logical (possibly transposed) matrix.
    pub fn shape(&self) -> (usize, usize) {
        if self.transposed {
            (self.cols, self.rows)
        } else {
            (self.rows, self.cols)
        }
    }
    /// Element `(i, j)` of the logical matrix.
    pub fn at(&self, i: usize, j: usize) -> T
    where
        T: Copy,
    {
        if self.transposed {
            self.data[j * self.cols + i]
        } else {
            self.data[i * self.cols + j]
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

/// Above this many multiply-adds the gemm crate splits a product across the threads itself.
const PARALLEL_WORK: usize = 1 << 27;
/// Between this and `PARALLEL_WORK`, the product is cut into one block of output columns (or
/// rows) per thread, each a single-threaded product: the crate's own splitting measured slower
/// than one core at these sizes (a training step's layers).
const SPLIT_WORK: usize = 1 << 20;

thread_local! {
    /// Set inside [`join`]: products on this thread stay single-threaded.
    static SERIAL: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn serial<R>(f: impl FnOnce() -> R) -> R {
    let old = SERIAL.replace(true);
    let r = f();
    SERIAL.set(old);
    r
}

/// Runs two independent pieces of work (e.g. a layer's weight gradient and its input gradient,
/// equal in multiply-adds) as two parallel tasks whose products each stay on one thread: one
/// fork per layer instead of one per product, and whole products run at one core's full speed.
pub fn join<RA: Send, RB: Send>(
    a: impl FnOnce() -> RA + Send,
    b: impl FnOnce() -> RB + Send,
) -> (RA, RB) {
    if rayon::current_num_threads() == 1 || SERIAL.get() {
        return (a(), b());
    }
    rayon::join(|| serial(a), || serial(b))
}

/// `c = beta·c + a·b` where `c` is row-major `m×n`. `beta` must be 0 or 1.
pub fn matmul<T: Real>(c: &mut [T], a: Operand<T>, b: Operand<T>, beta: T) {
    product(c, a, b, beta, T::one())
}

/// `c += scale·a·b` (gradient accumulation).
pub fn matmul_acc<T: Real>(c: &mut [T], a: Operand<T>, b: Operand<T>, scale: T) {
    product(c, a, b, T::one(), scale)
}

/// A raw pointer that may cross to another thread: the blocks it addresses are disjoint.
#[derive(Clone, Copy)]
struct Ptr<T>(*mut T);
// SAFETY: `a` and `b` are only read; each block writes only its own rows or columns of `c`.
unsafe impl<T> Send for Ptr<T> {}
unsafe impl<T> Sync for Ptr<T> {}

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
    let threads = if SERIAL.get() {
        1
    } else {
        rayon::current_num_threads()
    };
    let work = m * n * k;
    let (acs, ars) = a.strides();
    let (bcs, brs) = b.strides();
    let (ap, bp, cp) = (
        Ptr(a.data.as_ptr().cast_mut()),
        Ptr(b.data.as_ptr().cast_mut()),
        Ptr(c.as_mut_ptr()),
    );
    // One product `c[rows, cols] (+)= a[rows, :]·b[:, cols]` over a block.
    let block = |r0: usize, rows: usize, c0: usize, cols: usize, par: gemm::Parallelism| {
        let (ap, bp, cp) = (ap, bp, cp);
        // SAFETY: the block lies inside the checked shapes; blocks of one call are disjoint, and
        // `c` does not alias `a` or `b` (borrowck).
        unsafe {
            gemm::gemm(
                rows,
                cols,
                k,
                cp.0.add(r0 * n + c0),
                1,
                n as isize,
                beta != T::zero(),
                ap.0.cast_const().offset(r0 as isize * ars),
                acs,
                ars,
                bp.0.cast_const().offset(c0 as isize * bcs),
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
    };
    if threads > 1 && work >= PARALLEL_WORK {
        block(0, m, 0, n, gemm::Parallelism::Rayon(threads));
    } else if threads > 1 && work >= SPLIT_WORK {
        // Split the longer side of `c` into one block per thread (multiples of 16 columns or
        // 8 rows, the microkernel's tile).
        let by_cols = n >= m;
        let (len, tile) = if by_cols { (n, 16) } else { (m, 8) };
        let per = len.div_ceil(threads).div_ceil(tile) * tile;
        use rayon::prelude::*;
        (0..len.div_ceil(per)).into_par_iter().for_each(|i| {
            let (s, l) = (i * per, per.min(len - i * per));
            if by_cols {
                block(0, m, s, l, gemm::Parallelism::None)
            } else {
                block(s, l, 0, n, gemm::Parallelism::None)
            }
        });
    } else {
        block(0, m, 0, n, gemm::Parallelism::None);
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
        check_shape(7, 5, 3);
    }

    #[test]
    fn products_split_across_threads_match_naive() {
        // Above SPLIT_WORK: cut by columns (n >= m) or by rows, with ragged last blocks.
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .unwrap();
        pool.install(|| {
            check_shape(70, 130, 150);
            check_shape(151, 130, 70);
        });
    }

    fn check_shape(m: usize, k: usize, n: usize) {
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
                assert!((x - 1.0 - y).abs() < 1e-11, "{m}x{k}x{n}");
            }
        }
    }
}
