//! A short, bounded pass of the codec fuzzer on every CI run: the hostile
//! classes that once hung or killed the provider, then random and mutated
//! values. The long run is `scripts/fuzz.sh`.

// Tests: an unwrap that fails is the test failing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod fuzz;

#[test]
fn hostile_and_random_values_never_panic() {
    let outcome = fuzz::run(50_000, 0x5e1_f022);
    println!(
        "{} inputs, {} decoded, {} panics, slowest {:?}, peak RSS {:?} KiB",
        outcome.inputs,
        outcome.decoded,
        outcome.panics,
        outcome.slowest,
        fuzz::peak_rss_kib()
    );
    assert_eq!(outcome.panics, 0, "{outcome:?}");
    assert!(
        outcome.decoded > 1000,
        "the generator reaches the decoders: {outcome:?}"
    );
}
