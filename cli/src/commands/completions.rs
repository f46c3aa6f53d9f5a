use crate::args::CompletionsArgs;
use crate::exit::CliResult;

pub fn run(args: &CompletionsArgs) -> CliResult {
    let mut command = crate::command();
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut command, "postctl", &mut out);
    crate::output::print(&String::from_utf8_lossy(&out))
}
