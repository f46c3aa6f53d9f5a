//! Engagement that grows while a test moves a fake's clock on: the fakes count hours
//! (`set_hour`), each post remembers the hour it was made, and its counters are its age in
//! hours times a rate per counter. A test computes what a fake answers with [`grown`].

/// Likes (favourites) a post gains per hour.
pub const LIKES_PER_HOUR: u64 = 3;
/// Reposts (boosts) a post gains per hour.
pub const REPOSTS_PER_HOUR: u64 = 2;
/// Replies a post gains per hour.
pub const REPLIES_PER_HOUR: u64 = 1;
/// Quotes a post gains per hour.
pub const QUOTES_PER_HOUR: u64 = 1;
/// Followers an account has at hour 0; it gains one per hour.
pub const FOLLOWERS_AT_START: u64 = 42;

/// A counter of a post `age_hours` old that gains `per_hour` an hour.
pub fn grown(per_hour: u64, age_hours: u64) -> u64 {
    per_hour * age_hours
}

/// An account's followers at `hour`.
pub fn followers(hour: u64) -> u64 {
    FOLLOWERS_AT_START + hour
}
