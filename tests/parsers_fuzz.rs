//! Every parser of user input under random and mutated input (proptest): IDX, `.npy`, `.npz`,
//! `.safetensors`, CSV, TOML configs and candidate lists. None may panic, and none may allocate
//! more than its input justifies: a counting allocator records the peak bytes allocated by the
//! test thread while a parser runs. `PROPTEST_CASES=100000 cargo test --test parsers_fuzz` runs
//! more cases than CI's default of 256 per parser.

use geoplast::analysis::paired::parse_candidates;
use geoplast::io::weights::{parse_csv, parse_npy, parse_npz, parse_safetensors};
use geoplast::tasks::idx::parse_idx;
use geoplast::train::config::TrainConfig;
use proptest::prelude::*;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::Write;
use std::path::Path;

mod common;
use common::{idx_file, npy};

/// Counts the bytes live on each thread and their peak since the last reset.
struct Counting;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn track(delta: isize) {
    // `try_with`: the allocator also runs while thread-locals are torn down.
    let _ = LIVE.try_with(|l| {
        let now = l.get() + delta;
        l.set(now);
        let _ = PEAK.try_with(|p| p.set(p.get().max(now)));
    });
}

// SAFETY: every call is forwarded to the system allocator unchanged; only counters are updated.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        track(layout.size() as isize);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        track(-(layout.size() as isize));
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new: usize) -> *mut u8 {
        track(new as isize - layout.size() as isize);
        unsafe { System.realloc(ptr, layout, new) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Runs `f` and returns the peak bytes it held beyond what was live before.
fn peak_of(f: impl FnOnce()) -> usize {
    let base = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(base));
    f();
    (PEAK.with(Cell::get) - base).max(0) as usize
}

/// What an input of `len` bytes may cost: `factor` bytes per input byte (an f64 per one-byte
/// value, a vector's doubling) plus a fixed 1 MiB for buffers and small tables.
fn assert_bounded(what: &str, len: usize, factor: usize, peak: usize) {
    let limit = factor * len + (1 << 20);
    assert!(
        peak <= limit,
        "{what}: {peak} bytes allocated for {len} input bytes (limit {limit})"
    );
}

/// A valid input with up to 8 bytes overwritten and possibly cut short.
fn mutated(valid: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    let n = valid.len();
    (
        prop::collection::vec((0..n, any::<u8>()), 0..8),
        prop::option::of(0..=n),
    )
        .prop_map(move |(edits, cut)| {
            let mut b = valid.clone();
            for (i, v) in edits {
                b[i] = v;
            }
            b.truncate(cut.unwrap_or(n));
            b
        })
}

fn bytes() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..600)
}

fn valid_idx() -> Vec<u8> {
    idx_file(0x08, &[3, 2, 2], &[7; 12])
}

fn gzip(b: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(b).unwrap();
    gz.finish().unwrap()
}

fn valid_npy() -> Vec<u8> {
    let body: Vec<u8> = (0..6).flat_map(|i| (i as f64).to_le_bytes()).collect();
    npy("<f8", "(3, 2)", &body)
}

fn valid_npz() -> Vec<u8> {
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    z.start_file("w.npy", zip::write::SimpleFileOptions::default())
        .unwrap();
    z.write_all(&valid_npy()).unwrap();
    z.finish().unwrap().into_inner()
}

fn valid_safetensors() -> Vec<u8> {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("w.safetensors");
    let t = std::collections::BTreeMap::from([(
        "layers.0.weight".to_string(),
        geoplast::io::checkpoint::Tensor {
            shape: vec![2, 3],
            data: vec![0.5; 6],
        },
    )]);
    geoplast::io::checkpoint::save(&p, &t, Default::default()).unwrap();
    std::fs::read(p).unwrap()
}

const CONFIG: &str = "seed = 1\nepochs = 2\nbatch_size = 8\n[data]\nkind = \"idx\"\n[model]\nkind = \"colei\"\nhidden = [6]\ninit = { kind = \"normal\", gain = 1.0 }\n[optimizer]\nlr = 0.1\npotential = { kind = \"pnorm\", p = 1.5 }\n";

fn idx_case(b: &[u8]) {
    let peak = peak_of(|| {
        let _ = parse_idx(b, 3, "image");
    });
    assert_bounded("IDX", b.len(), 16, peak);
}

fn npy_case(b: &[u8]) {
    let peak = peak_of(|| {
        let _ = parse_npy(b, Path::new("x.npy"));
    });
    // Each value becomes an f64: 8 bytes per one-byte integer, plus column vectors.
    assert_bounded(".npy", b.len(), 16, peak);
}

fn npz_case(b: &[u8]) {
    let peak = peak_of(|| {
        let _ = parse_npz(std::io::Cursor::new(b), None, Path::new("x.npz"));
    });
    assert_bounded(".npz", b.len(), 32, peak);
}

