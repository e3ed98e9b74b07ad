//! Contact safety under real data: the do-not-contact list in the forms real files take (channel
//! names in any case or spelling, ids with spaces, invisible or fullwidth characters, ids a
//! spreadsheet changed) never lets a suppressed customer into an audience — the run either
//! excludes them or refuses to publish (exit 2).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use crate::ingest::{mkfifo, run_limited};
use crate::support::{assert_ok, root, stderr, Sandbox, CDNOW_COLUMNS};

const AS_OF: &str = "1998-06-30";

/// The bundled do-not-contact list: (id, channel or "" for every channel).
fn bundled_list() -> Vec<(String, String)> {
    std::fs::read_to_string(root().join("notebooks-data/suppressions.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[0].to_string(), f[1].to_string())
        })
        .collect()
}

/// The list written back with each id and channel passed through `id` and `channel`.
fn variant(id: impl Fn(&str) -> String, channel: impl Fn(&str) -> String) -> String {
    let mut text = String::from("customer_id,channel,reason\n");
    for (i, c) in bundled_list() {
        text.push_str(&format!("{},{},test\n", id(&i), channel(&c)));
    }
    text
}

/// Writes a job over the bundled data whose do-not-contact list is `list`, given both as the
/// sources' list and as the campaigns' own list, with the bundled campaigns' channels.
fn write_job(sb: &Sandbox, list: &str) {
    let data = root().join("notebooks-data");
    std::fs::write(sb.path("suppressions.csv"), list).unwrap();
    let campaign = |name: &str, channels: &str| {
        format!(
            r#"[campaign]
name = "{name}"
budget = 100000.0
objective = "profit"
value_per_response = 35.0
control_fraction = 0.10
seed = 3
{channels}
[suppression]
files = ["suppressions.csv"]
"#
        )
    };
    let email = "[[channel]]\nname = \"email\"\ncost = 0.10\nscore_column = \"score\"\nconsent_column = \"email_opt_in\"\n";
    let mail = "[[channel]]\nname = \"mail\"\ncost = 0.80\nscore_column = \"score\"\nconsent_column = \"mail_opt_in\"\n";
    std::fs::write(sb.path("email.toml"), campaign("email-only", email)).unwrap();
    std::fs::write(
        sb.path("both.toml"),
        campaign("email-and-mail", &format!("{email}{mail}")),
    )
    .unwrap();
    let p = |f: &str| data.join(f).display().to_string();
    std::fs::write(
        sb.path("job.toml"),
        format!(
            r#"[job]
name = "safety"
out = "runs"
as_of = "{AS_OF}"
stages = ["ingest", "features", "score", "select"]

[ingest]
max_reject_rate = 0.01

[sources.transactions]
path = "{tx}"
delimiter = "whitespace"
date_format = "%Y%m%d"
{CDNOW_COLUMNS}
[sources.customers]
path = "{customers}"

[sources.suppressions]
path = "suppressions.csv"

[models]
registry = "{models}"

[drift]
action = "warn"

[select]
campaigns = ["email.toml", "both.toml"]

# The two campaigns are planned jointly; two contacts per customer keep both audiences full
# (this test is about suppression, not about sharing customers).
[policy]
max_contacts = 2
"#,
            tx = p("CDNOW_master.txt"),
            customers = p("customers.csv"),
            models = root().join("models").display(),
        ),
    )
    .unwrap();
}

/// Audience rows (id, channel) of an `audience.csv`.
fn audience(file: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(file).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let id = header.iter().position(|h| *h == "customer_id").unwrap();
    let ch = header.iter().position(|h| *h == "channel").unwrap();
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[id].to_string(), f[ch].to_string())
        })
        .collect()
}

/// Asserts that no audience of the run holds a customer the bundled list suppresses on the
/// channel they were selected for, and that the audiences are not trivially empty.
fn assert_no_suppressed_customer(sb: &Sandbox) {
    let dir = sb.path(&format!("runs/{AS_OF}/audience"));
    assert_no_suppressed_customer_in(&[
        dir.join("email-only/audience.csv"),
        dir.join("email-and-mail/audience.csv"),
    ]);
}

