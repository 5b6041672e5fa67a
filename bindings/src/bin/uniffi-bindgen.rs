//! The uniffi-bindgen command line, built from this workspace so that its
//! version always matches the `uniffi` the library is built with.

fn main() {
    uniffi::uniffi_bindgen_main()
}
