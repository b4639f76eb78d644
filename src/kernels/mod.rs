//! The only place that does heavy arithmetic: GEMM, the vectorised `exp`, fused optimiser updates
//! and the bit-packed kernels of the r-of-k task. Training reaches it through one interface,
//! [`Backend`], with a fast CPU implementation ([`Cpu`]) and a plain-loop reference
//! ([`Reference`]) that checks it; a GPU backend implements the same trait.
//!
//! Hot loops are written once, generically, as plain element loops that LLVM vectorises; each is
//! compiled a second time with AVX-512 enabled and picked at run time ([`dispatch!`]), so the
//! binary still runs on machines without AVX-512.

pub mod activation;
pub mod backend;
pub mod bits;
pub mod cpu;
pub mod exp;
pub mod gemm;
pub mod log;
pub mod loss;
pub mod normal;
pub mod real;
pub mod reference;
pub mod update;

pub use activation::Activation;
pub use backend::{Backend, BiasValue, Geometry};
pub use cpu::Cpu;
pub use real::Real;
pub use reference::Reference;

/// Calls `$body` compiled for AVX-512 when the CPU has it, otherwise the portable build.
/// `$body` must be an expression that only calls `#[inline(always)]` code, so that it is
/// recompiled inside the AVX-512 function.
#[macro_export]
macro_rules! dispatch {
    ($body:expr) => {{
        #[cfg(target_arch = "x86_64")]
        {
            #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx2,fma")]
            unsafe fn with_avx512<R>(f: impl FnOnce() -> R) -> R {
                f()
            }
            if std::is_x86_feature_detected!("avx512f")
                && std::is_x86_feature_detected!("avx512dq")
                && std::is_x86_feature_detected!("avx512vl")
            {
                // SAFETY: the CPU supports every feature enabled on `with_avx512`.
                unsafe { with_avx512(|| $body) }
            } else {
                $body
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            $body
        }
    }};
}
