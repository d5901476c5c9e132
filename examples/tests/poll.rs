//! The `poll` example against a real MediaWiki on loopback: it catches up with
//! `--once`, fills the store and prints the batches; it refuses to run without a
//! User-Agent, and stops on a start older than the wiki keeps.
//!
//! Needs Debian's `mediawiki php-sqlite3 php-cli php-intl php-mbstring php-xml`;
//! fails (never skips) when the wiki cannot start.

mod support;

#[path = "../../editgroups-sources/tests/support/mediawiki.rs"]
#[allow(dead_code, unreachable_pub)]
mod mediawiki;

use mediawiki::{BOT_PASS, BOT_USER, TOOL_PASS, TOOL_USER, TestWiki};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const OR_CREATE: &str =
    "/* wbeditentity-create:0| */ create X ([[:toollabs:editgroups/b/OR/ab12cd3|details]])";
const OR_EDIT: &str =
    "/* wbeditentity-update:0| */ import X ([[:toollabs:editgroups/b/OR/ab12cd3|details]])";
const QS: &str =
    "#quickstatements; [[:toollabs:quickstatements/#/batch/2120|batch #2120]] by [[User:Pintoch|]]";

/// Runs the example with a deadline.
fn run(args: &[&str]) -> Output {
    let mut child = Command::new(support::example("poll"))
        .args(args)
        .env_remove("EDITGROUPS_USER_AGENT")
        .env_remove("EDITGROUPS_BOT_USER")
        .env_remove("EDITGROUPS_BOT_PASSWORD")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("poll did not finish");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

fn text(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poll_once_catches_up_and_prints_the_batches() {
    let wiki = TestWiki::start();
    let tool = wiki.login(TOOL_USER, TOOL_PASS).await;
    let since = tool.server_time().await.to_rfc3339();
    tool.edit("Q1", "Q1 v1", OR_CREATE).await;
    tool.edit("Q1", "Q1 v1\nP31 Q5", OR_EDIT).await;
    tool.edit("Q4", "Q4 v1", OR_CREATE).await;
    tool.edit("Property:P1", "P1 v1", QS).await;
    tool.edit("Property:P1", "P1 v1\nlabel", QS).await;

    let output = run(&[
        "--api",
        &wiki.api,
        "--once",
        "--db",
        "memory:",
        "--since",
        &since,
        "--user-agent",
        "editgroups-tests/0 (poll example test)",
        "--bot-user",
        BOT_USER,
        "--bot-password",
        BOT_PASS,
        "--interval",
        "0.1",
    ]);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("read=5 inserted=5 duplicates=0"),
        "{stdout}"
    );
    assert!(stdout.contains("gaps=0"), "{stdout}");
    assert!(
        stdout.contains("wiki:OR/ab12cd3 by Pintoch: edits=3 pages=2 new=2 reverted=0 tags=wbeditentity-create,wbeditentity-update"),
        "{stdout}"
    );
    assert!(
        stdout.contains("wiki:QSv2/2120 by Pintoch: edits=2 pages=1 new=1 reverted=0"),
        "{stdout}"
    );
    assert!(stderr.contains("logged in"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poll_refuses_bad_setups_with_clear_errors() {
    let wiki = TestWiki::start();
    // No User-Agent.
    let output = run(&["--api", &wiki.api, "--once", "--db", "memory:"]);
    let (_, stderr) = text(&output);
    assert!(!output.status.success());
    assert!(stderr.contains("--user-agent"), "{stderr}");

    // A start older than the wiki keeps: a gap, not a silent skip.
    let agent = "editgroups-tests/0 (poll example test)";
    let args = [
        "--api",
        &wiki.api,
        "--once",
        "--db",
        "memory:",
        "--since",
        "200d",
        "--max-age-days",
        "30",
        "--user-agent",
        agent,
    ];
    let output = run(&args);
    let (stdout, stderr) = text(&output);
    assert!(!output.status.success(), "{stdout}");
    assert!(stderr.contains("gap in the history"), "{stderr}");
    assert!(stderr.contains("--accept-gap"), "{stderr}");
    // Accepted, it is counted and the poller goes on.
    let mut accepted = args.to_vec();
    accepted.push("--accept-gap");
    let output = run(&accepted);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("gaps=1"), "{stdout}");
    assert!(stdout.contains("gap passed over:"), "{stdout}");

    // A wrong bot password.
    let output = run(&[
        "--api",
        &wiki.api,
        "--once",
        "--db",
        "memory:",
        "--user-agent",
        agent,
        "--bot-user",
        BOT_USER,
        "--bot-password",
        "wrongwrongwrongwrongwrongwrong00",
    ]);
    let (stdout, stderr) = text(&output);
    assert!(!output.status.success(), "{stdout}");
    assert!(stderr.contains("login as UndoBot@ci failed"), "{stderr}");
}
