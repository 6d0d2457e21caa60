//! `synth`: prints the shop stack's CloudFormation template.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Parser, ValueEnum};
use synth::shop::{DEFAULT_ARTIFACTS_DIR, ShopOptions, WorkflowKind};

#[derive(Debug, Clone, Copy, ValueEnum)]
enum FormatArg {
    Yaml,
    Json,
}

/// Prints the CloudFormation template of the serverless shop (table, functions, order workflow, REST API).
///
/// Stack parameters (architecture, stage name, log retention, throttling, reserved concurrency) have
/// defaults in the template and are set at deploy time; the options below are what must be decided when the
/// template is written.
#[derive(Debug, Parser)]
#[command(name = "synth", version)]
struct Cli {
    /// Output format.
    #[arg(long, value_enum, default_value = "yaml")]
    format: FormatArg,

    /// Write the template to FILE (atomically: nothing is written if synth fails) instead of stdout.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,

    /// Run the order workflow as an Express state machine behind StartSyncExecution: POST /create-order
    /// answers with the outcome (200, 409 out of stock...) instead of 202 Accepted.
    #[arg(long)]
    express: bool,

    /// Directory holding the functions' zips (<DIR>/<function>/bootstrap.zip, as `cargo lambda build
    /// --output-format zip` writes them), relative to the directory the template is written to;
    /// `aws cloudformation package` uploads them from there.
    #[arg(long, value_name = "DIR", default_value = DEFAULT_ARTIFACTS_DIR)]
    artifacts_dir: String,
}

fn write_atomically(path: &Path, contents: &str) -> anyhow::Result<()> {
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let file_name = path
        .file_name()
        .with_context(|| format!("{} does not name a file", path.display()))?;
    let temporary = directory.join(format!(
        ".{}.tmp-{}",
        file_name.to_string_lossy(),
        std::process::id()
    ));
    let result = std::fs::write(&temporary, contents)
        .with_context(|| format!("writing {}", temporary.display()))
        .and_then(|()| {
            std::fs::rename(&temporary, path)
                .with_context(|| format!("renaming {} to {}", temporary.display(), path.display()))
        });
    if result.is_err() {
        // Best effort: the temporary file is ours and useless once the write failed.
        let _ = std::fs::remove_file(&temporary);
    }
    result
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let options = ShopOptions {
        workflow: if cli.express {
            WorkflowKind::Express
        } else {
            WorkflowKind::Standard
        },
        artifacts_dir: cli.artifacts_dir,
    };
    let format = match cli.format {
        FormatArg::Yaml => synth::Format::Yaml,
        FormatArg::Json => synth::Format::Json,
    };
    let text =
        synth::synthesize(&options, format).context("synth failed: no template was written")?;
    match cli.out {
        Some(path) => write_atomically(&path, &text)?,
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(text.as_bytes())
                .and_then(|()| stdout.flush())
                .context("writing the template to stdout")?;
        }
    }
    Ok(())
}
