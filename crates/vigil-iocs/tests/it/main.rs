//! Integration tests of indicator loading and matching: the real public sets,
//! the per-kind matching rules, and MVT's own loader as the reference.

mod compiled;
mod fast_path;
mod loading;
mod matching;
mod real_sets;
