fn main() {
    std::process::exit(portcullis::run_cli(std::env::args_os()));
}
