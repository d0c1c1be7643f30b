// Package pgtest gives tests a real PostgreSQL server: Debian's binaries
// (/usr/lib/postgresql/<version>/bin, from `apt-get install -y postgresql`)
// started in a temporary directory on a free port, as the unprivileged user
// postgres when the tests run as root (through runuser, or su without it), with fsync on, and removed afterwards.
//
// Shared returns the one server of the test process (call Main from TestMain
// so that it is stopped at the end); Start returns a server of the test's own,
// for tests that stop or restart it; Database, a fresh database on either. When LEDGER_TEST_POSTGRES holds a
// connection string, Shared uses that server instead and Start skips. Without
// the binaries a test skips, naming what is missing; with CI=true it fails.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvConnString names the variable that points the tests at an existing
// server (a postgres:// URL of a user allowed to create databases).
const EnvConnString = "LEDGER_TEST_POSTGRES"

// Server is a PostgreSQL server for tests.
type Server struct {
	bin      string // the directory of initdb and pg_ctl
	dir      string // the temporary directory: data, socket, log
	port     int
	external *url.URL // set when the server is LEDGER_TEST_POSTGRES
	asUser   []string // the prefix that runs a binary as postgres, if root
}

var (
	shared     *Server
	sharedErr  error
	sharedOnce sync.Once
)

// Main runs the package's tests and stops the shared server afterwards:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
func Main(m *testing.M) {
	code := m.Run()
	if shared != nil && shared.external == nil {
		_ = shared.stop()
		_ = os.RemoveAll(shared.dir)
	}
	os.Exit(code)
}

// Shared returns the test process's server, starting it on first use.
func Shared(tb testing.TB) *Server {
	tb.Helper()
	if cs := os.Getenv(EnvConnString); cs != "" {
		u, err := url.Parse(cs)
		if err != nil {
			tb.Fatalf("%s: %v", EnvConnString, err)
		}
		return &Server{external: u}
	}
	bin := binaries(tb)
	sharedOnce.Do(func() { shared, sharedErr = start(bin) })
	if sharedErr != nil {
		tb.Fatalf("starting PostgreSQL: %v", sharedErr)
	}
	return shared
}

// Start starts a server of the test's own, stopped and removed at cleanup.
func Start(tb testing.TB) *Server {
	tb.Helper()
	if os.Getenv(EnvConnString) != "" {
		tb.Skipf("this test stops and restarts its own PostgreSQL server; %s points at a shared one", EnvConnString)
	}
	s, err := start(binaries(tb))
	if err != nil {
		tb.Fatalf("starting PostgreSQL: %v", err)
	}
	tb.Cleanup(func() {
		_ = s.stop()
		_ = os.RemoveAll(s.dir)
	})
	return s
}

// Database returns the URL of a fresh database for the test: on the server
// LEDGER_TEST_POSTGRES names if set, else on a server of the test's own.
func Database(tb testing.TB) string {
	tb.Helper()
	if os.Getenv(EnvConnString) != "" {
		return Shared(tb).NewDatabase(tb)
	}
	return Start(tb).NewDatabase(tb)
}

// binaries returns the newest installed PostgreSQL's bin directory, or
// skips (fails under CI=true) when there is none.
func binaries(tb testing.TB) string {
	tb.Helper()
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(found) == 0 {
		msg := "PostgreSQL server binaries not found (no /usr/lib/postgresql/*/bin/initdb): install them with `apt-get install -y postgresql`, or set " + EnvConnString + " to a server's connection string"
		if os.Getenv("CI") == "true" {
			tb.Fatal(msg)
		}
		tb.Skip(msg)
	}
	sort.Slice(found, func(i, j int) bool { return version(found[i]) < version(found[j]) })
	return filepath.Dir(found[len(found)-1])
}

func version(initdb string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(initdb))))
	return v
}

func start(bin string) (*Server, error) {
	dir, err := os.MkdirTemp("", "ledger-pg-")
	if err != nil {
		return nil, err
	}
	s := &Server{bin: bin, dir: dir}
	if os.Geteuid() == 0 {
		if err := chownToPostgres(dir); err != nil {
			return nil, err
		}
		s.asUser = []string{"runuser", "-u", "postgres", "--"}
		if _, err := exec.LookPath("runuser"); err != nil {
			s.asUser = []string{"su", "postgres", "-s", "/bin/sh", "-c"}
		}
	}
	if s.port, err = freePort(); err != nil {
		return nil, err
	}
	if out, err := s.run("initdb", "-D", s.dataDir(), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}
	if err := s.Start(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	return s, nil
}

func chownToPostgres(dir string) error {
	u, err := user.Lookup("postgres")
	if err != nil {
		return fmt.Errorf("running as root, the server must run as the user postgres: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return os.Chown(dir, uid, gid)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (s *Server) dataDir() string { return filepath.Join(s.dir, "data") }

func (s *Server) run(name string, args ...string) ([]byte, error) {
	command := append([]string{filepath.Join(s.bin, name)}, args...)
	argv := append(append([]string{}, s.asUser...), command...)
	if len(s.asUser) > 0 && s.asUser[0] == "su" {
		quoted := make([]string, len(command))
		for i, a := range command {
			quoted[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		argv = append(append([]string{}, s.asUser...), strings.Join(quoted, " "))
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	return cmd.CombinedOutput()
}

// Start starts the server (again, after Stop), with fsync on, and waits until
// it accepts connections.
func (s *Server) Start() error {
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=300", s.port, s.dir)
	out, err := s.run("pg_ctl", "-D", s.dataDir(), "-l", filepath.Join(s.dir, "log"), "-w", "-t", "60", "-o", opts, "start")
	if err != nil {
		log, _ := os.ReadFile(filepath.Join(s.dir, "log"))
		return fmt.Errorf("pg_ctl start: %v\n%s\n%s", err, out, log)
	}
	return nil
}

// Stop stops the server the way an operator's restart does (fast shutdown:
// sessions are ended with "terminating connection due to administrator
// command").
func (s *Server) Stop() error { return s.stop() }

func (s *Server) stop() error {
	if out, err := s.run("pg_ctl", "-D", s.dataDir(), "-m", "fast", "-w", "-t", "60", "stop"); err != nil {
		return fmt.Errorf("pg_ctl stop: %v\n%s", err, out)
	}
	return nil
}

// ConnString returns the URL of database db on the server.
func (s *Server) ConnString(db string) string {
	if s.external != nil {
		u := *s.external
		u.Path = "/" + db
		return u.String()
	}
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.port, db)
}

// NewDatabase creates a database of the test's own and returns its URL; it is
// dropped at cleanup.
func (s *Server) NewDatabase(tb testing.TB) string {
	tb.Helper()
	cs, name, err := s.createDatabase()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := s.exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
			tb.Error(err)
		}
	})
	return cs
}

// CreateDatabase creates a database and returns its URL, for a test package
// that shares one database between its tests; it goes when the server does.
func (s *Server) CreateDatabase() (string, error) {
	cs, _, err := s.createDatabase()
	return cs, err
}

func (s *Server) createDatabase() (connString, name string, err error) {
	name = "test_" + RandomName()
	if err := s.exec("CREATE DATABASE " + name); err != nil {
		return "", "", err
	}
	return s.ConnString(name), name, nil
}

func (s *Server) exec(sql string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.ConnString("postgres"))
	if err != nil {
		return fmt.Errorf("connecting to PostgreSQL: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("%s: %w", sql, err)
	}
	return nil
}

// RandomName returns 16 lower-case hex digits, for a schema or database name
// no other test uses.
func RandomName() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return strings.ToLower(hex.EncodeToString(b))
}
