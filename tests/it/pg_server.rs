//! A private PostgreSQL server for one test: `initdb` in a temp dir, `pg_ctl start` on a free port
//! of 127.0.0.1 (socket in the temp dir), a database and a password role, stopped on drop.
//!
//! The binaries come from `BULLSEYE_PG_BIN`, else `/usr/lib/postgresql/*/bin`; `scripts/test`
//! installs them when missing. No skip: a server that cannot start fails the test and says why.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const USER: &str = "bullseye";
const PASSWORD: &str = "s3cret-pw";
const DATABASE: &str = "crm";
/// The superuser initdb creates; it reaches the server through the socket without a password.
const SUPERUSER: &str = "postgres";

pub struct PgServer {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
    /// Whether we are root, so server commands run as the `postgres` OS user (initdb refuses root).
    as_postgres: bool,
}

impl PgServer {
    pub fn start() -> PgServer {
        let bin = pg_bin();
        let dir = tempfile::tempdir().unwrap_or_else(|e| fail(&format!("create a temp dir: {e}")));
        let as_postgres = is_root();
        if as_postgres {
            run_checked(
                Command::new("chown")
                    .args(["-R", "postgres:postgres"])
                    .arg(dir.path()),
                "chown the temp dir to the postgres user",
            );
        }
        let mut server = PgServer {
            bin,
            dir,
            port: 0,
            as_postgres,
        };
        server.initdb();
        server.start_on_free_port();
        server.create_role_and_database();
        server
    }

    /// `postgres://user:password@127.0.0.1:port/db`: a TCP connection with password authentication.
    pub fn url(&self) -> String {
        format!(
            "postgres://{USER}:{PASSWORD}@127.0.0.1:{}/{DATABASE}",
            self.port
        )
    }

