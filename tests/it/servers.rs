//! Real database servers for the tests that go through the database
//! proxy: throwaway Redis, PostgreSQL and MariaDB on free loopback ports,
//! and a test CA made with `openssl`.

use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A database server on a free loopback port, stopped on drop.
pub struct Server {
    child: Child,
    pub port: u16,
    /// Redis: the port that speaks TLS (the others take both on `port`).
    pub tls_port: u16,
}

impl Server {
    /// Spawns `command` (given the port) and waits for it to listen.
    fn start(name: &str, command: impl FnOnce(u16, u16) -> Command) -> Server {
        let free = || std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let (port, tls_port) = (free(), free());
        let child =
            command(port, tls_port).stdout(Stdio::null()).spawn().unwrap_or_else(|e| panic!("{name} starts: {e}"));
        let mut server = Server { child, port, tls_port };
        let started = Instant::now();
        while TcpStream::connect(SocketAddr::from(([127, 0, 0, 1], port))).is_err() {
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("{name} exited with {status} before listening");
            }
            assert!(started.elapsed() < Duration::from_secs(30), "{name} did not listen on {port}");
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    pub fn redis(dir: &Path, certs: &Certs) -> Server {
        Server::start("redis-server", |port, tls_port| {
            let mut cmd = Command::new("redis-server");
            cmd.args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
                .args(["--tls-port", &tls_port.to_string(), "--tls-auth-clients", "no"])
                .arg("--tls-cert-file")
                .arg(&certs.cert)
                .arg("--tls-key-file")
                .arg(&certs.key)
                .arg("--tls-ca-cert-file")
                .arg(&certs.ca)
                .arg("--dir")
                .arg(dir);
            cmd
        })
    }

    /// A throwaway cluster (`initdb`, trust authentication, user `warp`),
    /// run as the `postgres` user when the tests run as root.
    pub fn postgres(bin: &Path, dir: &Path, certs: &Certs) -> Server {
        let data = dir.join("pgdata");
        std::fs::create_dir(&data).unwrap();
        let as_postgres = |program: &str| {
            let program = bin.join(program);
            if running_as_root() {
                let mut cmd = Command::new("runuser");
                cmd.args(["-u", "postgres", "--"]).arg(program);
                cmd
            } else {
                Command::new(program)
            }
        };
        // The server wants its key private and its own.
        let (cert, key) = (dir.join("pg-server.pem"), dir.join("pg-server.key"));
        std::fs::copy(&certs.cert, &cert).unwrap();
        std::fs::copy(&certs.key, &key).unwrap();
        std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
        if running_as_root() {
            let status = Command::new("chown").args(["postgres:postgres"]).arg(&cert).arg(&key).status().unwrap();
            assert!(status.success(), "chown postgres {}", key.display());
            // The server runs as `postgres`: let it reach and own its directory.
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
            let status = Command::new("chown").args(["postgres:postgres"]).arg(&data).status().unwrap();
            assert!(status.success(), "chown postgres {}", data.display());
        }
        let init =
            as_postgres("initdb").args(["-A", "trust", "-U", "warp", "--no-sync", "-D"]).arg(&data).output().unwrap();
        assert!(init.status.success(), "initdb failed:\n{}", String::from_utf8_lossy(&init.stderr));
        Server::start("postgres", |port, _| {
            let mut cmd = as_postgres("postgres");
            cmd.arg("-D")
                .arg(&data)
                .args(["-p", &port.to_string(), "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-k"])
                .arg(&data)
                .args(["-c", "ssl=on", "-c", &format!("ssl_cert_file={}", cert.display())])
                .args(["-c", &format!("ssl_key_file={}", key.display())])
                .stderr(Stdio::null());
            cmd
        })
    }
}

impl Server {
    /// A throwaway MariaDB (`mariadb-install-db`) with users `warp` and
    /// `other` that have no password.
    pub fn mariadb(dir: &Path, certs: &Certs) -> Server {
        let data = dir.join("mariadb");
        let socket = dir.join("mariadb.sock");
        let user = if running_as_root() { vec!["--user=root"] } else { vec![] };
        let init = Command::new("mariadb-install-db")
            .args(&user)
            .arg(format!("--datadir={}", data.display()))
            .args(["--auth-root-authentication-method=socket", "--skip-test-db"])
            .output()
            .unwrap();
        assert!(init.status.success(), "mariadb-install-db failed:\n{}", String::from_utf8_lossy(&init.stderr));
        let server = Server::start("mariadbd", |port, _| {
            let mut cmd = Command::new("mariadbd");
            cmd.args(&user)
                .arg(format!("--ssl-cert={}", certs.cert.display()))
                .arg(format!("--ssl-key={}", certs.key.display()))
                .arg(format!("--ssl-ca={}", certs.ca.display()))
                .arg(format!("--datadir={}", data.display()))
                .arg(format!("--socket={}", socket.display()))
                .arg(format!("--port={port}"))
                .args(["--bind-address=127.0.0.1", "--skip-log-bin", "--innodb-buffer-pool-size=16M"])
                .stderr(Stdio::null());
            cmd
        });
        let grant = Command::new("mariadb")
            .arg(format!("--socket={}", socket.display()))
            .args(["-u", "root", "-e", "CREATE USER warp@'%', other@'%'; GRANT ALL ON *.* TO warp@'%', other@'%';"])
            .output()
            .unwrap();
        assert!(grant.status.success(), "creating user warp failed:\n{}", String::from_utf8_lossy(&grant.stderr));
        server
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn running_as_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout == b"0\n")
}

/// A test CA and a server certificate it signs for the fixtures' database
/// names and 127.0.0.1, made with `openssl`.
pub struct Certs {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
    /// Another CA, which signed nothing the servers use.
    pub stranger: PathBuf,
}

impl Certs {
    pub fn new(dir: &Path) -> Certs {
        let dir = dir.join("certs");
        std::fs::create_dir(&dir).unwrap();
        let openssl = |args: &[&str]| {
            let out = Command::new("openssl").args(args).current_dir(&dir).output().expect("openssl runs");
            assert!(out.status.success(), "openssl {args:?}:\n{}", String::from_utf8_lossy(&out.stderr));
        };
        let ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
        for name in ["ca", "stranger"] {
            let args = format!("req -x509 {ec} -keyout {name}.key -out {name}.pem -days 2 -subj /CN=warp-test-{name}");
            openssl(&args.split(' ').collect::<Vec<_>>());
        }
        let args = format!("req {ec} -keyout server.key -out server.csr -subj /CN=warp-test-db");
        openssl(&args.split(' ').collect::<Vec<_>>());
        std::fs::write(
            dir.join("server.ext"),
            "subjectAltName = DNS:db.production.warp.local, DNS:cache.production.warp.local, \
             DNS:mysql.production.warp.local, IP:127.0.0.1\n\
             basicConstraints = CA:FALSE\nextendedKeyUsage = serverAuth\n",
        )
        .unwrap();
        openssl(&[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "2",
            "-extfile",
            "server.ext",
        ]);
        Certs {
            ca: dir.join("ca.pem"),
            cert: dir.join("server.pem"),
            key: dir.join("server.key"),
            stranger: dir.join("stranger.pem"),
        }
    }
}