fn safetensors_case(b: &[u8]) {
    let peak = peak_of(|| {
        let _ = parse_safetensors(b);
    });
    assert_bounded(".safetensors", b.len(), 16, peak);
}

fn csv_case(b: &[u8]) {
    let text = String::from_utf8_lossy(b);
    let peak = peak_of(|| {
        let _ = parse_csv(&text, Path::new("x.csv"));
    });
    assert_bounded("CSV", b.len(), 48, peak);
}

fn config_case(text: &str) {
    let peak = peak_of(|| {
        if let Ok(c) = geoplast::io::config::parse::<TrainConfig>(text, "c.toml") {
            let _ = c.validate();
        }
    });
    assert_bounded("TOML config", text.len(), 64, peak);
}

proptest! {
    #[test]
    fn idx_random(b in bytes()) { idx_case(&b) }
    #[test]
    fn idx_mutated(b in mutated(valid_idx())) { idx_case(&b) }
    #[test]
    fn idx_gzip_mutated(b in mutated(gzip(&valid_idx()))) { idx_case(&b) }
    #[test]
    fn npy_random(b in bytes()) { npy_case(&b) }
    #[test]
    fn npy_mutated(b in mutated(valid_npy())) { npy_case(&b) }
    #[test]
    fn npz_random(b in bytes()) { npz_case(&b) }
    #[test]
    fn npz_mutated(b in mutated(valid_npz())) { npz_case(&b) }
    #[test]
    fn safetensors_random(b in bytes()) { safetensors_case(&b) }
    #[test]
    fn safetensors_mutated(b in mutated(valid_safetensors())) { safetensors_case(&b) }
    #[test]
    fn csv_random(b in bytes()) { csv_case(&b) }
    #[test]
    fn csv_mutated(b in mutated(b"before;after\n0.5;0.6\n1e-3;NA\n\"2\";3\n# c\n".to_vec())) { csv_case(&b) }
    #[test]
    fn config_random(s in "\\PC{0,300}") { config_case(&s) }
    #[test]
    fn config_mutated(b in mutated(CONFIG.as_bytes().to_vec())) {
        config_case(&String::from_utf8_lossy(&b))
    }
    #[test]
    fn candidates_random(s in "[a-z0-9.:,e+-]{0,40}") {
        let peak = peak_of(|| { let _ = parse_candidates(&s, &[0.5, 1.0, 2.0]); });
        // At most 1000 candidates of a few words each.
        assert_bounded("candidate list", s.len(), 64, peak);
    }
}

/// A gzip bomb: 64 MiB of zeros behind a header that announces 12 bytes. Decompression stops
/// one byte past the announced length.
#[test]
fn gzip_decompression_is_bounded_by_the_header() {
    let mut raw = idx_file(0x08, &[3, 2, 2], &[]);
    raw.extend(vec![0u8; 64 << 20]);
    let gz = gzip(&raw);
    let mut result = None;
    let peak = peak_of(|| result = Some(parse_idx(&gz, 3, "image")));
    let err = result.unwrap().unwrap_err();
    assert!(err.contains("header says 12 data bytes"), "{err}");
    assert!(peak < 1 << 20, "{peak} bytes for a 64 MiB bomb");
}

#[test]
fn the_counting_allocator_counts() {
    let peak = peak_of(|| {
        let v = vec![1u8; 3 << 20];
        std::hint::black_box(&v);
    });
    assert!((3 << 20..4 << 20).contains(&peak), "{peak}");
}

/// Decoding of valid `.npy` files: C and Fortran order, f8 and f4, a truncated body.
#[test]
fn npy_2d_f8_and_1d_f4() {
    let body: Vec<u8> = [1.0f64, 2.0, 3.0, 4.0, 5.0, 6.0]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let t = parse_npy(&npy("<f8", "(3, 2)", &body), Path::new("x.npy")).unwrap();
    assert_eq!((t.rows, t.cols()), (3, 2));
    assert_eq!(t.column(1), vec![2.0, 4.0, 6.0]);
    // The same bytes in Fortran order are the columns one after the other.
    let mut fortran = npy("<f8", "(3, 2)", &body);
    let at = fortran.windows(5).position(|w| w == b"False").unwrap();
    fortran[at..at + 5].copy_from_slice(b"True ");
    let t = parse_npy(&fortran, Path::new("x.npy")).unwrap();
    assert_eq!(t.columns, vec![vec![1.0, 2.0, 3.0], vec![4.0, 5.0, 6.0]]);
    let body: Vec<u8> = [0.5f32, -1.5]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let t = parse_npy(&npy("<f4", "(2,)", &body), Path::new("x.npy")).unwrap();
    assert_eq!(t.columns, vec![vec![0.5, -1.5]]);
    let err = parse_npy(&npy("<f8", "(4,)", &body), Path::new("x.npy"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("truncated"), "{err}");
}
