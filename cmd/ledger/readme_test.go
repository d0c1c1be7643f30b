package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// readmeBlock is one ```sh block of README.md and the line it starts on.
type readmeBlock struct {
	line int
	text string
}

func readmeBlocks(t *testing.T, doc string) []readmeBlock {
	raw, err := os.ReadFile(filepath.Join("..", "..", doc))
	require.NoError(t, err)
	var out []readmeBlock
	var cur *readmeBlock
	for i, line := range strings.Split(string(raw), "\n") {
		switch {
		case cur == nil && strings.HasPrefix(line, "```sh"):
			cur = &readmeBlock{line: i + 2}
		case cur != nil && line == "```":
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			cur.text += line + "\n"
		}
	}
	require.Nil(t, cur, "%s has an unclosed code block", doc)
	return out
}

var (
	statusComment = regexp.MustCompile(`^# (\d{3})( |$)`)
	needsDocker   = regexp.MustCompile(`docker|esdb://|kurrentdb|postgres`)
)

// walkthroughScript turns README's sh blocks into one bash script: `make
// run` starts the ledger as make run does (development mode, ./data), the
// key exports take the keys it printed, a `# NNN` comment after a command
// checks that command's HTTP status, and the `# Ctrl-C` comment stops the
// ledger. Blocks that need Docker are left out and returned.
func walkthroughScript(blocks []readmeBlock, port, doc string) (script string, skipped []int) {
	var b strings.Builder
	fmt.Fprintf(&b, `set -euo pipefail
PORT=%s
STATUS_LOG=$(mktemp)
SERVER=
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT
curl() { command curl -sS --max-time 60 -w '%%{stderr}%%{http_code}\n' "$@" 2>>"$STATUS_LOG"; }
check_status() {
  local got; got=$(tail -n 1 "$STATUS_LOG")
  if [ "$got" != "$1" ]; then echo "%[2]s line $2: expected HTTP $1, got $got" >&2; exit 1; fi
}
start_server() {
  if [ -n "$SERVER" ]; then return; fi
  ./bin/ledger serve > server.out 2> server.log &
  SERVER=$!
  for _ in $(seq 300); do command curl -s -o /dev/null "127.0.0.1:$PORT/readyz" && break; sleep 0.1; done
  KEY=$(grep -o 'dev_[0-9a-f]*' server.out | head -n 1 || true)
  AGENCY_KEY=$(grep -o 'devagency_[0-9a-f]*' server.out | head -n 1 || true)
  export KEY AGENCY_KEY
}
stop_server() { kill -TERM "$SERVER"; wait "$SERVER"; SERVER=; }
`, port, doc)
	for _, blk := range blocks {
		if needsDocker.MatchString(blk.text) {
			skipped = append(skipped, blk.line)
			continue
		}
		for i, line := range strings.Split(strings.TrimSuffix(blk.text, "\n"), "\n") {
			n := blk.line + i
			line = strings.ReplaceAll(line, "localhost:8080", "127.0.0.1:$PORT")
			switch m := statusComment.FindStringSubmatch(line); {
			case m != nil:
				fmt.Fprintf(&b, "check_status %s %d\n", m[1], n)
			case regexp.MustCompile(`^make run\b`).MatchString(line):
				line = "start_server"
			case regexp.MustCompile(`^make test\b`).MatchString(line),
				strings.HasPrefix(line, "export KEY="), strings.HasPrefix(line, "export AGENCY_KEY="):
				line = ":"
			case strings.HasPrefix(line, "# Ctrl-C"):
				line = "stop_server"
			}
			b.WriteString(line + "\n")
		}
	}
	b.WriteString("if [ -n \"$SERVER\" ]; then stop_server; fi\nwait\n")
	return b.String(), skipped
}

// TestREADMEWalkthrough runs README.md's shell examples in order, as a user
// pasting them on a fresh `make run` would, against the ledger built from
// this tree: every command must succeed and every HTTP status the README
// shows must be the one answered.
func TestREADMEWalkthrough(t *testing.T) { walkthrough(t, "README.md") }

// TestAPIDocWalkthrough does the same for docs/API.md, on a ledger of its own.
func TestAPIDocWalkthrough(t *testing.T) { walkthrough(t, filepath.Join("docs", "API.md")) }

func walkthrough(t *testing.T, doc string) {
	for _, tool := range []string{"bash", "curl", "grep", "cut"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is needed to run the README's examples", tool)
			}
			t.Skipf("%s is needed to run the README's examples", tool)
		}
	}
	dir := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(dir, "bin", "ledger"), ".")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	addr := freeAddr(t)
	port := addr[strings.LastIndex(addr, ":")+1:]
	script, skipped := walkthroughScript(readmeBlocks(t, doc), port, doc)
	for _, line := range skipped {
		t.Logf("%s line %d needs Docker (KurrentDB); not run here", doc, line)
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "walkthrough.sh"), []byte(script), 0o644))
	cmd := exec.Command("bash", "walkthrough.sh")
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "LEDGER_ADDR=127.0.0.1:" + port, "TZ=UTC"}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // so the servers it starts can be stopped with it
	done := make(chan error, 1)
	require.NoError(t, cmd.Start())
	// A walkthrough that fails part-way leaves the servers it started
	// running; they are in its process group.
	t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(5 * time.Minute): // a liveness bound, not a timing assertion
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		err = <-done
		t.Errorf("the walkthrough did not finish")
	}
	if err != nil {
		serverLog, _ := os.ReadFile(filepath.Join(dir, "server.log"))
		t.Fatalf("the %s walkthrough failed: %v\n--- stderr\n%s\n--- stdout (tail)\n%s\n--- server log (tail)\n%s",
			doc, err, stderr.String(), tail(stdout.String(), 3000), tail(string(serverLog), 3000))
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
