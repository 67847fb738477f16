//! The long codec fuzz run: `scripts/fuzz.sh [INPUTS] [SEED]`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/fuzz/mod.rs"]
mod fuzz;

fn main() {
    let mut args = std::env::args().skip(1);
    let n: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(10_000_000);
    let seed: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(1);
    let started = std::time::Instant::now();
    let outcome = fuzz::run(n, seed);
    let hung = outcome.slowest > std::time::Duration::from_secs(1);
    println!("inputs:        {}", outcome.inputs);
    println!("decoded:       {}", outcome.decoded);
    println!("panics:        {}", outcome.panics);
    println!("hangs (>1 s):  {}", u8::from(hung));
    println!("slowest input: {:?} ({:02x?}…)", outcome.slowest, outcome.slowest_input);
    println!("peak RSS:      {} KiB", fuzz::peak_rss_kib().unwrap_or(0));
    println!("wall time:     {:?}", started.elapsed());
    if outcome.panics > 0 || hung {
        std::process::exit(1);
    }
}
