//! `sfn`: run a state machine definition locally with mocked task responses.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};
use serde_json::{Value, json};
use sfn::mock::MockHandler;
use sfn::{
    Clock, ExecutionOptions, ExecutionStatus, Executor, StateMachine, SystemClock, VirtualClock,
};

/// Run Amazon States Language state machines locally.
#[derive(Debug, Parser)]
#[command(name = "sfn", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run one execution and print its status, output or error and cause, and history as JSON.
    /// Exit code: 0 succeeded, 1 failed or timed out, 2 usage or definition error.
    Run(RunArgs),
}

#[derive(Debug, clap::Args)]
struct RunArgs {
    /// The definition: an ASL JSON file, or a CloudFormation template (YAML or JSON) holding an
    /// AWS::StepFunctions::StateMachine.
    #[arg(long)]
    definition: PathBuf,
    /// Logical id of the state machine, when the template has several.
    #[arg(long)]
    state_machine: Option<String>,
    /// Execution input: JSON text, or @FILE to read it from a file.
    #[arg(long, default_value = "{}")]
    input: String,
    /// Mocked task responses, in Step Functions Local's mock configuration format.
    #[arg(long)]
    mocks: Option<PathBuf>,
    /// Which entry of the mock file's StateMachines to use (default: the only one).
    #[arg(long)]
    mock_state_machine: Option<String>,
    /// Which test case of that state machine to use (default: the only one).
    #[arg(long)]
    test_case: Option<String>,
    /// Execution name (`$$.Execution.Name`); default: a UUID.
    #[arg(long)]
    name: Option<String>,
    /// Time for Wait states, retries and timeouts: virtual (instant) or real.
    #[arg(long, value_enum, default_value_t = ClockKind::Virtual)]
    clock: ClockKind,
    /// Leave the history out of the printed result.
    #[arg(long)]
    no_history: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ClockKind {
    Virtual,
    Real,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run(args) => match run(args) {
            Ok(status) => match status {
                ExecutionStatus::Succeeded => ExitCode::SUCCESS,
                ExecutionStatus::Failed | ExecutionStatus::TimedOut => ExitCode::from(1),
            },
            Err(error) => {
                eprintln!("sfn: {error:#}");
                ExitCode::from(2)
            }
        },
    }
}

fn read(path: &PathBuf) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

fn run(args: RunArgs) -> Result<ExecutionStatus> {
    let text = read(&args.definition)?;
    let document = sfn::template::parse_document(&text)
        .with_context(|| format!("{} is not a definition", args.definition.display()))?;
    let (machine_name, definition) = if sfn::template::is_template(&document) {
        sfn::template::state_machine_definition(&document, args.state_machine.as_deref())?
    } else {
        if args.state_machine.is_some() {
            bail!(
                "--state-machine applies to a CloudFormation template, and {} is a definition",
                args.definition.display()
            );
        }
        let stem = args
            .definition
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("state-machine")
            .to_string();
        (stem, document)
    };
    let machine = StateMachine::from_value(definition)?;
    let input: Value = match args.input.strip_prefix('@') {
        Some(path) => {
            let text = read(&PathBuf::from(path))?;
            serde_json::from_str(&text)
                .with_context(|| format!("the input file {path} is not JSON"))?
        }
        None => serde_json::from_str(&args.input)
            .context("--input is not JSON (use @FILE to read a file)")?,
    };
    let handler = match &args.mocks {
        Some(path) => MockHandler::from_config(
            &read(path)?,
            args.mock_state_machine.as_deref(),
            args.test_case.as_deref(),
        )
        .with_context(|| format!("mock file {}", path.display()))?,
        None => {
            if args.test_case.is_some() {
                bail!("--test-case needs --mocks");
            }
            MockHandler::new()
        }
    };
    let clock: Arc<dyn Clock> = match args.clock {
        ClockKind::Virtual => Arc::new(VirtualClock::new()),
        ClockKind::Real => Arc::new(SystemClock),
    };
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let executor = Executor::new(Arc::new(handler)).with_clock(clock);
    let options = ExecutionOptions {
        name: args.name,
        state_machine_name: machine_name,
        ..ExecutionOptions::default()
    };
    let result = runtime.block_on(executor.run(&machine, input, options));
    let mut printed = serde_json::to_value(&result).context("cannot serialize the result")?;
    if args.no_history
        && let Some(map) = printed.as_object_mut()
    {
        map.remove("history");
    }
    let _ = json!(null);
    println!(
        "{}",
        serde_json::to_string_pretty(&printed).context("cannot serialize the result")?
    );
    Ok(result.status)
}
