//! Man pages and shell completions, generated from postctl's clap definitions.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clap_complete::Shell;

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Every generated file, by path relative to the repository root.
pub fn generate() -> Result<BTreeMap<PathBuf, Vec<u8>>, String> {
    let mut files = BTreeMap::new();
    let command = postctl_cli::command();
    man_pages(&command, "postctl", &mut files)?;
    for (shell, name) in [
        (Shell::Bash, "postctl.bash"),
        (Shell::Zsh, "_postctl"),
        (Shell::Fish, "postctl.fish"),
    ] {
        let mut out = Vec::new();
        clap_complete::generate(shell, &mut command.clone(), "postctl", &mut out);
        files.insert(Path::new("completions").join(name), out);
    }
    Ok(files)
}

/// One page per command: postctl(1), postctl-accounts(1), postctl-accounts-add(1)...
fn man_pages(
    command: &clap::Command,
    name: &str,
    files: &mut BTreeMap<PathBuf, Vec<u8>>,
) -> Result<(), String> {
    let page = command.clone().name(name.to_string());
    let man = clap_mangen::Man::new(page);
    let mut out = Vec::new();
    man.render(&mut out).map_err(|e| e.to_string())?;
    if name == "postctl" {
        out.extend_from_slice(exit_status_section().as_bytes());
    }
    files.insert(Path::new("man").join(format!("{name}.1")), out);
    for sub in command.get_subcommands() {
        man_pages(sub, &format!("{name}-{}", sub.get_name()), files)?;
    }
    Ok(())
}

fn exit_status_section() -> String {
    let mut out = String::from(".SH \"EXIT STATUS\"\n.nf\n");
    for line in postctl_cli::EXIT_CODES_HELP.lines() {
        out += &line.replace('\\', "\\\\").replace('-', "\\-");
        out += "\n";
    }
    out += ".fi\n";
    out
}

pub fn write(root: &Path) -> Result<(), String> {
    for dir in ["man", "completions"] {
        let dir = root.join(dir);
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
    }
    for (path, bytes) in generate()? {
        let path = root.join(path);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        std::fs::write(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    eprintln!("wrote man/ and completions/");
    Ok(())
}

/// The names of committed files that differ from what the clap definitions generate.
pub fn stale(root: &Path) -> Result<Vec<String>, String> {
    let expected = generate()?;
    let mut stale = Vec::new();
    for (path, bytes) in &expected {
        if std::fs::read(root.join(path)).ok().as_ref() != Some(bytes) {
            stale.push(path.display().to_string());
        }
    }
    for dir in ["man", "completions"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = Path::new(dir).join(entry.file_name());
            if !expected.contains_key(&path) {
                stale.push(format!("{} (no longer generated)", path.display()));
            }
        }
    }
    Ok(stale)
}

pub fn check(root: &Path) -> Result<(), String> {
    let stale = stale(root)?;
    if stale.is_empty() {
        return Ok(());
    }
    Err(format!(
        "man pages or completions are stale: {}; run `cargo xtask docs` and commit the result",
        stale.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn committed_man_pages_and_completions_match_the_cli() {
        if let Err(message) = super::check(&super::repo_root()) {
            panic!("{message}");
        }
    }
}
