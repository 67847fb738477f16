//! Compiles the protocol definitions with protox, a pure-Rust protobuf
//! compiler, so that building needs no system `protoc`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files = ["proto/tfplugin6.proto", "proto/grpc_controller.proto"];
    for file in files {
        println!("cargo:rerun-if-changed={file}");
    }
    let descriptors = protox::compile(files, ["proto"])?;
    tonic_prost_build::configure()
        .build_server(true)
        // Tests drive a provider binary as Terraform would, so they need a
        // client; the shipped binary does not, so it is behind a feature.
        .build_client(std::env::var_os("CARGO_FEATURE_CLIENT").is_some())
        .generate_default_stubs(true)
        .compile_fds(descriptors)?;
    Ok(())
}
