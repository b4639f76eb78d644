//! Named, seeded random generators: every component draws from its own ChaCha8 stream derived
//! from (run seed, component name), never from global state. The same seed gives the same
//! numbers whatever the thread count or the order in which components are built.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The generator for component `name` of a run seeded with `seed`.
pub fn named(seed: u64, name: &str) -> ChaCha8Rng {
    // FNV-1a of the name, mixed with the seed by SplitMix64: stable across platforms and versions.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h = (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3);
    }
    ChaCha8Rng::seed_from_u64(mix64(
        seed.wrapping_add(h).wrapping_add(0x9e37_79b9_7f4a_7c15),
    ))
}

/// SplitMix64's output function: a bijective mix of the bits of `z`.
#[inline(always)]
pub fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
