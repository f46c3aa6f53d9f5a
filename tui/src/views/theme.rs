//! Colours and emphasis. With `NO_COLOR` every style keeps only bold, dim, underline and
//! reverse, so the dashboard stays readable in one colour.

use postctl_core::model::TargetState;
use postctl_core::network::Network;
use ratatui::style::{Color, Modifier, Style};

use crate::app::state::ActivityKind;

#[derive(Debug, Clone, Copy)]
pub struct Theme {
    color: bool,
}

impl Theme {
    pub fn new(color: bool) -> Theme {
        Theme { color }
    }

    fn fg(self, color: Color) -> Style {
        if self.color {
            Style::new().fg(color)
        } else {
            Style::new()
        }
    }

    pub fn state(self, state: Option<TargetState>) -> Style {
        match state {
            Some(TargetState::Draft) | None => Style::new().add_modifier(Modifier::DIM),
            Some(TargetState::Scheduled) => self.fg(Color::Cyan),
            Some(TargetState::AwaitingApproval) => self.fg(Color::Blue),
            Some(TargetState::Publishing | TargetState::WaitingRetry) => self.fg(Color::Yellow),
            Some(TargetState::Published) => self.fg(Color::Green),
            Some(TargetState::Failed | TargetState::Missed) => {
                self.fg(Color::Red).add_modifier(Modifier::BOLD)
            }
            Some(TargetState::Uncertain) => self.fg(Color::Magenta).add_modifier(Modifier::BOLD),
            Some(TargetState::Cancelled) => {
                Style::new().add_modifier(Modifier::DIM | Modifier::CROSSED_OUT)
            }
        }
    }

    pub fn activity(self, kind: ActivityKind) -> Style {
        match kind {
            ActivityKind::Published => self.fg(Color::Green),
            ActivityKind::Failed => self.fg(Color::Red),
            ActivityKind::Edited => self.fg(Color::Cyan),
            ActivityKind::Other => Style::new(),
        }
    }

    pub fn selected(self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }

    pub fn today(self) -> Style {
        self.fg(Color::Yellow)
            .add_modifier(Modifier::BOLD | Modifier::UNDERLINED)
    }

    pub fn dim(self) -> Style {
        Style::new().add_modifier(Modifier::DIM)
    }

    pub fn title(self) -> Style {
        Style::new().add_modifier(Modifier::BOLD)
    }

    pub fn error(self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }

    pub fn ok(self) -> Style {
        self.fg(Color::Green)
    }

    pub fn key(self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    pub fn focus(self) -> Style {
        self.fg(Color::Yellow).add_modifier(Modifier::BOLD)
    }

    pub fn moving(self) -> Style {
        self.fg(Color::Yellow)
            .add_modifier(Modifier::BOLD | Modifier::REVERSED)
    }
}

/// Two letters per network, for calendar cells.
pub fn network_code(network: Network) -> &'static str {
    match network {
        Network::X => "x",
        Network::Mastodon => "ma",
        Network::Bluesky => "bs",
        Network::Telegram => "tg",
        Network::Discord => "dc",
        Network::Vk => "vk",
        Network::Instagram => "ig",
        Network::Facebook => "fb",
        Network::Linkedin => "li",
        Network::Threads => "th",
        Network::Slack => "sl",
        Network::Matrix => "mx",
        Network::Nostr => "no",
        Network::Reddit => "rd",
        Network::Devto => "dv",
        Network::Webhook => "wh",
    }
}

/// One letter per network, for narrow calendar cells (the help lists them).
pub fn network_letter(network: Network) -> char {
    match network {
        Network::X => 'X',
        Network::Mastodon => 'M',
        Network::Bluesky => 'B',
        Network::Telegram => 'T',
        Network::Discord => 'D',
        Network::Vk => 'V',
        Network::Instagram => 'I',
        Network::Facebook => 'F',
        Network::Linkedin => 'L',
        Network::Threads => 'H',
        Network::Slack => 'S',
        Network::Matrix => '#',
        Network::Nostr => 'N',
        Network::Reddit => 'R',
        Network::Devto => 'E',
        Network::Webhook => 'W',
    }
}

/// A state's name for lists ("waiting retry").
pub fn state_name(state: Option<TargetState>) -> &'static str {
    match state {
        None => "no target",
        Some(TargetState::WaitingRetry) => "retrying",
        Some(state) => state.as_str(),
    }
}
