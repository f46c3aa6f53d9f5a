//! A post's text, the way each network sees it ("Networks" in docs/ARCHITECTURE.md).
//!
//! Posts are written once in Markdown. [`render`] turns that Markdown into what one
//! network receives ([`Format`]); [`count`] and [`measure`] measure it the network's way
//! ([`Counting`]); [`fit`] says whether it fits a [`TextLimit`]; and [`split`] cuts a
//! text that does not fit into thread parts, each of which is Markdown again.
//!
//! Everything here is a pure function over strings: no I/O, no network, no clock.
//!
//! | Network  | Format            | Counting     | Notes                                         |
//! |----------|-------------------|--------------|-----------------------------------------------|
//! | X        | `Plain`           | `XWeighted`  | 280                                           |
//! | Mastodon | `Plain`           | `Mastodon`   | instance limit; the content warning counts too |
//! | Bluesky  | `Bluesky`         | `Graphemes`  | 300, and 3000 bytes ([`Counting::max_bytes`]) |
//! | Telegram | `TelegramHtml`    | `CodePoints` | 4096 (1024 for captions), visible text only   |
//! | Discord  | `DiscordMarkdown` | `CodePoints` | 2000                                          |
//! | Slack    | `SlackMrkdwn`     | `CodePoints` | 40000 (truncated above)                       |
//! | Matrix   | `MatrixHtml`      | `Utf8Bytes`  | body + formatted_body, well under 65536       |
//! | Threads  | `Plain`           | `EmojiBytes` | 500; an emoji counts its UTF-8 bytes          |
//! | Facebook | `Plain`           | `CodePoints` | 63,206 (a commonly cited, unconfirmed figure) |

mod count;
mod facets;
mod fit;
mod render;
mod split;
mod urls;
mod weighted;

pub use count::{Counting, TextLimit, count};
pub use facets::{Facet, FacetFeature};
pub use fit::{Fit, fit, measure};
pub use render::{Format, Rendered, render};
pub use split::split;
pub(crate) use urls::{UrlScope, find_urls};