/// Asserts that none of these audience files holds a customer the bundled list suppresses on the
/// channel they were selected for, and that none is trivially empty.
fn assert_no_suppressed_customer_in(files: &[PathBuf]) {
    let mut all: HashSet<String> = HashSet::new();
    let mut by_channel: HashMap<String, HashSet<String>> = HashMap::new();
    for (id, ch) in bundled_list() {
        if ch.is_empty() {
            all.insert(id);
        } else {
            by_channel.entry(ch).or_default().insert(id);
        }
    }
    for file in files {
        let rows = audience(file);
        assert!(
            rows.len() > 1_000,
            "{}: audience nearly empty",
            file.display()
        );
        let leaked: Vec<&(String, String)> = rows
            .iter()
            .filter(|(id, ch)| {
                all.contains(id) || by_channel.get(ch).is_some_and(|s| s.contains(id))
            })
            .collect();
        assert!(
            leaked.is_empty(),
            "{}: {} suppressed customers in the audience, e.g. {:?}",
            file.display(),
            leaked.len(),
            &leaked[..leaked.len().min(5)]
        );
    }
}

fn run_variant(list: String) -> (Sandbox, std::process::Output) {
    let sb = Sandbox::new(&[]);
    write_job(&sb, &list);
    let out = sb.run(&["run", "job.toml", "--quiet"]);
    (sb, out)
}

/// A way of writing a channel name.
type Spelling = fn(&str) -> String;

/// Channel names as real lists write them: `Email`/`Mail`, `EMAIL`/`MAIL`, `e-mail`, padded.
fn spellings() -> [(&'static str, Spelling); 4] {
    [
        ("Capitalised", |c| {
            let mut s = c.to_string();
            if let Some(f) = s.get_mut(0..1) {
                f.make_ascii_uppercase();
            }
            s
        }),
        ("UPPER", |c| c.to_uppercase()),
        ("e-mail", |c| {
            if c == "email" {
                "e-mail".into()
            } else {
                c.into()
            }
        }),
        ("padded", |c| format!("  {c} ")),
    ]
}

#[test]
fn channel_names_in_any_case_or_spelling_suppress() {
    for (name, spell) in spellings() {
        let (sb, out) = run_variant(variant(str::to_string, spell));
        assert_ok(&out);
        assert_no_suppressed_customer(&sb);
        let summary = sb.json(&format!("runs/{AS_OF}/audience/email-only/summary.json"));
        assert!(
            summary["exclusions"]["suppressed"].as_u64().unwrap() > 100,
            "{name}: {}",
            summary["exclusions"]
        );
    }
}

#[test]
fn ids_with_spaces_invisible_or_fullwidth_characters_suppress() {
    let forms: [fn(&str) -> String; 3] = [
        |i| format!(" {i}  "),
        |i| format!("{i}\u{200B}"),
        |i| {
            i.chars()
                .map(|c| char::from_u32(c as u32 - '0' as u32 + 0xFF10).unwrap_or(c))
                .collect()
        },
    ];
    for form in forms {
        let (sb, out) = run_variant(variant(form, str::to_string));
        assert_ok(&out);
        assert_no_suppressed_customer(&sb);
    }
}

#[test]
fn ids_a_spreadsheet_changed_make_the_run_refuse() {
    let forms: [fn(&str) -> String; 2] = [
        |i| i.trim_start_matches('0').to_string(),
        |i| format!("{}.0", i.trim_start_matches('0')),
    ];
    for form in forms {
        let (sb, out) = run_variant(variant(form, str::to_string));
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains("refusing to select"), "{err}");
        assert!(err.contains("[ids] policy"), "{err}");
        assert!(
            !sb.path(&format!("runs/{AS_OF}/audience")).exists(),
            "a refused run published audiences"
        );
    }
}

