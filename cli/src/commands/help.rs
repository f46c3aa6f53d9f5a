use crate::args::HelpArgs;
use crate::exit::{CliError, CliResult, EXIT_CODES_HELP};
use crate::output::print;

const TIMES_HELP: &str = "\
Times postctl understands (--at, the `at` column of imports, `at:` in drafts):
  2026-12-01 09:00          a date and a time in your zone (or --tz)
  2026-12-01T09:00:00+01:00 RFC 3339, with an offset or Z
  tomorrow 9am, today 17:30
  fri 10:00, next mon 9am   the next such day whose time is still ahead
  09:00                     today, or tomorrow if that time has passed
  in 2h, in 90m, in 1d, in 1h30m
Your zone is --tz, else `timezone` in config.toml (or POSTCTL_TZ), else the system's.

A local time that does not exist (the hour skipped when clocks go forward) is refused with
the valid times around it. One that happens twice (when clocks go back) needs --earlier or
--later, or an RFC 3339 offset. A time in the past is refused unless --allow-past.

Weekly rules (--every, queue slots): days then times:
  \"mon,wed 09:00\"  \"mon-fri 09:00,13:00,17:30\"  \"daily 08:00\"  \"weekends 10am\"
Queue slots take several rules separated by ;. A recurring post keeps its wall-clock time
across daylight-saving changes.";

pub fn run(args: &HelpArgs) -> CliResult {
    let topic: Vec<&str> = args.topic.iter().map(String::as_str).collect();
    match topic.as_slice() {
        ["exit-codes" | "exit-code" | "exit"] => print(&format!("{EXIT_CODES_HELP}\n")),
        ["times" | "time"] => print(&format!("{TIMES_HELP}\n")),
        path => {
            let mut command = crate::command();
            // Built, subcommands know their parents: "Usage: postctl schedule ...".
            command.build();
            let mut current = &mut command;
            for name in path {
                current = current.find_subcommand_mut(name).ok_or_else(|| {
                    CliError::usage(format!(
                        "no help topic or command {:?}; topics: exit-codes, times; commands: see `postctl --help`",
                        path.join(" ")
                    ))
                })?;
            }
            print(&format!("{}\n", current.render_long_help()))
        }
    }
}
