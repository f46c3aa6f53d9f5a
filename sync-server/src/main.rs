fn main() -> std::process::ExitCode {
    postctl_server::cli::main()
}