/// Standalone `select` (each campaign) and `plan` (both, two contacts per customer) over the
/// scores of a run, with `args` added: the outputs, one `audience.csv` per campaign, in `out-select-*` and `out-plan`.
fn select_and_plan(sb: &Sandbox, args: &[&str]) -> Vec<(std::process::Output, Vec<PathBuf>)> {
    let customers = root().join("notebooks-data/customers.csv");
    let scores = format!("runs/{AS_OF}/scores.csv");
    let common = [
        "--scores",
        scores.as_str(),
        "--customers",
        customers.to_str().unwrap(),
    ];
    let mut outs = Vec::new();
    for (file, name) in [
        ("email.toml", "email-only"),
        ("both.toml", "email-and-mail"),
    ] {
        let out = format!("out-select-{name}");
        let cmd = [
            &["select", "--campaign", file, "--out", &out][..],
            &common,
            args,
        ]
        .concat();
        outs.push((sb.run(&cmd), vec![sb.path(&out).join("audience.csv")]));
    }
    // Two contacts per customer keep both audiences full, as in the run.
    std::fs::write(sb.path("policy.toml"), "[policy]\nmax_contacts = 2\n").unwrap();
    let cmd = [
        &[
            "plan",
            "--campaign",
            "email.toml",
            "--campaign",
            "both.toml",
        ][..],
        &["--policy", "policy.toml", "--out", "out-plan"],
        &common,
        args,
    ]
    .concat();
    let files =
        ["email-only", "email-and-mail"].map(|c| sb.path("out-plan").join(c).join("audience.csv"));
    outs.push((sb.run(&cmd), files.to_vec()));
    outs
}

/// The leak cases through standalone `select` and `plan`, not only `run`: channel names in any
/// case or spelling suppress, ids a spreadsheet changed make both refuse.
#[test]
fn select_and_plan_apply_the_list_in_any_spelling_or_refuse() {
    let (sb, out) = run_variant(variant(str::to_string, str::to_string));
    assert_ok(&out);
    for (name, spell) in spellings() {
        std::fs::write(sb.path("suppressions.csv"), variant(str::to_string, spell)).unwrap();
        for (out, files) in select_and_plan(&sb, &[]) {
            assert!(out.status.success(), "{name}: {}", stderr(&out));
            assert_no_suppressed_customer_in(&files);
        }
    }
    std::fs::write(
        sb.path("suppressions.csv"),
        variant(|i| i.trim_start_matches('0').to_string(), str::to_string),
    )
    .unwrap();
    for dir in [
        "out-select-email-only",
        "out-select-email-and-mail",
        "out-plan",
    ] {
        std::fs::remove_dir_all(sb.path(dir)).unwrap();
    }
    for (out, files) in select_and_plan(&sb, &[]) {
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(
            stderr(&out).contains("refusing to select"),
            "{}",
            stderr(&out)
        );
        assert!(
            files.iter().all(|f| !f.exists()),
            "a refused command published"
        );
    }
}

#[test]
fn the_numeric_id_policy_matches_ids_without_their_zeros() {
    let sb = Sandbox::new(&[]);
    write_job(
        &sb,
        &variant(|i| i.trim_start_matches('0').to_string(), str::to_string),
    );
    let job = sb.read("job.toml") + "\n[ids]\npolicy = \"numeric\"\n";
    std::fs::write(sb.path("job.toml"), job).unwrap();
    assert_ok(&sb.run(&["run", "job.toml", "--quiet"]));
    assert_no_suppressed_customer(&sb);
    let summary = sb.json(&format!("runs/{AS_OF}/audience/email-only/summary.json"));
    assert_eq!(summary["matching"]["id_policy"], "numeric");
}

/// A one-channel campaign with a budget that does not bind; `extra` is appended.
fn small_campaign(sb: &Sandbox, extra: &str) {
    std::fs::write(
        sb.path("campaign.toml"),
        format!(
            "[campaign]\nname = \"small\"\nbudget = 100.0\nobjective = \"profit\"\nvalue_column = \"clv\"\ncontrol_fraction = 0.0\nseed = 1\n\n[[channel]]\nname = \"email\"\ncost = 0.5\nscore_column = \"score\"\nconsent_column = \"email_opt_in\"\n{extra}"
        ),
    )
    .unwrap();
}

fn select(sb: &Sandbox) -> std::process::Output {
    select_with(sb, &[])
}

