//! Writes the random-weight test models (`cairn_models::test_support::RANDOM_MODELS`) into a
//! folder, for `scripts/make-runtime-fixture.py` to run through llama.cpp:
//! `cargo run -p cairn-models --features test-support --example random-gguf -- DIR`.

use cairn_models::test_support::{RANDOM_MODELS, write_random_gguf};

fn main() {
    let dir = std::env::args().nth(1).expect("usage: random-gguf DIR");
    std::fs::create_dir_all(&dir).expect("create the folder");
    for (name, _) in RANDOM_MODELS {
        let path = std::path::Path::new(&dir).join(format!("{name}.gguf"));
        write_random_gguf(name, &path).expect("write");
        println!("{}", path.display());
    }
}
