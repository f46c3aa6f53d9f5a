//! `postctl voice set|list|show|rm`: brand voices in config.toml.

use postctl_core::content::voice::{
    self, EmojiPolicy, HashtagPolicy, Voice, VoiceChange, VoiceError,
};

use crate::args::{HashtagPolicyArg, VoiceCommand, VoiceSetArgs};
use crate::context::Context;
use crate::exit::{CliError, CliResult};
use crate::output::{note, paint, print, print_json, stdout_color, table};

impl From<VoiceError> for CliError {
    fn from(e: VoiceError) -> Self {
        CliError::from(postctl_core::Error::from(e))
    }
}

pub fn run(ctx: &mut Context, command: VoiceCommand) -> CliResult {
    match command {
        VoiceCommand::Set(args) => set(ctx, args),
        VoiceCommand::List => list(ctx),
        VoiceCommand::Show(args) => show(ctx, &args.name),
        VoiceCommand::Rm(args) => remove(ctx, &args.name),
    }
}

/// A list option: not given keeps the list, `""` alone clears it, else the words given.
fn list_option(words: Vec<String>) -> Option<Vec<String>> {
    match words.as_slice() {
        [] => None,
        [only] if only.trim().is_empty() => Some(Vec::new()),
        _ => Some(words),
    }
}

fn set(ctx: &mut Context, args: VoiceSetArgs) -> CliResult {
    voice::validate_name(&args.name)?;
    let change = VoiceChange {
        tone: args.tone,
        audience: args.audience,
        use_words: list_option(args.use_words),
        avoid: list_option(args.avoid),
        hashtags: args.hashtags,
        hashtag_policy: args.hashtag_policy.map(|p| match p {
            HashtagPolicyArg::Required => HashtagPolicy::Required,
            HashtagPolicyArg::Optional => HashtagPolicy::Optional,
            HashtagPolicyArg::None => HashtagPolicy::None,
        }),
        emoji: args
            .emoji
            .as_deref()
            .map(str::parse::<EmojiPolicy>)
            .transpose()?,
        language: args.language,
    };
    if change == VoiceChange::default() {
        return Err(CliError::usage(
            "nothing to set: give at least one of --tone, --audience, --use, --avoid, --hashtags, --hashtag-policy, --emoji, --language",
        ));
    }
    let existing = ctx.config.voices.get(&args.name).cloned();
    let voice = existing.clone().unwrap_or_default().changed(change)?;
    let path = ctx.paths.config_file.clone();
    voice::write_voice(&path, &args.name, &voice)?;
    if ctx.json {
        return print_json(&serde_json::json!({"name": args.name, "voice": voice}));
    }
    note(format!(
        "{} voice {} in {}",
        if existing.is_some() {
            "changed"
        } else {
            "added"
        },
        args.name,
        path.display()
    ));
    Ok(())
}

fn list(ctx: &mut Context) -> CliResult {
    let voices = &ctx.config.voices;
    if ctx.json {
        let rows: Vec<_> = voices
            .iter()
            .map(|(name, voice)| serde_json::json!({"name": name, "voice": voice}))
            .collect();
        return print_json(&rows);
    }
    if voices.is_empty() {
        note("no voices yet; add one with `postctl voice set NAME --tone \"...\" --avoid WORD`");
        return Ok(());
    }
    let rows: Vec<Vec<String>> = voices
        .iter()
        .map(|(name, voice)| {
            vec![
                name.clone(),
                voice.tone.clone().unwrap_or_else(|| "-".into()),
                dash_if_empty(voice.hashtags.join(" ")),
                voice.hashtag_policy.as_str().into(),
                voice.emoji.to_string(),
                dash_if_empty(voice.avoid.join(", ")),
            ]
        })
        .collect();
    let color = stdout_color();
    print(&table(
        &["VOICE", "TONE", "HASHTAGS", "POLICY", "EMOJI", "AVOID"],
        &rows,
        color,
    ))
}

fn dash_if_empty(text: String) -> String {
    if text.is_empty() { "-".into() } else { text }
}

fn show(ctx: &mut Context, name: &str) -> CliResult {
    let voice = voice::find(&ctx.config, name)?;
    if ctx.json {
        return print_json(&serde_json::json!({"name": name, "voice": voice}));
    }
    print(&describe(name, voice, stdout_color()))
}

/// A voice as `key: value` lines.
fn describe(name: &str, voice: &Voice, color: bool) -> String {
    let or_dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    let list = |items: &[String]| dash_if_empty(items.join(", "));
    format!(
        "{} {name}\n\
         tone:            {}\n\
         audience:        {}\n\
         use:             {}\n\
         avoid:           {}\n\
         hashtags:        {}\n\
         hashtag policy:  {}\n\
         emoji:           {}\n\
         language:        {}\n",
        paint("voice", "1", color),
        or_dash(&voice.tone),
        or_dash(&voice.audience),
        list(&voice.use_words),
        list(&voice.avoid),
        dash_if_empty(voice.hashtags.join(" ")),
        voice.hashtag_policy.as_str(),
        voice.emoji,
        or_dash(&voice.language),
    )
}

fn remove(ctx: &mut Context, name: &str) -> CliResult {
    voice::find(&ctx.config, name)?;
    let path = ctx.paths.config_file.clone();
    if !voice::remove_voice(&path, name)? {
        return Err(CliError::usage(format!(
            "voice {name} is not in {}; is it set through another config file (--config, POSTCTL_CONFIG)?",
            path.display()
        )));
    }
    if ctx.json {
        return print_json(&serde_json::json!({"removed": name}));
    }
    note(format!("removed voice {name} from {}", path.display()));
    Ok(())
}