/// `select` of the small campaign over `scores.csv` into `out`, with `extra` flags.
fn select_with(sb: &Sandbox, extra: &[&str]) -> std::process::Output {
    let args = [
        "select",
        "--scores",
        "scores.csv",
        "--campaign",
        "campaign.toml",
        "--out",
        "out",
    ];
    sb.run(&[&args[..], extra].concat())
}

/// A sandbox for `select`: the small campaign with `suppressions.csv` as its list, `scores`
/// rows (after [`HEADER`]) and `suppressions` rows (after the list's header).
fn list_sandbox(scores: &str, suppressions: &str) -> Sandbox {
    let sb = Sandbox::new(&[]);
    small_campaign(&sb, "\n[suppression]\nfiles = [\"suppressions.csv\"]\n");
    std::fs::write(sb.path("scores.csv"), format!("{HEADER}{scores}")).unwrap();
    std::fs::write(
        sb.path("suppressions.csv"),
        format!("customer_id,channel,reason\n{suppressions}"),
    )
    .unwrap();
    sb
}

/// A sandbox with the small campaign and one scored customer.
fn one_customer_sandbox() -> Sandbox {
    let sb = Sandbox::new(&[]);
    small_campaign(&sb, "");
    std::fs::write(sb.path("scores.csv"), format!("{HEADER}001,0.5,80.0,1\n")).unwrap();
    sb
}

/// `select` with consent taken from the scores table: an id with a leading space there is the
/// same customer as the suppressed id.
#[test]
fn scores_ids_follow_the_identity_rule() {
    let sb = list_sandbox(
        "\" 07983\",0.9,80.0,1\n00002,0.5,40.0,1\n",
        "07983,EMAIL,unsubscribed\n",
    );
    let out = select(&sb);
    assert_ok(&out);
    let audience = sb.read("out/audience.csv");
    assert!(!audience.contains("07983"), "{audience}");
    assert!(audience.contains("00002"), "{audience}");
}

/// A suppression entry that matches no scored customer, or names a channel no campaign uses,
/// is counted in the summary and warned about, never dropped silently.
#[test]
fn unmatched_and_other_channel_suppression_entries_are_counted_and_reported() {
    let sb = list_sandbox(
        "00001,0.9,80.0,1\n00002,0.5,40.0,1\n",
        "00001,Email,unsubscribed\n99999,,deceased\n00002,whatsapp,opt_out\n",
    );
    let out = select(&sb);
    assert_ok(&out);
    let matching = &sb.json("out/summary.json")["matching"];
    assert_eq!(matching["suppression_entries"], 3, "{matching}");
    assert_eq!(matching["suppression_unmatched"], 1, "{matching}");
    assert_eq!(
        matching["suppression_other_channels"]["whatsapp"], 1,
        "{matching}"
    );
    let err = stderr(&out);
    assert!(
        err.contains("1 of 3 suppression entries match no scored customer"),
        "{err}"
    );
    assert!(
        err.contains("channels no campaign uses: whatsapp 1"),
        "{err}"
    );
}

/// Runs `select` on a small campaign over `scores` and asserts that it refuses (exit 2) with a
/// message containing `needle`, writing no audience.
fn assert_refused(scores: &str, needle: &str) -> Sandbox {
    let sb = Sandbox::new(&[]);
    small_campaign(&sb, "");
    std::fs::write(sb.path("scores.csv"), scores).unwrap();
    let out = select(&sb);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains(needle), "{}", stderr(&out));
    assert!(!sb.path("out/audience.csv").exists());
    sb
}

const HEADER: &str = "customer_id,score,clv,email_opt_in\n";

#[test]
fn the_same_id_twice_in_the_scores_is_refused() {
    assert_refused(
        &format!("{HEADER}00001,0.9,80.0,1\n\" 00001\",0.5,40.0,1\n"),
        "more than once",
    );
}

#[test]
fn scores_that_are_not_probabilities_are_refused() {
    for bad in ["7.0", "-0.5", "-1"] {
        assert_refused(
            &format!("{HEADER}001,{bad},80.0,1\n002,0.5,40.0,1\n"),
            "[0, 1]",
        );
    }
}

