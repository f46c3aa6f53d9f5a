fn main() -> std::process::ExitCode {
    postctl_cli::main()
}
