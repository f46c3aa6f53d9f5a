# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_postctl_global_optspecs
    string join \n config= db= json h/help V/version
end

function __fish_postctl_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_postctl_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_postctl_using_subcommand
    set -l cmd (__fish_postctl_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c postctl -n "__fish_postctl_needs_command" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_needs_command" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_needs_command" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c postctl -n "__fish_postctl_needs_command" -s V -l version -d 'Print version'
complete -c postctl -n "__fish_postctl_needs_command" -f -a "init" -d 'Write a commented config file and create the database'
complete -c postctl -n "__fish_postctl_needs_command" -f -a "accounts" -d 'Add, list, remove accounts on networks'
complete -c postctl -n "__fish_postctl_needs_command" -f -a "group" -d 'Name a set of accounts, to use with --to'
complete -c postctl -n "__fish_postctl_needs_command" -f -a "draft" -d 'Write, list, show, edit and remove drafts'
complete -c postctl -n "__fish_postctl_needs_command" -f -a "schedule" -d 'Schedule a draft, or new text, once or on a weekly rule'
complete -c postctl -n "__fish_postctl_needs_command" -f -a "reschedule" -d 'Give a scheduled post a new time'
complete -c postctl -n "__fish_postctl_needs_command" -f -a "cancel" -d 'Cancel posts: targets not yet publishing are cancelled'
complete -c postctl -n "__fish_postctl_needs_command" -f -a "queue" -d 'Posting slots per account, and adding posts to the next free slot'
complete -c postctl -n "__fish_postctl_needs_command" -f -a "list" -d 'List posts, 50 at a time (--limit N, --all)'
complete -c postctl -n "__fish_postctl_needs_command" -f -a "calendar" -d 'Show scheduled posts in a month or week calendar'
complete -c postctl -n "__fish_postctl_needs_command" -f -a "tui" -d 'Open the dashboard: calendar, queue, compose, post detail, accounts, activity'
complete -c postctl -n "__fish_postctl_needs_command" -f -a "export" -d 'Write all posts as JSON, CSV or iCalendar to stdout'
complete -c postctl -n "__fish_postctl_needs_command" -f -a "import" -d 'Create posts from a CSV or JSON file: all rows or none'
complete -c postctl -n "__fish_postctl_needs_command" -f -a "post" -d 'Publish now to accounts or groups, and report each target\'s link or error'
complete -c postctl -n "__fish_postctl_needs_command" -f -a "check" -d 'Show how long a text is on each network, counted its way, and how it would split'
complete -c postctl -n "__fish_postctl_needs_command" -f -a "run-due" -d 'Publish everything that is due, then exit (for cron and CI)'
complete -c postctl -n "__fish_postctl_needs_command" -f -a "daemon" -d 'Keep publishing: sleep until the next post is due or the database changes'
complete -c postctl -n "__fish_postctl_needs_command" -f -a "status" -d 'Each target of a post: state, links, and the log of attempts'
complete -c postctl -n "__fish_postctl_needs_command" -f -a "retry" -d 'Try a post\'s failed, missed or waiting targets again now'
complete -c postctl -n "__fish_postctl_needs_command" -f -a "resolve" -d 'Say what became of an `uncertain` target: published (give its URL) or not'
complete -c postctl -n "__fish_postctl_needs_command" -f -a "stats" -d 'Counters from the networks (likes, reposts, replies, reactions, followers): collect and show'
complete -c postctl -n "__fish_postctl_needs_command" -f -a "insights" -d 'What an account\'s history says: best times to post, top posts, growth, outliers, trend'
complete -c postctl -n "__fish_postctl_needs_command" -f -a "report" -d 'A report to send: followers, posts and engagement over a period, against the one before (md, html, csv, json)'
complete -c postctl -n "__fish_postctl_needs_command" -f -a "unpublish" -d 'Delete a published post from its networks (every part of a thread)'
complete -c postctl -n "__fish_postctl_needs_command" -f -a "search" -d 'Full-text search over posts and templates (50 posts at a time: --limit N, --all)'
complete -c postctl -n "__fish_postctl_needs_command" -f -a "template" -d 'Templates with variables and per-network variants: add, list, show, render, remove'
complete -c postctl -n "__fish_postctl_needs_command" -f -a "voice" -d 'Brand voices (tone, audience, words, hashtags, emoji, language) kept in config.toml'
complete -c postctl -n "__fish_postctl_needs_command" -f -a "lint" -d 'Check a draft against a brand voice and each network\'s length'
complete -c postctl -n "__fish_postctl_needs_command" -f -a "generate" -d 'Draft posts with a language model (Claude, or any OpenAI-compatible server), in a brand voice, fitted per network'
complete -c postctl -n "__fish_postctl_needs_command" -f -a "ai" -d 'The language model `generate` asks: provider, model, base URL and key'
complete -c postctl -n "__fish_postctl_needs_command" -f -a "media" -d 'Where networks that fetch images from a URL (Instagram) get them'
complete -c postctl -n "__fish_postctl_needs_command" -f -a "mcp" -d 'Serve the Model Context Protocol on stdin/stdout, for AI assistants (Claude Desktop, Claude Code)'
complete -c postctl -n "__fish_postctl_needs_command" -f -a "login" -d 'Sign in to a postctl server and link this database to a workspace there'
complete -c postctl -n "__fish_postctl_needs_command" -f -a "logout" -d 'Sign out of the server: the session ends and its token leaves the secret store'
complete -c postctl -n "__fish_postctl_needs_command" -f -a "workspace" -d 'The server workspaces you can sync with: list them, or link this database to one'
complete -c postctl -n "__fish_postctl_needs_command" -f -a "sync" -d 'Push this database\'s changes to the linked server workspace and pull the others\''
complete -c postctl -n "__fish_postctl_needs_command" -f -a "webhooks" -d 'The linked server workspace\'s outbound webhooks: add, list, remove, deliveries, ping'
complete -c postctl -n "__fish_postctl_needs_command" -f -a "triggers" -d 'Events from outside that make posts on the linked server: GitHub releases, JSON calls'
complete -c postctl -n "__fish_postctl_needs_command" -f -a "feeds" -d 'RSS and Atom feeds the linked server watches, making a post per new item'
complete -c postctl -n "__fish_postctl_needs_command" -f -a "approvals" -d 'The posts of the linked server workspace that wait for approval'
complete -c postctl -n "__fish_postctl_needs_command" -f -a "approve" -d 'Approve a post waiting for approval on the linked server: it goes out at its time'
complete -c postctl -n "__fish_postctl_needs_command" -f -a "reject" -d 'Reject a post waiting for approval on the linked server, saying why: it is a draft again'
complete -c postctl -n "__fish_postctl_needs_command" -f -a "inbox" -d 'Your notifications from the linked server: list them, or mark them read'
complete -c postctl -n "__fish_postctl_needs_command" -f -a "notifications" -d 'Your notification channels and preferences on the linked server'
complete -c postctl -n "__fish_postctl_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c postctl -n "__fish_postctl_needs_command" -f -a "help" -d 'Help on a command or a topic (exit-codes, times)'
complete -c postctl -n "__fish_postctl_using_subcommand init" -l tz -d 'Your time zone (IANA name, e.g. Europe/Berlin) [default: the system\'s]' -r
complete -c postctl -n "__fish_postctl_using_subcommand init" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand init" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand init" -l force -d 'Overwrite an existing config file'
complete -c postctl -n "__fish_postctl_using_subcommand init" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand init" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand accounts; and not __fish_seen_subcommand_from add list check reauth rm push" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand accounts; and not __fish_seen_subcommand_from add list check reauth rm push" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand accounts; and not __fish_seen_subcommand_from add list check reauth rm push" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand accounts; and not __fish_seen_subcommand_from add list check reauth rm push" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand accounts; and not __fish_seen_subcommand_from add list check reauth rm push" -f -a "add" -d 'Add an account; the secret goes to the OS keyring (or a 0600 file), never the database'
complete -c postctl -n "__fish_postctl_using_subcommand accounts; and not __fish_seen_subcommand_from add list check reauth rm push" -f -a "list" -d 'List accounts and where each secret lives (never the secret)'
complete -c postctl -n "__fish_postctl_using_subcommand accounts; and not __fish_seen_subcommand_from add list check reauth rm push" -f -a "check" -d 'Check accounts\' credentials against their networks'
complete -c postctl -n "__fish_postctl_using_subcommand accounts; and not __fish_seen_subcommand_from add list check reauth rm push" -f -a "reauth" -d 'Sign in again to an OAuth account (X, VK, Instagram, Threads, Facebook) whose tokens were refused or end soon; its held posts then go out'
complete -c postctl -n "__fish_postctl_using_subcommand accounts; and not __fish_seen_subcommand_from add list check reauth rm push" -f -a "rm" -d 'Remove an account and its stored secret'
complete -c postctl -n "__fish_postctl_using_subcommand accounts; and not __fish_seen_subcommand_from add list check reauth rm push" -f -a "push" -d 'Send an account and its secret to the linked server workspace, whose publisher then posts for it'
complete -c postctl -n "__fish_postctl_using_subcommand accounts; and __fish_seen_subcommand_from add" -l name -d 'Your name for the account, used with --to (lowercase letters, digits, - and _)' -r
complete -c postctl -n "__fish_postctl_using_subcommand accounts; and __fish_seen_subcommand_from add" -l base-url -l instance -l pds -l homeserver -l api-url -d 'The server\'s base URL (Mastodon instance, Bluesky PDS, Matrix homeserver, Telegram Bot API server...)' -r
complete -c postctl -n "__fish_postctl_using_subcommand accounts; and __fish_seen_subcommand_from add" -l handle -d 'Handle (Bluesky: me.bsky.social or a DID)' -r
complete -c postctl -n "__fish_postctl_using_subcommand accounts; and __fish_seen_subcommand_from add" -l chat -d 'Telegram chat: @channelname or a numeric id such as -1001234567890' -r
complete -c postctl -n "__fish_postctl_using_subcommand accounts; and __fish_seen_subcommand_from add" -l channel -d 'Discord or Slack channel, for bot tokens' -r
complete -c postctl -n "__fish_postctl_using_subcommand accounts; and __fish_seen_subcommand_from add" -l room -d 'Matrix room: !id:server or #alias:server' -r
complete -c postctl -n "__fish_postctl_using_subcommand accounts; and __fish_seen_subcommand_from add" -l owner-id -d 'VK wall owner id (negative for a community)' -r
complete -c postctl -n "__fish_postctl_using_subcommand accounts; and __fish_seen_subcommand_from add" -l user-id -l ig-user-id -d 'Instagram or Threads user id (found by the sign-in with --client-id; needed with a token)' -r
complete -c postctl -n "__fish_postctl_using_subcommand accounts; and __fish_seen_subcommand_from add" -l page-id -d 'Facebook Page id: which of your Pages, when the user token given manages several' -r
complete -c postctl -n "__fish_postctl_using_subcommand accounts; and __fish_seen_subcommand_from add" -l author -d 'LinkedIn author URN' -r
complete -c postctl -n "__fish_postctl_using_subcommand accounts; and __fish_seen_subcommand_from add" -l subreddit -d 'Subreddit to post to' -r
complete -c postctl -n "__fish_postctl_using_subcommand accounts; and __fish_seen_subcommand_from add" -l relay -d 'Nostr relay URL (repeat for several)' -r
complete -c postctl -n "__fish_postctl_using_subcommand accounts; and __fish_seen_subcommand_from add" -l token-env -l app-password-env -l webhook-url-env -l key-env -d 'Keep only the name of an environment variable that holds the secret' -r
complete -c postctl -n "__fish_postctl_using_subcommand accounts; and __fish_seen_subcommand_from add" -l client-id -d 'Sign in in the browser (X, VK ID, Instagram Login, Threads, Facebook Login): your app\'s client ID from the network\'s developer site' -r
complete -c postctl -n "__fish_postctl_using_subcommand accounts; and __fish_seen_subcommand_from add" -l redirect-port -d 'The port of the redirect URI http://127.0.0.1:PORT/callback, as registered for your app' -r
complete -c postctl -n "__fish_postctl_using_subcommand accounts; and __fish_seen_subcommand_from add" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand accounts; and __fish_seen_subcommand_from add" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand accounts; and __fish_seen_subcommand_from add" -l from-group -d 'VK: post as the community rather than as the token\'s user (community walls only)'
complete -c postctl -n "__fish_postctl_using_subcommand accounts; and __fish_seen_subcommand_from add" -l token-stdin -l app-password-stdin -l webhook-url-stdin -l key-stdin -d 'Read the secret (token, app password, webhook URL, key) from stdin'
complete -c postctl -n "__fish_postctl_using_subcommand accounts; and __fish_seen_subcommand_from add" -l oauth1 -d 'X: the secret is the four OAuth 1.0a keys on one line (consumer key, consumer secret, access token, access token secret), from --token-stdin or --token-env'
complete -c postctl -n "__fish_postctl_using_subcommand accounts; and __fish_seen_subcommand_from add" -l client-secret-stdin -d 'Read the app\'s client secret from stdin (confidential clients; Meta\'s logins need it: Instagram, Threads, Facebook)'
complete -c postctl -n "__fish_postctl_using_subcommand accounts; and __fish_seen_subcommand_from add" -l no-browser -d 'Print the sign-in address instead of opening a browser'
complete -c postctl -n "__fish_postctl_using_subcommand accounts; and __fish_seen_subcommand_from add" -l paste -d 'Paste the address the browser ends on instead of listening for it (on another machine, or where the port cannot be opened)'
complete -c postctl -n "__fish_postctl_using_subcommand accounts; and __fish_seen_subcommand_from add" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand accounts; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand accounts; and __fish_seen_subcommand_from list" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand accounts; and __fish_seen_subcommand_from list" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand accounts; and __fish_seen_subcommand_from list" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand accounts; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand accounts; and __fish_seen_subcommand_from check" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand accounts; and __fish_seen_subcommand_from check" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand accounts; and __fish_seen_subcommand_from check" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand accounts; and __fish_seen_subcommand_from check" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand accounts; and __fish_seen_subcommand_from reauth" -l redirect-port -d 'The port of the redirect URI http://127.0.0.1:PORT/callback, as registered for your app' -r
complete -c postctl -n "__fish_postctl_using_subcommand accounts; and __fish_seen_subcommand_from reauth" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand accounts; and __fish_seen_subcommand_from reauth" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand accounts; and __fish_seen_subcommand_from reauth" -l client-secret-stdin -d 'Read the app\'s client secret from stdin (confidential clients; Meta\'s logins need it: Instagram, Threads, Facebook)'
complete -c postctl -n "__fish_postctl_using_subcommand accounts; and __fish_seen_subcommand_from reauth" -l no-browser -d 'Print the sign-in address instead of opening a browser'
complete -c postctl -n "__fish_postctl_using_subcommand accounts; and __fish_seen_subcommand_from reauth" -l paste -d 'Paste the address the browser ends on instead of listening for it (on another machine, or where the port cannot be opened)'
complete -c postctl -n "__fish_postctl_using_subcommand accounts; and __fish_seen_subcommand_from reauth" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand accounts; and __fish_seen_subcommand_from reauth" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand accounts; and __fish_seen_subcommand_from rm" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand accounts; and __fish_seen_subcommand_from rm" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand accounts; and __fish_seen_subcommand_from rm" -l cancel-scheduled -d 'Also cancel the account\'s scheduled posts (otherwise such an account is not removed)'
complete -c postctl -n "__fish_postctl_using_subcommand accounts; and __fish_seen_subcommand_from rm" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand accounts; and __fish_seen_subcommand_from rm" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand accounts; and __fish_seen_subcommand_from push" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand accounts; and __fish_seen_subcommand_from push" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand accounts; and __fish_seen_subcommand_from push" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand accounts; and __fish_seen_subcommand_from push" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand group; and not __fish_seen_subcommand_from set list rm" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand group; and not __fish_seen_subcommand_from set list rm" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand group; and not __fish_seen_subcommand_from set list rm" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand group; and not __fish_seen_subcommand_from set list rm" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand group; and not __fish_seen_subcommand_from set list rm" -f -a "set" -d 'Create or replace a group with these accounts'
complete -c postctl -n "__fish_postctl_using_subcommand group; and not __fish_seen_subcommand_from set list rm" -f -a "list" -d 'List groups and their accounts'
complete -c postctl -n "__fish_postctl_using_subcommand group; and not __fish_seen_subcommand_from set list rm" -f -a "rm" -d 'Remove a group (its accounts stay)'
complete -c postctl -n "__fish_postctl_using_subcommand group; and __fish_seen_subcommand_from set" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand group; and __fish_seen_subcommand_from set" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand group; and __fish_seen_subcommand_from set" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand group; and __fish_seen_subcommand_from set" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand group; and __fish_seen_subcommand_from list" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand group; and __fish_seen_subcommand_from list" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand group; and __fish_seen_subcommand_from list" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand group; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand group; and __fish_seen_subcommand_from rm" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand group; and __fish_seen_subcommand_from rm" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand group; and __fish_seen_subcommand_from rm" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand group; and __fish_seen_subcommand_from rm" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand draft; and not __fish_seen_subcommand_from new list show edit rm" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand draft; and not __fish_seen_subcommand_from new list show edit rm" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand draft; and not __fish_seen_subcommand_from new list show edit rm" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand draft; and not __fish_seen_subcommand_from new list show edit rm" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand draft; and not __fish_seen_subcommand_from new list show edit rm" -f -a "new" -d 'Write a new draft: the text as an argument, from stdin (-), or in $EDITOR (-e)'
complete -c postctl -n "__fish_postctl_using_subcommand draft; and not __fish_seen_subcommand_from new list show edit rm" -f -a "list" -d 'List drafts'
complete -c postctl -n "__fish_postctl_using_subcommand draft; and not __fish_seen_subcommand_from new list show edit rm" -f -a "show" -d 'Show one post in full'
complete -c postctl -n "__fish_postctl_using_subcommand draft; and not __fish_seen_subcommand_from new list show edit rm" -f -a "edit" -d 'Change a post\'s text, accounts, media, alt text or time; with no changes given, opens $EDITOR with all of them'
complete -c postctl -n "__fish_postctl_using_subcommand draft; and not __fish_seen_subcommand_from new list show edit rm" -f -a "rm" -d 'Remove a post (pending targets are cancelled; what was published stays)'
complete -c postctl -n "__fish_postctl_using_subcommand draft; and __fish_seen_subcommand_from new" -l to -d 'Accounts or groups, comma separated (repeatable)' -r
complete -c postctl -n "__fish_postctl_using_subcommand draft; and __fish_seen_subcommand_from new" -l media -d 'Attach an image or video (repeatable)' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand draft; and __fish_seen_subcommand_from new" -l alt -d 'Alt text for the media, in the same order (repeatable)' -r
complete -c postctl -n "__fish_postctl_using_subcommand draft; and __fish_seen_subcommand_from new" -l title -d 'A title, for your own lists' -r
complete -c postctl -n "__fish_postctl_using_subcommand draft; and __fish_seen_subcommand_from new" -l label -d 'A label (repeatable)' -r
complete -c postctl -n "__fish_postctl_using_subcommand draft; and __fish_seen_subcommand_from new" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand draft; and __fish_seen_subcommand_from new" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand draft; and __fish_seen_subcommand_from new" -s e -l edit -d 'Write the draft in $EDITOR'
complete -c postctl -n "__fish_postctl_using_subcommand draft; and __fish_seen_subcommand_from new" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand draft; and __fish_seen_subcommand_from new" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand draft; and __fish_seen_subcommand_from list" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand draft; and __fish_seen_subcommand_from list" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand draft; and __fish_seen_subcommand_from list" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand draft; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand draft; and __fish_seen_subcommand_from show" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand draft; and __fish_seen_subcommand_from show" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand draft; and __fish_seen_subcommand_from show" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand draft; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand draft; and __fish_seen_subcommand_from edit" -l to -d 'Accounts or groups, comma separated (repeatable)' -r
complete -c postctl -n "__fish_postctl_using_subcommand draft; and __fish_seen_subcommand_from edit" -l media -d 'Attach an image or video (repeatable)' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand draft; and __fish_seen_subcommand_from edit" -l alt -d 'Alt text for the media, in the same order (repeatable)' -r
complete -c postctl -n "__fish_postctl_using_subcommand draft; and __fish_seen_subcommand_from edit" -l title -d 'A title, for your own lists' -r
complete -c postctl -n "__fish_postctl_using_subcommand draft; and __fish_seen_subcommand_from edit" -l label -d 'A label (repeatable)' -r
complete -c postctl -n "__fish_postctl_using_subcommand draft; and __fish_seen_subcommand_from edit" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand draft; and __fish_seen_subcommand_from edit" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand draft; and __fish_seen_subcommand_from edit" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand draft; and __fish_seen_subcommand_from edit" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand draft; and __fish_seen_subcommand_from rm" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand draft; and __fish_seen_subcommand_from rm" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand draft; and __fish_seen_subcommand_from rm" -s y -l yes -d 'Remove a post that is still scheduled without asking'
complete -c postctl -n "__fish_postctl_using_subcommand draft; and __fish_seen_subcommand_from rm" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand draft; and __fish_seen_subcommand_from rm" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand schedule" -l at -d 'When to publish: "tomorrow 09:00", "fri 10:00", "2026-12-01 09:00", "in 2h", RFC 3339' -r
complete -c postctl -n "__fish_postctl_using_subcommand schedule" -l every -d 'Publish every week on a rule: "mon,wed 09:00", "mon-fri 09:00,17:30", "daily 08:00"' -r
complete -c postctl -n "__fish_postctl_using_subcommand schedule" -l tz -d 'The zone WHEN is read in [default: config `timezone`, else the system\'s]' -r
complete -c postctl -n "__fish_postctl_using_subcommand schedule" -l to -d 'Accounts or groups, comma separated (repeatable)' -r
complete -c postctl -n "__fish_postctl_using_subcommand schedule" -l media -d 'Attach an image or video (repeatable)' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand schedule" -l alt -d 'Alt text for the media, in the same order (repeatable)' -r
complete -c postctl -n "__fish_postctl_using_subcommand schedule" -l title -d 'A title, for your own lists' -r
complete -c postctl -n "__fish_postctl_using_subcommand schedule" -l label -d 'A label (repeatable)' -r
complete -c postctl -n "__fish_postctl_using_subcommand schedule" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand schedule" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand schedule" -l earlier -d 'In a daylight-saving overlap, take the first of the two times'
complete -c postctl -n "__fish_postctl_using_subcommand schedule" -l later -d 'In a daylight-saving overlap, take the second of the two times'
complete -c postctl -n "__fish_postctl_using_subcommand schedule" -l allow-past -d 'Accept a time in the past'
complete -c postctl -n "__fish_postctl_using_subcommand schedule" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand schedule" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand reschedule" -l at -d 'When to publish: "tomorrow 09:00", "fri 10:00", "2026-12-01 09:00", "in 2h", RFC 3339' -r
complete -c postctl -n "__fish_postctl_using_subcommand reschedule" -l every -d 'Publish every week on a rule: "mon,wed 09:00", "mon-fri 09:00,17:30", "daily 08:00"' -r
complete -c postctl -n "__fish_postctl_using_subcommand reschedule" -l tz -d 'The zone WHEN is read in [default: config `timezone`, else the system\'s]' -r
complete -c postctl -n "__fish_postctl_using_subcommand reschedule" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand reschedule" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand reschedule" -l earlier -d 'In a daylight-saving overlap, take the first of the two times'
complete -c postctl -n "__fish_postctl_using_subcommand reschedule" -l later -d 'In a daylight-saving overlap, take the second of the two times'
complete -c postctl -n "__fish_postctl_using_subcommand reschedule" -l allow-past -d 'Accept a time in the past'
complete -c postctl -n "__fish_postctl_using_subcommand reschedule" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand reschedule" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand cancel" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand cancel" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand cancel" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand cancel" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand queue; and not __fish_seen_subcommand_from slots add" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand queue; and not __fish_seen_subcommand_from slots add" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand queue; and not __fish_seen_subcommand_from slots add" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand queue; and not __fish_seen_subcommand_from slots add" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand queue; and not __fish_seen_subcommand_from slots add" -f -a "slots" -d 'Posting slots of accounts'
complete -c postctl -n "__fish_postctl_using_subcommand queue; and not __fish_seen_subcommand_from slots add" -f -a "add" -d 'Add a post at the next free slot of each account'
complete -c postctl -n "__fish_postctl_using_subcommand queue; and __fish_seen_subcommand_from slots" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand queue; and __fish_seen_subcommand_from slots" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand queue; and __fish_seen_subcommand_from slots" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand queue; and __fish_seen_subcommand_from slots" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand queue; and __fish_seen_subcommand_from slots" -f -a "set" -d 'Set an account\'s weekly slots (rules separated by ;)'
complete -c postctl -n "__fish_postctl_using_subcommand queue; and __fish_seen_subcommand_from slots" -f -a "list" -d 'List accounts\' slots and their next free times'
complete -c postctl -n "__fish_postctl_using_subcommand queue; and __fish_seen_subcommand_from slots" -f -a "clear" -d 'Remove an account\'s slots'
complete -c postctl -n "__fish_postctl_using_subcommand queue; and __fish_seen_subcommand_from slots" -f -a "suggest" -d 'Propose slots from the account\'s best times (`postctl insights`); --apply sets them'
complete -c postctl -n "__fish_postctl_using_subcommand queue; and __fish_seen_subcommand_from add" -l to -d 'Accounts or groups, comma separated (repeatable)' -r
complete -c postctl -n "__fish_postctl_using_subcommand queue; and __fish_seen_subcommand_from add" -l media -d 'Attach an image or video (repeatable)' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand queue; and __fish_seen_subcommand_from add" -l alt -d 'Alt text for the media, in the same order (repeatable)' -r
complete -c postctl -n "__fish_postctl_using_subcommand queue; and __fish_seen_subcommand_from add" -l title -d 'A title, for your own lists' -r
complete -c postctl -n "__fish_postctl_using_subcommand queue; and __fish_seen_subcommand_from add" -l label -d 'A label (repeatable)' -r
complete -c postctl -n "__fish_postctl_using_subcommand queue; and __fish_seen_subcommand_from add" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand queue; and __fish_seen_subcommand_from add" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand queue; and __fish_seen_subcommand_from add" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand queue; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand list" -l tz -d 'Show times in this zone [default: your zone]' -r
complete -c postctl -n "__fish_postctl_using_subcommand list" -l limit -d 'Show at most N posts [default: 50]' -r
complete -c postctl -n "__fish_postctl_using_subcommand list" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand list" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand list" -l upcoming -d 'Only posts still to publish, soonest first'
complete -c postctl -n "__fish_postctl_using_subcommand list" -l drafts -d 'Only drafts'
complete -c postctl -n "__fish_postctl_using_subcommand list" -l failed -d 'Only posts with a failed, uncertain or missed target'
complete -c postctl -n "__fish_postctl_using_subcommand list" -l all -d 'Show every post'
complete -c postctl -n "__fish_postctl_using_subcommand list" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand list" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand calendar" -l week -d 'A week: the one holding DATE (YYYY-MM-DD) [default: this week]' -r
complete -c postctl -n "__fish_postctl_using_subcommand calendar" -l month -d 'A month (YYYY-MM) [default: this month]' -r
complete -c postctl -n "__fish_postctl_using_subcommand calendar" -l tz -d 'Show times in this zone [default: your zone]' -r
complete -c postctl -n "__fish_postctl_using_subcommand calendar" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand calendar" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand calendar" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand calendar" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand tui" -l tz -d 'Show and read times in this zone [default: your zone]' -r
complete -c postctl -n "__fish_postctl_using_subcommand tui" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand tui" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand tui" -l no-mouse -d 'Leave the mouse to the terminal (selecting text) instead of clicking and dragging posts'
complete -c postctl -n "__fish_postctl_using_subcommand tui" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand tui" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand export" -l format -d 'The file format' -r -f -a "json\t''
csv\t''
ics\t''"
complete -c postctl -n "__fish_postctl_using_subcommand export" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand export" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand export" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand export" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand import" -l tz -d 'The zone for rows without a tz column [default: your zone]' -r
complete -c postctl -n "__fish_postctl_using_subcommand import" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand import" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand import" -l dry-run -d 'Check every row and report, without importing'
complete -c postctl -n "__fish_postctl_using_subcommand import" -l allow-past -d 'Accept rows whose time is in the past'
complete -c postctl -n "__fish_postctl_using_subcommand import" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand import" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand post" -l file -d 'Read the text (Markdown) from a file' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand post" -l release -d 'Announce a release from a changelog (Keep a Changelog, conventional-changelog, cargo-release) or a GitHub release event file ($GITHUB_EVENT_PATH), through the `release` template (stored, or the built-in one), fitted to each network' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand post" -l version -d 'The release to announce [default: the latest released section]' -r
complete -c postctl -n "__fish_postctl_using_subcommand post" -l var -d 'A template variable for --release (repeatable): --var name=postctl' -r
complete -c postctl -n "__fish_postctl_using_subcommand post" -l to -d 'Accounts or groups, comma separated (repeatable)' -r
complete -c postctl -n "__fish_postctl_using_subcommand post" -l media -d 'Attach an image or video (repeatable)' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand post" -l alt -d 'Alt text for the media, in the same order (repeatable)' -r
complete -c postctl -n "__fish_postctl_using_subcommand post" -l title -d 'A title, for your own lists' -r
complete -c postctl -n "__fish_postctl_using_subcommand post" -l label -d 'A label (repeatable)' -r
complete -c postctl -n "__fish_postctl_using_subcommand post" -l thread -d 'Text longer than a network takes: split into a thread (auto, numbered) or refuse (never) [default: auto; with --release: the summary and a link where the notes do not fit]' -r -f -a "auto\t'Split into a thread where the network has threads'
never\t'Refuse text that does not fit'
numbered\t'Split, numbering the parts "1/3"'"
complete -c postctl -n "__fish_postctl_using_subcommand post" -l wait -d 'Wait up to this many seconds for retries (rate limits, errors); later ones are left to the daemon or `postctl run-due`. On a linked database: for the server\'s result (0: return once the server has the post)' -r
complete -c postctl -n "__fish_postctl_using_subcommand post" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand post" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand post" -l dry-run -d 'Show exactly what each network would receive; send nothing'
complete -c postctl -n "__fish_postctl_using_subcommand post" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand post" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c postctl -n "__fish_postctl_using_subcommand check" -l file -d 'Read the text (Markdown) from a file' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand check" -l to -d 'Accounts or groups, comma separated' -r
complete -c postctl -n "__fish_postctl_using_subcommand check" -l thread -d 'How text that does not fit would be handled' -r -f -a "auto\t'Split into a thread where the network has threads'
never\t'Refuse text that does not fit'
numbered\t'Split, numbering the parts "1/3"'"
complete -c postctl -n "__fish_postctl_using_subcommand check" -l media -d 'An image the post will carry (repeatable): networks that need one (Instagram) are checked for it; the file is not read' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand check" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand check" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand check" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c postctl -n "__fish_postctl_using_subcommand run-due" -l wait -d 'Wait up to this many seconds for retries, and for rate limits (429s) that end [default: 120]' -r
complete -c postctl -n "__fish_postctl_using_subcommand run-due" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand run-due" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand run-due" -l quiet -d 'Print nothing when nothing was due'
complete -c postctl -n "__fish_postctl_using_subcommand run-due" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand run-due" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand daemon" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand daemon" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand daemon" -l print-unit -d 'Print a systemd --user unit that runs the daemon, and exit'
complete -c postctl -n "__fish_postctl_using_subcommand daemon" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand daemon" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand status" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand status" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand status" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand status" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand retry" -l wait -d 'Publish it now instead of leaving it to the daemon or `postctl run-due`, waiting up to this many seconds for retries (rate limits, errors), as `post --wait` does' -r
complete -c postctl -n "__fish_postctl_using_subcommand retry" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand retry" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand retry" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand retry" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand resolve" -l published -d 'It was published: the link you found (in a thread, of the part postctl was unsure of; the parts after it are then sent)' -r
complete -c postctl -n "__fish_postctl_using_subcommand resolve" -l account -d 'Only the target on this account [default: every uncertain target of the post]' -r
complete -c postctl -n "__fish_postctl_using_subcommand resolve" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand resolve" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand resolve" -l not-published -d 'It was not published: publish it again now (from that part on)'
complete -c postctl -n "__fish_postctl_using_subcommand resolve" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand resolve" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand stats; and not __fish_seen_subcommand_from collect export" -l account -d 'Only posts published to this account' -r
complete -c postctl -n "__fish_postctl_using_subcommand stats; and not __fish_seen_subcommand_from collect export" -l since -d 'Only posts published within this span: 90m, 48h, 7d, 2w [default: 30d]' -r
complete -c postctl -n "__fish_postctl_using_subcommand stats; and not __fish_seen_subcommand_from collect export" -l sort -d 'The order of the table' -r -f -a "engagement\t'Likes, reposts, replies, quotes and reactions together, most first'
recent\t'Newest first'
likes\t'Most likes first'
reposts\t'Most reposts first'
replies\t'Most replies first'"
complete -c postctl -n "__fish_postctl_using_subcommand stats; and not __fish_seen_subcommand_from collect export" -l limit -d 'Show at most N posts' -r
complete -c postctl -n "__fish_postctl_using_subcommand stats; and not __fish_seen_subcommand_from collect export" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand stats; and not __fish_seen_subcommand_from collect export" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand stats; and not __fish_seen_subcommand_from collect export" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand stats; and not __fish_seen_subcommand_from collect export" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c postctl -n "__fish_postctl_using_subcommand stats; and not __fish_seen_subcommand_from collect export" -a "collect" -d 'Read the counters that are due now from each network, once (for cron and CI)'
complete -c postctl -n "__fish_postctl_using_subcommand stats; and not __fish_seen_subcommand_from collect export" -a "export" -d 'Write the raw readings or the daily roll-ups as CSV or JSON, streamed'
complete -c postctl -n "__fish_postctl_using_subcommand stats; and __fish_seen_subcommand_from collect" -l account -d 'Only this account' -r
complete -c postctl -n "__fish_postctl_using_subcommand stats; and __fish_seen_subcommand_from collect" -l since -d 'Only posts published within this span: 90m, 48h, 7d, 2w [default: up to 90 days]' -r
complete -c postctl -n "__fish_postctl_using_subcommand stats; and __fish_seen_subcommand_from collect" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand stats; and __fish_seen_subcommand_from collect" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand stats; and __fish_seen_subcommand_from collect" -s q -l quiet -d 'Print nothing but errors'
complete -c postctl -n "__fish_postctl_using_subcommand stats; and __fish_seen_subcommand_from collect" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand stats; and __fish_seen_subcommand_from collect" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand stats; and __fish_seen_subcommand_from export" -l format -d 'The format [default: csv, or json with --json]' -r -f -a "csv\t''
json\t''"
complete -c postctl -n "__fish_postctl_using_subcommand stats; and __fish_seen_subcommand_from export" -l account -d 'Only this account' -r
complete -c postctl -n "__fish_postctl_using_subcommand stats; and __fish_seen_subcommand_from export" -s o -l output -d 'Write to FILE (whole or not at all) instead of stdout' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand stats; and __fish_seen_subcommand_from export" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand stats; and __fish_seen_subcommand_from export" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand stats; and __fish_seen_subcommand_from export" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand stats; and __fish_seen_subcommand_from export" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c postctl -n "__fish_postctl_using_subcommand insights" -l account -d 'Only this account' -r
complete -c postctl -n "__fish_postctl_using_subcommand insights" -l since -l period -d 'The period: this span before now, compared with the span before it: 90m, 48h, 7d, 2w, at most a year [default: 30d]' -r
complete -c postctl -n "__fish_postctl_using_subcommand insights" -l top -d 'How many top posts to show per account' -r
complete -c postctl -n "__fish_postctl_using_subcommand insights" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand insights" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand insights" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand insights" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand report" -l period -d 'The span before now to report on: 7d, 2w, 30d, 48h [default: 30d]' -r
complete -c postctl -n "__fish_postctl_using_subcommand report" -l from -d 'The first day to report on (YYYY-MM-DD, in your zone), with --to' -r
complete -c postctl -n "__fish_postctl_using_subcommand report" -l to -d 'The last day to report on, included (YYYY-MM-DD), with --from' -r
complete -c postctl -n "__fish_postctl_using_subcommand report" -l account -d 'Only this account' -r
complete -c postctl -n "__fish_postctl_using_subcommand report" -l format -d 'The format [default: md, or json with --json]' -r -f -a "md\t'Markdown'
html\t'One self-contained HTML page with charts'
csv\t'One row per post, one column per counter'
json\t'Everything, for scripts'"
complete -c postctl -n "__fish_postctl_using_subcommand report" -s o -l output -d 'Write to FILE (whole or not at all) instead of stdout' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand report" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand report" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand report" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand report" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c postctl -n "__fish_postctl_using_subcommand unpublish" -l account -d 'Only from this account [default: every account it was published to]' -r
complete -c postctl -n "__fish_postctl_using_subcommand unpublish" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand unpublish" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand unpublish" -l yes -d 'Do it without asking (required when stdin is not a terminal)'
complete -c postctl -n "__fish_postctl_using_subcommand unpublish" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand unpublish" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand search" -l limit -d 'Show at most N posts [default: 50]' -r
complete -c postctl -n "__fish_postctl_using_subcommand search" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand search" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand search" -l all -d 'Show every post'
complete -c postctl -n "__fish_postctl_using_subcommand search" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand search" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand template; and not __fish_seen_subcommand_from add list show rm render" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand template; and not __fish_seen_subcommand_from add list show rm render" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand template; and not __fish_seen_subcommand_from add list show rm render" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand template; and not __fish_seen_subcommand_from add list show rm render" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand template; and not __fish_seen_subcommand_from add list show rm render" -f -a "add" -d 'Add a template: its default body, and a variant per network with --for NETWORK --file FILE'
complete -c postctl -n "__fish_postctl_using_subcommand template; and not __fish_seen_subcommand_from add list show rm render" -f -a "list" -d 'List templates (the built-in ones too)'
complete -c postctl -n "__fish_postctl_using_subcommand template; and not __fish_seen_subcommand_from add list show rm render" -f -a "show" -d 'Show a template\'s body and variants'
complete -c postctl -n "__fish_postctl_using_subcommand template; and not __fish_seen_subcommand_from add list show rm render" -f -a "rm" -d 'Remove a template, or with --for only that network\'s variant'
complete -c postctl -n "__fish_postctl_using_subcommand template; and not __fish_seen_subcommand_from add list show rm render" -f -a "render" -d 'Render a template with variables, for one network or the default body'
complete -c postctl -n "__fish_postctl_using_subcommand template; and __fish_seen_subcommand_from add" -l file -d 'A file with the default body; right after --for NETWORK, that network\'s variant (repeatable)' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand template; and __fish_seen_subcommand_from add" -l for -d 'The network whose variant the next --file holds: x, mastodon, bluesky, telegram, discord, slack, matrix, ... (repeatable)' -r
complete -c postctl -n "__fish_postctl_using_subcommand template; and __fish_seen_subcommand_from add" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand template; and __fish_seen_subcommand_from add" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand template; and __fish_seen_subcommand_from add" -s e -l edit -d 'Write the default body in $EDITOR'
complete -c postctl -n "__fish_postctl_using_subcommand template; and __fish_seen_subcommand_from add" -l force -d 'Change a template that exists: its body if one is given, and the variants given (the others stay)'
complete -c postctl -n "__fish_postctl_using_subcommand template; and __fish_seen_subcommand_from add" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand template; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand template; and __fish_seen_subcommand_from list" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand template; and __fish_seen_subcommand_from list" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand template; and __fish_seen_subcommand_from list" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand template; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand template; and __fish_seen_subcommand_from show" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand template; and __fish_seen_subcommand_from show" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand template; and __fish_seen_subcommand_from show" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand template; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand template; and __fish_seen_subcommand_from rm" -l for -d 'Remove only this network\'s variant' -r
complete -c postctl -n "__fish_postctl_using_subcommand template; and __fish_seen_subcommand_from rm" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand template; and __fish_seen_subcommand_from rm" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand template; and __fish_seen_subcommand_from rm" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand template; and __fish_seen_subcommand_from rm" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand template; and __fish_seen_subcommand_from render" -l var -d 'A variable (repeatable); a.b=VALUE sets b inside a' -r
complete -c postctl -n "__fish_postctl_using_subcommand template; and __fish_seen_subcommand_from render" -l vars-file -d 'A JSON object of variables' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand template; and __fish_seen_subcommand_from render" -l for -d 'Render this network\'s variant (the default body when it has none)' -r
complete -c postctl -n "__fish_postctl_using_subcommand template; and __fish_seen_subcommand_from render" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand template; and __fish_seen_subcommand_from render" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand template; and __fish_seen_subcommand_from render" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand template; and __fish_seen_subcommand_from render" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand voice; and not __fish_seen_subcommand_from set list show rm" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand voice; and not __fish_seen_subcommand_from set list show rm" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand voice; and not __fish_seen_subcommand_from set list show rm" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand voice; and not __fish_seen_subcommand_from set list show rm" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand voice; and not __fish_seen_subcommand_from set list show rm" -f -a "set" -d 'Create or change a voice; options not given keep their value'
complete -c postctl -n "__fish_postctl_using_subcommand voice; and not __fish_seen_subcommand_from set list show rm" -f -a "list" -d 'List voices'
complete -c postctl -n "__fish_postctl_using_subcommand voice; and not __fish_seen_subcommand_from set list show rm" -f -a "show" -d 'Show one voice'
complete -c postctl -n "__fish_postctl_using_subcommand voice; and not __fish_seen_subcommand_from set list show rm" -f -a "rm" -d 'Remove a voice from config.toml'
complete -c postctl -n "__fish_postctl_using_subcommand voice; and __fish_seen_subcommand_from set" -l tone -d 'How it sounds: "friendly, plain, no hype"' -r
complete -c postctl -n "__fish_postctl_using_subcommand voice; and __fish_seen_subcommand_from set" -l audience -d 'Who it speaks to' -r
complete -c postctl -n "__fish_postctl_using_subcommand voice; and __fish_seen_subcommand_from set" -l use -d 'A word or phrase the voice prefers (repeatable)' -r
complete -c postctl -n "__fish_postctl_using_subcommand voice; and __fish_seen_subcommand_from set" -l avoid -d 'A word or phrase the voice never uses; lint fails on it (repeatable)' -r
complete -c postctl -n "__fish_postctl_using_subcommand voice; and __fish_seen_subcommand_from set" -l hashtags -d 'The voice\'s hashtags: "#a #b"' -r
complete -c postctl -n "__fish_postctl_using_subcommand voice; and __fish_seen_subcommand_from set" -l hashtag-policy -d 'What a post must do with hashtags' -r -f -a "required\t'Every one of the voice\'s hashtags must be in a post'
optional\t'Hashtags are up to the writer'
none\t'No hashtags at all'"
complete -c postctl -n "__fish_postctl_using_subcommand voice; and __fish_seen_subcommand_from set" -l emoji -d 'Emoji: allow, none, or max:N' -r
complete -c postctl -n "__fish_postctl_using_subcommand voice; and __fish_seen_subcommand_from set" -l language -d 'The language posts are written in (en, en-GB, pt-BR...)' -r
complete -c postctl -n "__fish_postctl_using_subcommand voice; and __fish_seen_subcommand_from set" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand voice; and __fish_seen_subcommand_from set" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand voice; and __fish_seen_subcommand_from set" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand voice; and __fish_seen_subcommand_from set" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c postctl -n "__fish_postctl_using_subcommand voice; and __fish_seen_subcommand_from list" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand voice; and __fish_seen_subcommand_from list" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand voice; and __fish_seen_subcommand_from list" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand voice; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand voice; and __fish_seen_subcommand_from show" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand voice; and __fish_seen_subcommand_from show" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand voice; and __fish_seen_subcommand_from show" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand voice; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand voice; and __fish_seen_subcommand_from rm" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand voice; and __fish_seen_subcommand_from rm" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand voice; and __fish_seen_subcommand_from rm" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand voice; and __fish_seen_subcommand_from rm" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand lint" -l file -d 'Lint the text (Markdown) of a file instead; - reads stdin' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand lint" -l voice -d 'The voice to check against [default: the only voice, when config.toml has exactly one]' -r
complete -c postctl -n "__fish_postctl_using_subcommand lint" -l to -d 'Accounts or groups whose lengths to check, comma separated [default: the post\'s accounts, else default_to]' -r
complete -c postctl -n "__fish_postctl_using_subcommand lint" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand lint" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand lint" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand lint" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand generate" -l from -d 'Material to draw on: a changelog (the section of --version, else the latest release), a GitHub release event (JSON), or any text file' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand generate" -l version -d 'The release to take from the --from changelog [default: the latest]' -r
complete -c postctl -n "__fish_postctl_using_subcommand generate" -l voice -d 'The brand voice to write in [default: the only voice, when config.toml has exactly one]' -r
complete -c postctl -n "__fish_postctl_using_subcommand generate" -l to -d 'Accounts or groups the drafts are for, comma separated [default: default_to]' -r
complete -c postctl -n "__fish_postctl_using_subcommand generate" -l variants -d 'How many variants to write, 1 to 10' -r
complete -c postctl -n "__fish_postctl_using_subcommand generate" -l rewrite -d 'Rewrite this post (id or unambiguous prefix) for the network given with --for' -r
complete -c postctl -n "__fish_postctl_using_subcommand generate" -l for -d 'The network to rewrite for (bluesky, bsky, mastodon, x...), or an account or group' -r
complete -c postctl -n "__fish_postctl_using_subcommand generate" -l hashtags -d 'Suggest hashtags for this post (id or unambiguous prefix); changes nothing' -r
complete -c postctl -n "__fish_postctl_using_subcommand generate" -l count -d 'How many hashtags to suggest' -r
complete -c postctl -n "__fish_postctl_using_subcommand generate" -l model -d 'The model to ask instead of the configured one' -r
complete -c postctl -n "__fish_postctl_using_subcommand generate" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand generate" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand generate" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand generate" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand ai; and not __fish_seen_subcommand_from set show" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand ai; and not __fish_seen_subcommand_from set show" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand ai; and not __fish_seen_subcommand_from set show" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand ai; and not __fish_seen_subcommand_from set show" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand ai; and not __fish_seen_subcommand_from set show" -f -a "set" -d 'Choose the provider, model, base URL, token limit and key; options not given keep their value'
complete -c postctl -n "__fish_postctl_using_subcommand ai; and not __fish_seen_subcommand_from set show" -f -a "show" -d 'Show the settings in force and where the key comes from (never the key)'
complete -c postctl -n "__fish_postctl_using_subcommand ai; and __fish_seen_subcommand_from set" -l provider -r -f -a "anthropic\t'Anthropic\'s Messages API (Claude)'
openai\t'Any OpenAI-compatible chat-completions server: OpenAI, Ollama, llama.cpp, vLLM'"
complete -c postctl -n "__fish_postctl_using_subcommand ai; and __fish_seen_subcommand_from set" -l model -d 'The model\'s name as the provider knows it' -r
complete -c postctl -n "__fish_postctl_using_subcommand ai; and __fish_seen_subcommand_from set" -l base-url -d 'The API\'s base URL (OpenAI-compatible servers: up to /v1); \\"\\" for the provider\'s own' -r
complete -c postctl -n "__fish_postctl_using_subcommand ai; and __fish_seen_subcommand_from set" -l max-tokens -d 'The longest answer, in tokens' -r
complete -c postctl -n "__fish_postctl_using_subcommand ai; and __fish_seen_subcommand_from set" -l key-env -d 'Read the API key from this environment variable each time instead' -r
complete -c postctl -n "__fish_postctl_using_subcommand ai; and __fish_seen_subcommand_from set" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand ai; and __fish_seen_subcommand_from set" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand ai; and __fish_seen_subcommand_from set" -l key-stdin -d 'Read the API key from standard input and keep it in the OS keyring'
complete -c postctl -n "__fish_postctl_using_subcommand ai; and __fish_seen_subcommand_from set" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand ai; and __fish_seen_subcommand_from set" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c postctl -n "__fish_postctl_using_subcommand ai; and __fish_seen_subcommand_from show" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand ai; and __fish_seen_subcommand_from show" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand ai; and __fish_seen_subcommand_from show" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand ai; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand media; and not __fish_seen_subcommand_from host" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand media; and not __fish_seen_subcommand_from host" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand media; and not __fish_seen_subcommand_from host" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand media; and not __fish_seen_subcommand_from host" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand media; and not __fish_seen_subcommand_from host" -f -a "host" -d 'Where networks that fetch images from a URL (Instagram) get them: an S3-compatible bucket'
complete -c postctl -n "__fish_postctl_using_subcommand media; and __fish_seen_subcommand_from host" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand media; and __fish_seen_subcommand_from host" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand media; and __fish_seen_subcommand_from host" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand media; and __fish_seen_subcommand_from host" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand media; and __fish_seen_subcommand_from host" -f -a "set" -d 'Set the bucket ([media.host] in config.toml; the secret key in the OS keyring)'
complete -c postctl -n "__fish_postctl_using_subcommand media; and __fish_seen_subcommand_from host" -f -a "show" -d 'Show the bucket in use and where its secret key is (never the key)'
complete -c postctl -n "__fish_postctl_using_subcommand mcp" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand mcp" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand mcp" -l allow-publish -d 'Also offer the tools that publish now (publish_now) and delete published posts (unpublish)'
complete -c postctl -n "__fish_postctl_using_subcommand mcp" -l print-config -d 'Print the JSON that adds postctl to Claude Desktop\'s or Claude Code\'s MCP servers, and exit'
complete -c postctl -n "__fish_postctl_using_subcommand mcp" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand mcp" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand login" -l user -d 'Your user name on the server [asked for on a terminal]' -r
complete -c postctl -n "__fish_postctl_using_subcommand login" -l workspace -d 'The workspace to link this database to [default: your only one, or the one named after you]' -r
complete -c postctl -n "__fish_postctl_using_subcommand login" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand login" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand login" -l password-stdin -d 'Read the password (and then the TOTP code, when asked) from standard input, one a line'
complete -c postctl -n "__fish_postctl_using_subcommand login" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand login" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand logout" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand logout" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand logout" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand logout" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand workspace; and not __fish_seen_subcommand_from list use" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand workspace; and not __fish_seen_subcommand_from list use" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand workspace; and not __fish_seen_subcommand_from list use" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand workspace; and not __fish_seen_subcommand_from list use" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand workspace; and not __fish_seen_subcommand_from list use" -f -a "list" -d 'The server workspaces you are a member of, and the one this database syncs with'
complete -c postctl -n "__fish_postctl_using_subcommand workspace; and not __fish_seen_subcommand_from list use" -f -a "use" -d 'Link this database to another of your workspaces on the server'
complete -c postctl -n "__fish_postctl_using_subcommand workspace; and __fish_seen_subcommand_from list" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand workspace; and __fish_seen_subcommand_from list" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand workspace; and __fish_seen_subcommand_from list" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand workspace; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand workspace; and __fish_seen_subcommand_from use" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand workspace; and __fish_seen_subcommand_from use" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand workspace; and __fish_seen_subcommand_from use" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand workspace; and __fish_seen_subcommand_from use" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand sync; and not __fish_seen_subcommand_from status" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand sync; and not __fish_seen_subcommand_from status" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand sync; and not __fish_seen_subcommand_from status" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand sync; and not __fish_seen_subcommand_from status" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand sync; and not __fish_seen_subcommand_from status" -f -a "status" -d 'What waits to be pushed, when the last sync was, the server and workspace, and conflicts'
complete -c postctl -n "__fish_postctl_using_subcommand sync; and __fish_seen_subcommand_from status" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand sync; and __fish_seen_subcommand_from status" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand sync; and __fish_seen_subcommand_from status" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand sync; and __fish_seen_subcommand_from status" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand webhooks; and not __fish_seen_subcommand_from add list enable disable remove deliveries redeliver ping" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand webhooks; and not __fish_seen_subcommand_from add list enable disable remove deliveries redeliver ping" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand webhooks; and not __fish_seen_subcommand_from add list enable disable remove deliveries redeliver ping" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand webhooks; and not __fish_seen_subcommand_from add list enable disable remove deliveries redeliver ping" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand webhooks; and not __fish_seen_subcommand_from add list enable disable remove deliveries redeliver ping" -f -a "add" -d 'Add an endpoint that receives the workspace\'s events, signed the Standard Webhooks way'
complete -c postctl -n "__fish_postctl_using_subcommand webhooks; and not __fish_seen_subcommand_from add list enable disable remove deliveries redeliver ping" -f -a "list" -d 'The workspace\'s endpoints: events, and whether they are enabled'
complete -c postctl -n "__fish_postctl_using_subcommand webhooks; and not __fish_seen_subcommand_from add list enable disable remove deliveries redeliver ping" -f -a "enable" -d 'Enable an endpoint again (after the server disabled it for failing), forgetting its failures'
complete -c postctl -n "__fish_postctl_using_subcommand webhooks; and not __fish_seen_subcommand_from add list enable disable remove deliveries redeliver ping" -f -a "disable" -d 'Disable an endpoint: it gets no deliveries until enabled again'
complete -c postctl -n "__fish_postctl_using_subcommand webhooks; and not __fish_seen_subcommand_from add list enable disable remove deliveries redeliver ping" -f -a "remove" -d 'Remove an endpoint and its delivery history'
complete -c postctl -n "__fish_postctl_using_subcommand webhooks; and not __fish_seen_subcommand_from add list enable disable remove deliveries redeliver ping" -f -a "deliveries" -d 'An endpoint\'s deliveries, newest first, with each attempt\'s answer'
complete -c postctl -n "__fish_postctl_using_subcommand webhooks; and not __fish_seen_subcommand_from add list enable disable remove deliveries redeliver ping" -f -a "redeliver" -d 'Send a delivery\'s event again, as a new delivery (a new webhook-id)'
complete -c postctl -n "__fish_postctl_using_subcommand webhooks; and not __fish_seen_subcommand_from add list enable disable remove deliveries redeliver ping" -f -a "ping" -d 'Send a `ping` event to an endpoint, to test the receiver'
complete -c postctl -n "__fish_postctl_using_subcommand webhooks; and __fish_seen_subcommand_from add" -l events -d 'The event types it receives, comma separated (repeatable)' -r
complete -c postctl -n "__fish_postctl_using_subcommand webhooks; and __fish_seen_subcommand_from add" -l description -d 'What the endpoint is for' -r
complete -c postctl -n "__fish_postctl_using_subcommand webhooks; and __fish_seen_subcommand_from add" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand webhooks; and __fish_seen_subcommand_from add" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand webhooks; and __fish_seen_subcommand_from add" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand webhooks; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand webhooks; and __fish_seen_subcommand_from list" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand webhooks; and __fish_seen_subcommand_from list" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand webhooks; and __fish_seen_subcommand_from list" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand webhooks; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand webhooks; and __fish_seen_subcommand_from enable" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand webhooks; and __fish_seen_subcommand_from enable" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand webhooks; and __fish_seen_subcommand_from enable" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand webhooks; and __fish_seen_subcommand_from enable" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand webhooks; and __fish_seen_subcommand_from disable" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand webhooks; and __fish_seen_subcommand_from disable" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand webhooks; and __fish_seen_subcommand_from disable" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand webhooks; and __fish_seen_subcommand_from disable" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand webhooks; and __fish_seen_subcommand_from remove" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand webhooks; and __fish_seen_subcommand_from remove" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand webhooks; and __fish_seen_subcommand_from remove" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand webhooks; and __fish_seen_subcommand_from remove" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand webhooks; and __fish_seen_subcommand_from deliveries" -l limit -d 'How many deliveries to show (1 to 100)' -r
complete -c postctl -n "__fish_postctl_using_subcommand webhooks; and __fish_seen_subcommand_from deliveries" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand webhooks; and __fish_seen_subcommand_from deliveries" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand webhooks; and __fish_seen_subcommand_from deliveries" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand webhooks; and __fish_seen_subcommand_from deliveries" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand webhooks; and __fish_seen_subcommand_from redeliver" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand webhooks; and __fish_seen_subcommand_from redeliver" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand webhooks; and __fish_seen_subcommand_from redeliver" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand webhooks; and __fish_seen_subcommand_from redeliver" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand webhooks; and __fish_seen_subcommand_from ping" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand webhooks; and __fish_seen_subcommand_from ping" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand webhooks; and __fish_seen_subcommand_from ping" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand webhooks; and __fish_seen_subcommand_from ping" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand triggers; and not __fish_seen_subcommand_from add list remove" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand triggers; and not __fish_seen_subcommand_from add list remove" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand triggers; and not __fish_seen_subcommand_from add list remove" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand triggers; and not __fish_seen_subcommand_from add list remove" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand triggers; and not __fish_seen_subcommand_from add list remove" -f -a "add" -d 'Make a trigger: a GitHub release webhook, or a generic JSON endpoint'
complete -c postctl -n "__fish_postctl_using_subcommand triggers; and not __fish_seen_subcommand_from add list remove" -f -a "list" -d 'The workspace\'s triggers, with the URL each listens on'
complete -c postctl -n "__fish_postctl_using_subcommand triggers; and not __fish_seen_subcommand_from add list remove" -f -a "remove" -d 'Remove a trigger: its URL stops answering; the posts it made stay'
complete -c postctl -n "__fish_postctl_using_subcommand triggers; and __fish_seen_subcommand_from add" -l template -d 'The template the event is rendered through (the workspace\'s, or `release`)' -r
complete -c postctl -n "__fish_postctl_using_subcommand triggers; and __fish_seen_subcommand_from add" -l to -d 'The server accounts the posts go to, comma separated (repeatable)' -r
complete -c postctl -n "__fish_postctl_using_subcommand triggers; and __fish_seen_subcommand_from add" -l description -d 'What the trigger is for' -r
complete -c postctl -n "__fish_postctl_using_subcommand triggers; and __fish_seen_subcommand_from add" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand triggers; and __fish_seen_subcommand_from add" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand triggers; and __fish_seen_subcommand_from add" -l prereleases -d 'GitHub: announce prereleases too'
complete -c postctl -n "__fish_postctl_using_subcommand triggers; and __fish_seen_subcommand_from add" -l queue -d 'Schedule each post at the next free slot of the first account\'s queue, not now'
complete -c postctl -n "__fish_postctl_using_subcommand triggers; and __fish_seen_subcommand_from add" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand triggers; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c postctl -n "__fish_postctl_using_subcommand triggers; and __fish_seen_subcommand_from list" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand triggers; and __fish_seen_subcommand_from list" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand triggers; and __fish_seen_subcommand_from list" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand triggers; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand triggers; and __fish_seen_subcommand_from remove" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand triggers; and __fish_seen_subcommand_from remove" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand triggers; and __fish_seen_subcommand_from remove" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand triggers; and __fish_seen_subcommand_from remove" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand feeds; and not __fish_seen_subcommand_from add list remove" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand feeds; and not __fish_seen_subcommand_from add list remove" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand feeds; and not __fish_seen_subcommand_from add list remove" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand feeds; and not __fish_seen_subcommand_from add list remove" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand feeds; and not __fish_seen_subcommand_from add list remove" -f -a "add" -d 'Watch an RSS or Atom feed: each new item becomes a post through a template'
complete -c postctl -n "__fish_postctl_using_subcommand feeds; and not __fish_seen_subcommand_from add list remove" -f -a "list" -d 'The workspace\'s feeds, with each one\'s last poll and last error'
complete -c postctl -n "__fish_postctl_using_subcommand feeds; and not __fish_seen_subcommand_from add list remove" -f -a "remove" -d 'Stop watching a feed; the posts it made stay'
complete -c postctl -n "__fish_postctl_using_subcommand feeds; and __fish_seen_subcommand_from add" -l to -d 'The server accounts the posts go to, comma separated (repeatable)' -r
complete -c postctl -n "__fish_postctl_using_subcommand feeds; and __fish_seen_subcommand_from add" -l template -d 'The template each item is rendered through (the workspace\'s, on the server)' -r
complete -c postctl -n "__fish_postctl_using_subcommand feeds; and __fish_seen_subcommand_from add" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand feeds; and __fish_seen_subcommand_from add" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand feeds; and __fish_seen_subcommand_from add" -l queue -d 'Schedule each new item at the next free slot of the first account\'s queue, not now'
complete -c postctl -n "__fish_postctl_using_subcommand feeds; and __fish_seen_subcommand_from add" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand feeds; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand feeds; and __fish_seen_subcommand_from list" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand feeds; and __fish_seen_subcommand_from list" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand feeds; and __fish_seen_subcommand_from list" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand feeds; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand feeds; and __fish_seen_subcommand_from remove" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand feeds; and __fish_seen_subcommand_from remove" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand feeds; and __fish_seen_subcommand_from remove" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand feeds; and __fish_seen_subcommand_from remove" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand approvals" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand approvals" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand approvals" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand approvals" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand approve" -l comment -d 'A note kept with the decision in the post\'s history' -r
complete -c postctl -n "__fish_postctl_using_subcommand approve" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand approve" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand approve" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand approve" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand reject" -l comment -d 'What the author should change (required)' -r
complete -c postctl -n "__fish_postctl_using_subcommand reject" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand reject" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand reject" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand reject" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand inbox; and not __fish_seen_subcommand_from read" -l limit -d 'How many to show, newest first (1 to 200)' -r
complete -c postctl -n "__fish_postctl_using_subcommand inbox; and not __fish_seen_subcommand_from read" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand inbox; and not __fish_seen_subcommand_from read" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand inbox; and not __fish_seen_subcommand_from read" -l unread -d 'Only the notifications not read yet'
complete -c postctl -n "__fish_postctl_using_subcommand inbox; and not __fish_seen_subcommand_from read" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand inbox; and not __fish_seen_subcommand_from read" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand inbox; and not __fish_seen_subcommand_from read" -f -a "read" -d 'Mark a notification read, or all of them'
complete -c postctl -n "__fish_postctl_using_subcommand inbox; and __fish_seen_subcommand_from read" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand inbox; and __fish_seen_subcommand_from read" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand inbox; and __fish_seen_subcommand_from read" -l all -d 'Every unread notification'
complete -c postctl -n "__fish_postctl_using_subcommand inbox; and __fish_seen_subcommand_from read" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand inbox; and __fish_seen_subcommand_from read" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand notifications; and not __fish_seen_subcommand_from channels preferences" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand notifications; and not __fish_seen_subcommand_from channels preferences" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand notifications; and not __fish_seen_subcommand_from channels preferences" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand notifications; and not __fish_seen_subcommand_from channels preferences" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand notifications; and not __fish_seen_subcommand_from channels preferences" -f -a "channels" -d 'Where your notifications go besides the inbox: add, list, remove'
complete -c postctl -n "__fish_postctl_using_subcommand notifications; and not __fish_seen_subcommand_from channels preferences" -f -a "preferences" -d 'Which event types reach which channels; `set` changes one'
complete -c postctl -n "__fish_postctl_using_subcommand notifications; and __fish_seen_subcommand_from channels" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand notifications; and __fish_seen_subcommand_from channels" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand notifications; and __fish_seen_subcommand_from channels" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand notifications; and __fish_seen_subcommand_from channels" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand notifications; and __fish_seen_subcommand_from channels" -f -a "add" -d 'Add a channel: email, ntfy, telegram, or a Slack, Discord or Matrix account of the workspace'
complete -c postctl -n "__fish_postctl_using_subcommand notifications; and __fish_seen_subcommand_from channels" -f -a "list" -d 'Your channels (never their tokens)'
complete -c postctl -n "__fish_postctl_using_subcommand notifications; and __fish_seen_subcommand_from channels" -f -a "remove" -d 'Remove a channel'
complete -c postctl -n "__fish_postctl_using_subcommand notifications; and __fish_seen_subcommand_from preferences" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand notifications; and __fish_seen_subcommand_from preferences" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand notifications; and __fish_seen_subcommand_from preferences" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand notifications; and __fish_seen_subcommand_from preferences" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand notifications; and __fish_seen_subcommand_from preferences" -f -a "set" -d 'Turn one channel on or off for one event type (the others keep their choice)'
complete -c postctl -n "__fish_postctl_using_subcommand completions" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand completions" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand completions" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand completions" -s h -l help -d 'Print help'
complete -c postctl -n "__fish_postctl_using_subcommand help" -l config -d 'Config file [default: $POSTCTL_CONFIG, else $XDG_CONFIG_HOME/postctl/config.toml]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand help" -l db -d 'Database file [default: $POSTCTL_DB, else <data dir>/postctl.db; the data dir is $POSTCTL_DATA_DIR or $XDG_DATA_HOME/postctl]' -r -F
complete -c postctl -n "__fish_postctl_using_subcommand help" -l json -d 'Print data as JSON on stdout'
complete -c postctl -n "__fish_postctl_using_subcommand help" -s h -l help -d 'Print help'