#[test]
fn scores_that_are_not_finite_are_counted_and_past_the_threshold_refused() {
    for bad in ["NaN", "inf", "-inf"] {
        let sb = assert_refused(
            &format!("{HEADER}001,{bad},80.0,1\n002,0.5,40.0,1\n"),
            "not finite",
        );
        let out = select_with(&sb, &["--max-reject-rate", "0.5"]);
        assert_ok(&out);
        let summary = sb.json("out/summary.json");
        assert_eq!(summary["matching"]["scores_missing"]["score"], 1, "{bad}");
        assert!(!sb.read("out/audience.csv").contains(",001,"), "{bad}");
    }
}

/// An id copied from one of Bullseye's CSV outputs (where `+44…` is written `'+44…` for
/// spreadsheets) into a do-not-contact list is still the same customer.
#[test]
fn ids_carrying_the_spreadsheet_escape_suppress() {
    let sb = list_sandbox(
        "+4412345,0.9,80.0,1\n00002,0.5,40.0,1\n",
        "'+4412345,email,unsubscribed\n",
    );
    assert_ok(&select(&sb));
    let audience = sb.read("out/audience.csv");
    assert!(!audience.contains("4412345"), "{audience}");
    assert!(audience.contains("00002"), "{audience}");
}

/// A job, campaign or policy file that is a FIFO blocks `read_to_string` forever, and
/// `/dev/zero` grows it without bound: refused at once (exit 2), like the tables.
#[test]
fn job_campaign_and_policy_files_that_are_not_regular_files_are_refused_at_once() {
    let sb = one_customer_sandbox();
    mkfifo(&sb, "fifo.toml");
    for file in ["fifo.toml", "/dev/zero"] {
        let scores = ["--scores", "scores.csv", "--out", "out"];
        for args in [
            vec!["run", file],
            [&["select", "--campaign", file][..], &scores].concat(),
            [&["plan", "--campaign", file][..], &scores].concat(),
            [
                &["plan", "--campaign", "campaign.toml", "--policy", file][..],
                &scores,
            ]
            .concat(),
        ] {
            let out = run_limited(&sb, &args, 20);
            assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
            assert!(
                stderr(&out).contains("not a regular file but a"),
                "{args:?}: {}",
                stderr(&out)
            );
        }
    }
}

/// A ledger that is a FIFO, a device or a folder is the user's input to fix: exit 2, named.
#[test]
fn a_ledger_that_is_not_a_regular_file_is_bad_input() {
    let sb = one_customer_sandbox();
    mkfifo(&sb, "fifo.db");
    std::fs::create_dir(sb.path("folder.db")).unwrap();
    for (file, what) in [
        ("fifo.db", "a FIFO (named pipe)"),
        ("/dev/zero", "a device"),
        ("folder.db", "a folder"),
    ] {
        let out = run_limited(
            &sb,
            &[
                "select",
                "--scores",
                "scores.csv",
                "--campaign",
                "campaign.toml",
                "--ledger",
                file,
                "--out",
                "out",
            ],
            20,
        );
        assert_eq!(out.status.code(), Some(2), "{file}: {}", stderr(&out));
        assert!(
            stderr(&out).contains(&format!(
                "expected a regular file (a ledger, or none yet), found {what}"
            )),
            "{}",
            stderr(&out)
        );
        assert!(!sb.path("out").exists());
    }
}

/// `plan` writes one folder per campaign, like `run`: two campaigns whose names make one
/// folder (`x/y` and `x_y`) are refused before any work.
#[test]
fn plan_refuses_campaigns_that_share_a_folder() {
    let sb = one_customer_sandbox();
    for (file, name) in [("a.toml", "x/y"), ("b.toml", "x_y")] {
        let text = sb
            .read("campaign.toml")
            .replace("name = \"small\"", &format!("name = {name:?}"));
        std::fs::write(sb.path(file), text).unwrap();
    }
    let out = sb.run(&[
        "plan",
        "--scores",
        "scores.csv",
        "--campaign",
        "a.toml",
        "--campaign",
        "b.toml",
        "--out",
        "out",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("would both write `x_y/`"),
        "{}",
        stderr(&out)
    );
    assert!(!sb.path("out").exists());
}