    /// Runs SQL (psql meta-commands such as `\copy` included) in the test database as the
    /// superuser; returns psql's unaligned, tuples-only output. Panics with psql's stderr.
    pub fn psql(&self, sql: &str) -> String {
        let out = Command::new(self.bin.join("psql"))
            .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"])
            .arg("-h")
            .arg(self.socket_dir())
            .arg("-p")
            .arg(self.port.to_string())
            .args(["-U", SUPERUSER, "-d", DATABASE])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut child| {
                use std::io::Write;
                child
                    .stdin
                    .take()
                    .expect("piped stdin")
                    .write_all(sql.as_bytes())?;
                child.wait_with_output()
            })
            .unwrap_or_else(|e| fail(&format!("run psql: {e}")));
        if !out.status.success() {
            panic!(
                "psql failed on:\n{sql}\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn socket_dir(&self) -> &Path {
        self.dir.path()
    }

    /// A server binary, run as the `postgres` OS user when we are root.
    fn server_command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        }
    }

    fn initdb(&self) {
        let mut c = self.server_command("initdb");
        c.arg("-D")
            .arg(self.data_dir())
            .args(["-U", SUPERUSER, "--no-locale", "-E", "UTF8", "--no-sync"])
            // The socket trusts the superuser (the harness); TCP demands a password.
            .args(["--auth-local=trust", "--auth-host=scram-sha-256"]);
        run_checked(&mut c, "initdb");
    }

    /// Picks a free port and starts; another test may grab the same port between our probe and
    /// the server's bind, so a failed start retries on a new port.
    fn start_on_free_port(&mut self) {
        let mut last = String::new();
        for _ in 0..5 {
            self.port = free_port();
            let options = format!(
                "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
                self.port,
                self.socket_dir().display()
            );
            let mut c = self.server_command("pg_ctl");
            c.arg("-D")
                .arg(self.data_dir())
                .arg("-l")
                .arg(self.dir.path().join("server.log"))
                .args(["-w", "-t", "10", "-o", &options, "start"]);
            let out = output(&mut c, "pg_ctl start");
            if out.status.success() {
                self.wait_until_ready();
                return;
            }
            let log =
                std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default();
            last = format!("{}\n{log}", describe(&out));
        }
        fail(&format!("pg_ctl start failed five times:\n{last}"))
    }

    fn wait_until_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let out = output(
                Command::new(self.bin.join("pg_isready"))
                    .arg("-h")
                    .arg(self.socket_dir())
                    .arg("-p")
                    .arg(self.port.to_string()),
                "pg_isready",
            );
            if out.status.success() {
                return;
            }
            if Instant::now() > deadline {
                fail(&format!(
                    "the server did not answer within 10 s: {}",
                    describe(&out)
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn create_role_and_database(&self) {
        let mut c = Command::new(self.bin.join("psql"));
        c.args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h"])
            .arg(self.socket_dir())
            .arg("-p")
            .arg(self.port.to_string())
            .args(["-U", SUPERUSER, "-d", "postgres", "-c"])
            .arg(format!("CREATE ROLE {USER} LOGIN PASSWORD '{PASSWORD}'"))
            // A second `-c`: CREATE DATABASE cannot share a transaction with the role.
            .arg("-c")
            .arg(format!("CREATE DATABASE {DATABASE} OWNER {USER}"));
        run_checked(&mut c, "create the test role and database");
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        // Immediate: the data dir is thrown away, so there is nothing to flush.
        let mut c = self.server_command("pg_ctl");
        c.arg("-D")
            .arg(self.data_dir())
            .args(["-m", "immediate", "stop"]);
        let _ = c.output();
    }
}

fn pg_bin() -> PathBuf {
    if let Some(dir) = std::env::var_os("BULLSEYE_PG_BIN") {
        let dir = PathBuf::from(dir);
        if dir.join("initdb").is_file() {
            return dir;
        }
        fail(&format!(
            "BULLSEYE_PG_BIN={} holds no initdb",
            dir.display()
        ));
    }
    let found = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|version| version.path().join("bin"))
        .find(|bin| bin.join("initdb").is_file());
    found.unwrap_or_else(|| {
        fail("no PostgreSQL server binaries: BULLSEYE_PG_BIN is unset and /usr/lib/postgresql/*/bin has no initdb")
    })
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| fail(&format!("find a free port: {e}")))
}

fn output(c: &mut Command, what: &str) -> Output {
    c.output()
        .unwrap_or_else(|e| fail(&format!("{what}: cannot run {:?}: {e}", c.get_program())))
}

fn run_checked(c: &mut Command, what: &str) {
    let out = output(c, what);
    if !out.status.success() {
        fail(&format!("{what} failed: {}", describe(&out)));
    }
}

fn describe(out: &Output) -> String {
    format!(
        "exit {:?}\n{}{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn fail(what: &str) -> ! {
    panic!("test PostgreSQL server: {what} (run scripts/test: it installs PostgreSQL and sets BULLSEYE_PG_BIN)")
}

#[test]
fn starts_and_demands_the_password_over_tcp() {
    let pg = PgServer::start();
    pg.psql("CREATE TABLE t (x int); INSERT INTO t VALUES (41), (1);");
    assert_eq!(pg.psql("SELECT sum(x) FROM t").trim(), "42");

    let psql = |url: &str| {
        Command::new(pg.bin.join("psql"))
            .args(["-X", "-A", "-t", "-c", "SELECT current_user"])
            .arg(url)
            .env_remove("PGPASSWORD")
            .output()
            .expect("run psql")
    };
    let good = psql(&pg.url());
    assert!(good.status.success(), "{}", describe(&good));
    assert_eq!(String::from_utf8_lossy(&good.stdout).trim(), USER);
    let wrong = psql(&pg.url().replace(PASSWORD, "wrong"));
    assert!(!wrong.status.success());
    assert!(
        String::from_utf8_lossy(&wrong.stderr).contains("password authentication failed"),
        "{}",
        describe(&wrong)
    );
}
