//! The arguments of `postctl media`.

use clap::{Args, Subcommand};

#[derive(Debug, Subcommand)]
pub enum MediaCommand {
    /// Where networks that fetch images from a URL (Instagram) get them: an S3-compatible bucket
    #[command(subcommand)]
    Host(MediaHostCommand),
}

#[derive(Debug, Subcommand)]
pub enum MediaHostCommand {
    /// Set the bucket ([media.host] in config.toml; the secret key in the OS keyring)
    #[command(after_help = MEDIA_HOST_SET_HELP)]
    Set(MediaHostSetArgs),
    /// Show the bucket in use and where its secret key is (never the key)
    Show,
}

const MEDIA_HOST_SET_HELP: &str = "\
Instagram downloads each image from a public URL. postctl uploads the image to this
bucket, gives Instagram a presigned link valid for one hour, and deletes the file once the
post is confirmed. The bucket can stay private. Any S3-compatible service works (AWS S3,
Cloudflare R2, Backblaze B2, MinIO); the key needs PutObject, GetObject and DeleteObject.

Examples:
  postctl media host set --endpoint https://s3.eu-central-1.amazonaws.com --bucket my-pics \\
      --region eu-central-1 --access-key-id AKIA... --secret-stdin < secret.txt
  postctl media host set --endpoint https://ACCOUNT.r2.cloudflarestorage.com --bucket pics \\
      --region auto --access-key-id KEY_ID --secret-env R2_SECRET

The settings go to [media.host] in config.toml, keeping the rest of the file. The secret
access key goes to the OS keyring (else secrets.toml, mode 0600); only where it is is
written to config.toml.";

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("secret").required(true).args(["secret_stdin", "secret_env"])))]
pub struct MediaHostSetArgs {
    /// The S3 endpoint URL
    #[arg(long, value_name = "URL")]
    pub endpoint: String,
    /// The bucket's name
    #[arg(long, value_name = "NAME")]
    pub bucket: String,
    /// The bucket's region (auto for Cloudflare R2)
    #[arg(long, value_name = "REGION")]
    pub region: String,
    /// The access key id
    #[arg(long, value_name = "ID")]
    pub access_key_id: String,
    /// Read the secret access key from standard input and keep it in the OS keyring
    #[arg(long)]
    pub secret_stdin: bool,
    /// Read the secret access key from this environment variable each time instead
    #[arg(long, value_name = "VAR")]
    pub secret_env: Option<String>,
}
