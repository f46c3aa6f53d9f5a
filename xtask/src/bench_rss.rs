//! One process measured: its wall time and its peak resident memory (max RSS), as wait4(2)
//! reports it when the process is reaped. std has no way to read a child's resource usage.
//! Linux starts a spawned child's max RSS at its parent's peak, so the benchmark keeps its
//! own memory small and reports the floor (a process that does nothing) beside the figures.

use std::process::Command;
use std::time::{Duration, Instant};

/// How long a process ran and the most memory it held.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub wall: Duration,
    /// Peak resident set size in kilobytes.
    pub max_rss_kb: u64,
}

/// Runs `command` to its end; its time and peak memory, or its stderr if it failed.
pub fn measure(command: &mut Command) -> Result<Sample, String> {
    let started = Instant::now();
    let child = command
        .spawn()
        .map_err(|e| format!("cannot run {command:?}: {e}"))?;
    let (status, max_rss_kb) = wait4(child.id())?;
    let wall = started.elapsed();
    if status != 0 {
        return Err(format!("{command:?} exited with status {status}"));
    }
    Ok(Sample { wall, max_rss_kb })
}

/// Reaps `pid`: its exit code (or 128 + signal) and its max RSS in kilobytes.
#[allow(unsafe_code)]
fn wait4(pid: u32) -> Result<(i32, u64), String> {
    let pid = libc::pid_t::try_from(pid).map_err(|e| format!("pid {pid}: {e}"))?;
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain old data, valid when zeroed; wait4 writes both out-parameters,
    // which live for the whole call, and reaps only our own child `pid`.
    let (reaped, usage) = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        let reaped = libc::wait4(pid, &mut status, 0, &mut usage);
        (reaped, usage)
    };
    if reaped != pid {
        return Err(format!("wait4({pid}): {}", std::io::Error::last_os_error()));
    }
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        128 + libc::WTERMSIG(status)
    };
    // Linux reports ru_maxrss in kilobytes.
    Ok((code, u64::try_from(usage.ru_maxrss).unwrap_or(0)))
}
