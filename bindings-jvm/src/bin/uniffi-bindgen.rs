//! The uniffi bindgen, built at the same uniffi version as the library it reads, so the
//! generated Kotlin always matches the scaffolding compiled into `libsfscale_jvm.so`.

fn main() {
    uniffi::uniffi_bindgen_main()
}
