// Command ledger runs the collections ledger.
//
//	ledger serve    run the HTTP server (settings from the environment; flags of the same name override)
//	ledger verify   check a store's hash chains, invariants and projections
//	ledger replay   print a placement's history event by event, and the state at the end
//	ledger migrate  move a store to the log format this ledger writes
//	ledger load     drive a bounded load at a ledger on this machine and verify what it acknowledged
//	ledger version  print the version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	rpprof "runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/collections-ledger/ledger/eventstore"
	httpapi "github.com/collections-ledger/ledger/http"
	_ "github.com/collections-ledger/ledger/internal/cmalloc" // one C malloc arena for Pebble's memory
	"github.com/collections-ledger/ledger/journal"
	"github.com/collections-ledger/ledger/pii"
	"github.com/collections-ledger/ledger/projections"
	"github.com/collections-ledger/ledger/retention"
	"github.com/collections-ledger/ledger/webhook"
)

// version and commit are set at build time (make build: -ldflags -X);
// without them, the commit comes from Go's build information when it has it.
var (
	version = "dev"
	commit  = ""
)

func main() {
	os.Exit(profiled(os.Getenv("LEDGER_CPUPROFILE"), os.Stderr, func() int {
		code := run(context.Background(), os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
		if file := os.Getenv("LEDGER_ALLOCPROFILE"); file != "" {
			writeAllocProfile(file, os.Stderr)
		}
		return code
	}))
}

// writeAllocProfile writes where the command allocated, over its whole run
// (LEDGER_ALLOCPROFILE=allocs.out ledger rebuild ...; then
// go tool pprof -sample_index=alloc_space allocs.out).
func writeAllocProfile(file string, stderr io.Writer) {
	out, err := os.Create(file)
	if err == nil {
		err = rpprof.Lookup("allocs").WriteTo(out, 0)
		if cerr := out.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "ledger: LEDGER_ALLOCPROFILE:", err)
	}
}

// profiled runs f, writing a CPU profile of the whole command to file when
// file is set (LEDGER_CPUPROFILE=cpu.out ledger rebuild ...; then
// go tool pprof cpu.out).
func profiled(file string, stderr io.Writer, f func() int) int {
	if file == "" {
		return f()
	}
	out, err := os.Create(file)
	if err != nil {
		fmt.Fprintln(stderr, "ledger: LEDGER_CPUPROFILE:", err)
		return 2
	}
	defer out.Close()
	if err := rpprof.StartCPUProfile(out); err != nil {
		fmt.Fprintln(stderr, "ledger: LEDGER_CPUPROFILE:", err)
		return 2
	}
	defer rpprof.StopCPUProfile()
	return f()
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], getenv, stdout, stderr)
	case "verify":
		return verifyCmd(ctx, args[1:], getenv, stdout, stderr)
	case "reconcile":
		return reconcileCmd(ctx, args[1:], getenv, stdout, stderr)
	case "trial-balance":
		return trialBalanceCmd(ctx, args[1:], getenv, stdout, stderr)
	case "export":
		return exportCmd(ctx, args[1:], getenv, stdout, stderr)
	case "verify-export":
		return verifyExportCmd(ctx, args[1:], getenv, stdout, stderr)
	case "replay":
		return replayCmd(ctx, args[1:], getenv, stdout, stderr)
	case "rebuild":
		return rebuildCmd(ctx, args[1:], getenv, stdout, stderr)
	case "migrate":
		return migrateCmd(ctx, args[1:], getenv, stdout, stderr)
	case "load":
		return load(ctx, args[1:], getenv, stdout, stderr)
	case "rotate-master-key":
		return rotateMasterKey(ctx, args[1:], getenv, stdout, stderr)
	case "retention":
		return retentionCmd(ctx, args[1:], getenv, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, versionLine())
		return 0
	case "help", "-h", "--help":
		if len(args) > 1 && args[1] != "help" && args[1] != "version" {
			// A command's -h, on standard output.
			return run(ctx, []string{args[1], "-h"}, getenv, stdout, stdout)
		}
		usage(stdout)
		return 0
	default:
		fmt.Fprintf(stderr, "ledger: unknown command %q\n", args[0])
		usage(stderr)
		return 2
	}
}

// commands are the ledger's commands with what each does, in the order
// usage lists them.
var commands = []struct{ name, summary string }{
	{"serve", "run the ledger's HTTP server"},
	{"verify", "check every hash chain, invariant and projection of a store (exit 1 on any problem)"},
	{"trial-balance", "every account's debit, credit and balance as of -asOf, by value or booking date (exit 1 if it does not balance)"},
	{"reconcile", "reconcile a creditor's payments, fees, waivers and recalls; -statement FILE.csv matches its own list (exit 1 on any difference)"},
	{"export", "write events with their positions, metadata and hashes (-format jsonl|csv, -creditor, -placement, -from, -to, -o)"},
	{"verify-export", "re-check the hash chains of a JSON Lines export, without the store"},
	{"replay", "print a placement's history event by event (-placement ID [-until TIME | -position N])"},
	{"rebuild", "build a stopped instance's views anew from the log, then put them in place of the old"},
	{"migrate", "move a stopped ledger's store to the log format this ledger writes (serve says when)"},
	{"load", "drive a load against a running ledger (loopback only) and verify it afterwards; -direct appends to a stopped ledger's store without HTTP, to build large stores"},
	{"retention", "list (-dry-run) or erase the personal data whose retention has passed, on a stopped ledger"},
	{"rotate-master-key", "re-wrap the data keys of debtors' personal data under a new master key (-new-key-file), on a stopped ledger"},
	{"version", "print the version and the commit the ledger was built from"},
	{"help", "print this, or with a command's name its flags"},
}

// exitCodes is what every command's exit status means.
const exitCodes = `exit status: 0 done (or nothing found), 1 a failure or a problem found (verify, reconcile), 2 bad flags,
settings or a store that cannot be opened, 130 interrupted.`

func usage(w io.Writer) {
	fmt.Fprint(w, "usage: ledger <command> [flags]\n\ncommands:\n")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-18s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nEvery setting has an environment variable (LEDGER_STORE) and a flag in lower case (-store) that\noverrides it. \"ledger help <command>\" lists a command's flags.\n\n%s\n", exitCodes)
}

// usageOf makes a command's -h say what it does, its flags and the exit
// statuses.
func usageOf(fs *flag.FlagSet, name string) {
	summary := ""
	for _, c := range commands {
		if c.name == strings.Fields(name)[0] {
			summary = c.summary
		}
	}
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "usage: ledger %s [flags]\n\n%s\n\nflags:\n", name, summary)
		// The older spellings (-LEDGER_STORE) work but are not listed.
		shown := flag.NewFlagSet(name, flag.ContinueOnError)
		shown.SetOutput(w)
		fs.VisitAll(func(f *flag.Flag) {
			if _, old := f.Value.(alias); !old {
				shown.Var(f.Value, f.Name, f.Usage)
			}
		})
		shown.PrintDefaults()
		fmt.Fprintf(w, "\n%s\n", exitCodes)
	}
}

// versionLine says which build this is: the version, the commit and
// whether the tree had changes, and the Go it was built with.
func versionLine() string {
	commit, modified, goVersion := commit, false, runtime.Version()
	if info, ok := debug.ReadBuildInfo(); ok && commit == "" {
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	if commit == "" {
		commit = "unknown"
	}
	if len(commit) > 12 {
		commit = commit[:12]
	}
	if modified {
		commit += ", with uncommitted changes"
	}
	return fmt.Sprintf("ledger %s (commit %s, %s)", version, commit, goVersion)
}

// config is serve's settings: each comes from the environment variable of
// the same name, and a flag may override it.
type config struct {
	Addr      string
	Store     string
	Views     string
	APIKeys   string
	AgencyKey string
	PublicURL string
	// AllowPrivateWebhooks lets webhooks reach loopback and private
	// addresses: for development and tests only.
	AllowPrivateWebhooks bool
	// LeaseTTL is how long the lease on the reactors lasts without renewal
	// (shared stores, PostgreSQL or KurrentDB, only; see package lease).
	LeaseTTL time.Duration
	// StoreCacheMiB is the embedded store's memory (block cache and
	// memtables); 0: its default.
	StoreCacheMiB int
	// MasterKey (LEDGER_MASTER_KEY) or MasterKeyFile (LEDGER_MASTER_KEY_FILE)
	// unwraps the data keys of debtors' personal data, kept in KeysDir
	// (LEDGER_KEYS).
	MasterKey, MasterKeyFile, KeysDir string
	// Retention (LEDGER_PERSONAL_DATA_RETENTION) is how long personal data
	// is kept after its debtor's last claim closed; 0: until erased on request.
	Retention time.Duration
}

func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	usageOf(fs, "serve")
	envString(fs, &c.Addr, "LEDGER_ADDR", getenv, ":8080", "address to listen on")
	envString(fs, &c.Store, "LEDGER_STORE", getenv, "./data/ledger.db", "embedded store directory, a PostgreSQL URL (postgres://…) or a KurrentDB connection string (esdb://… or kurrentdb://…)")
	envString(fs, &c.Views, "LEDGER_VIEWS", getenv, "", "the directory of this instance's read models (default: beside the embedded store, <store>.views; with PostgreSQL or KurrentDB, ./data/views)")
	envString(fs, &c.APIKeys, "LEDGER_API_KEYS", getenv, "", "creditor keys: creditorID=key,…")
	envString(fs, &c.AgencyKey, "LEDGER_AGENCY_KEY", getenv, "", "the agency's key")
	envString(fs, &c.PublicURL, "LEDGER_PUBLIC_URL", getenv, "", "where users reach the ledger, when a proxy stands in front (https://… makes the session cookie Secure)")
	var storeCache, leaseTTL, allowPrivate, retentionRaw string
	envString(fs, &storeCache, "LEDGER_STORE_CACHE_MB", getenv, "", "the embedded store's memory in MiB, block cache and memtables (default 64; more keeps point reads of a large store in memory)")
	envString(fs, &leaseTTL, "LEDGER_LEASE_TTL", getenv, "30s", "with PostgreSQL or KurrentDB, how long the lease on webhook deliveries and automatic resumes lasts without renewal")
	envString(fs, &allowPrivate, "LEDGER_WEBHOOK_ALLOW_PRIVATE", getenv, "false", "true lets webhooks reach loopback, private and link-local addresses, and use plain http (development and tests only)")
	envString(fs, &c.MasterKey, "LEDGER_MASTER_KEY", getenv, "", "the master key of the key store (64 hex digits or base64 of 32 bytes; openssl rand -hex 32); without it, personal data is refused")
	envString(fs, &c.MasterKeyFile, "LEDGER_MASTER_KEY_FILE", getenv, "", "a file holding the master key, instead of LEDGER_MASTER_KEY")
	envString(fs, &c.KeysDir, "LEDGER_KEYS", getenv, "", "the key store's directory (default: beside the embedded store, <store>.keys; with PostgreSQL or KurrentDB, ./data/keys, which every instance must share)")
	envString(fs, &retentionRaw, "LEDGER_PERSONAL_DATA_RETENTION", getenv, "", "erase a debtor's personal data this long after its last claim closed (10y, 90d, 2160h); empty: only on request")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if retentionRaw != "" {
		d, err := retention.ParseRetention(retentionRaw)
		if err != nil {
			return c, fmt.Errorf("LEDGER_PERSONAL_DATA_RETENTION: %w", err)
		}
		c.Retention = d
	}
	if c.MasterKey != "" && c.MasterKeyFile != "" {
		return c, errors.New("give the master key once: LEDGER_MASTER_KEY or LEDGER_MASTER_KEY_FILE, not both")
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	ttl, err := time.ParseDuration(leaseTTL)
	if err != nil || ttl < time.Second {
		return c, fmt.Errorf("LEDGER_LEASE_TTL must be a duration of at least 1s, like 30s, not %q", leaseTTL)
	}
	c.LeaseTTL = ttl
	if c.StoreCacheMiB, err = parseCacheMiB(storeCache); err != nil {
		return c, err
	}
	switch allowPrivate {
	case "true", "1":
		c.AllowPrivateWebhooks = true
	case "false", "0", "":
	default:
		return c, fmt.Errorf("LEDGER_WEBHOOK_ALLOW_PRIVATE must be true or false, not %q", allowPrivate)
	}
	return c, nil
}

// serve runs the HTTP server until ctx ends, a signal arrives, the server fails or the projections stop, and returns
// the process's exit code: 0 after -help or a clean stop, 2 for bad settings, 1 for any other failure.
func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	set, code, ok := loadServeSettings(args, getenv, stderr, logger)
	if !ok {
		return code
	}
	cfg := set.cfg
	defer budgetHeap(getenv)()
	registry := prometheus.NewRegistry()
	dirs := map[string]string{"views": cfg.viewsDir(), "keys": cfg.keysDir()}
	if !isSharedStore(cfg.Store) {
		dirs["store"] = cfg.Store
	}
	metrics := newServeMetrics(registry, dirs)
	store, engine, err := openStoreObserved(cfg.Store, cfg.StoreCacheMiB, logger, metrics.observeSync)
	if err != nil {
		logger.Error("cannot open the event store", "store", redactStore(cfg.Store), "err", err)
		return 1
	}
	defer store.Close()
	logger.Info("event store open", "engine", engine, "store", redactStore(cfg.Store))
	if err := journal.EnsureFormat(ctx, store); err != nil {
		logger.Error("cannot use the event store", "store", redactStore(cfg.Store), "err", err)
		return 1
	}

	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	viewsDir := cfg.viewsDir()
	views, ok := openServeViews(ctx, viewsDir, store, cfg.Store, logger)
	if !ok {
		return 1
	}
	defer views.Close()
	policy := webhook.Policy{AllowPrivate: cfg.AllowPrivateWebhooks}
	if policy.AllowPrivate {
		logger.Warn("webhooks may reach loopback and private addresses (LEDGER_WEBHOOK_ALLOW_PRIVATE): for development and tests only")
	}
	personal, err := openPersonal(cfg, set.devKey != "", logger)
	if err != nil {
		logger.Error("cannot open the key store of debtors' personal data", "keys", cfg.keysDir(), "err", err)
		return 1
	}
	if cfg.Retention > 0 && personal == nil {
		logger.Warn("LEDGER_PERSONAL_DATA_RETENTION has no effect without a master key: there is no personal data to erase")
	}
	inst := newInstance(store, views, instanceOptions{Logger: logger, Policy: policy, Lease: engine != "embedded", LeaseTTL: cfg.LeaseTTL,
		VerifyDir: filepath.Dir(viewsDir), Personal: personal, Retention: cfg.Retention, Webhook: webhook.Options{OnGiveUp: metrics.giveUp.Inc}})
	runCtx, stopRunner := context.WithCancel(context.Background())
	runnerDone, hooksDone := inst.start(runCtx)
	api := httpapi.New(httpapi.Config{Commands: inst.commands, Runner: inst.runner, Keys: set.keys, Logger: logger, Webhooks: inst.hooks,
		PublicURL: set.publicURL, WebhookPolicy: policy, Verify: inst.verify, Registry: registry})

	if dbg := getenv("LEDGER_DEBUG_ADDR"); dbg != "" {
		startProfiling(dbg, logger)
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		logger.Error("cannot listen", "addr", cfg.Addr, "err", err)
		stopRunner()
		<-inst.runnerStopped // before the views close
		return 1
	}
	srv := newHTTPServer(api)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	logger.Info("ledger listening", "addr", ln.Addr().String())
	fmt.Fprintf(stdout, "ledger is listening on %s (store: %s, engine: %s)\n", ln.Addr(), redactStore(cfg.Store), engine)
	if set.devKey != "" {
		announceDevelopmentKeys(stdout, logger, set, ln.Addr().String())
	}
	code = awaitStop(ctx, errc, runnerDone, logger)
	return shutDown(srv, stopRunner, inst.runnerStopped, hooksDone, store, code, logger)
}

// openServeViews opens the view store in dir and checks that its views were built from this log (at location),
// logging why not; on failure nothing is left open.
func openServeViews(ctx context.Context, dir string, store eventstore.Store, location string, logger *slog.Logger) (*projections.Views, bool) {
	views, err := projections.OpenViews(dir, projections.ViewsOptions{Logger: logger})
	if err != nil {
		logger.Error("cannot open the view store", "views", dir, "err", err)
		return nil, false
	}
	logger.Info("view store open", "views", dir, "checkpoint", views.Checkpoint())
	if err := views.CheckLog(ctx, store); err != nil {
		logger.Error("cannot serve views built from another history of the log: if the log is the one to keep, stop the ledger and rebuild them from it with `ledger rebuild -all`; if the log was restored from a backup, what was acknowledged after that backup is not in it",
			"views", dir, "store", redactStore(location), "err", err)
		_ = views.Close()
		return nil, false
	}
	return views, true
}

// serveSettings are what serve reads from its flags and environment before it opens anything.
type serveSettings struct {
	cfg       config
	keys      httpapi.Keys
	publicURL *url.URL
	// devKey and devAgencyKey are development mode's creditor and agency keys, empty unless no key was configured.
	devKey, devAgencyKey string
}

// loadServeSettings parses serve's settings and, when no API or agency key is configured, takes development mode's
// keys from the development keys file (creating it the first time). When serve should not go on it returns ok false
// and the exit code: 0 after -help, 2 for bad settings, 1 when development mode's keys cannot be kept.
func loadServeSettings(args []string, getenv func(string) string, stderr io.Writer, logger *slog.Logger) (set serveSettings, code int, ok bool) {
	cfg, err := parseConfig(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return set, 0, false
	}
	if err != nil {
		logger.Error("bad settings", "err", err)
		return set, 2, false
	}
	set.cfg = cfg
	if set.keys, err = httpapi.ParseKeys(cfg.APIKeys, cfg.AgencyKey); err != nil {
		logger.Error("bad settings", "err", err)
		return set, 2, false
	}
	if set.publicURL, err = parsePublicURL(cfg.PublicURL); err != nil {
		logger.Error("bad settings", "err", err)
		return set, 2, false
	}
	if set.keys.Empty() {
		if set.keys, set.devKey, set.devAgencyKey, err = developmentKeys(cfg.developmentKeysFile()); err != nil {
			logger.Error("cannot keep development mode's keys", "file", cfg.developmentKeysFile(), "err", err)
			return set, 1, false
		}
	}
	return set, 0, true
}

// startProfiling serves the opt-in profiling endpoints (net/http/pprof) on addr, for loopback use only, in the
// background for the life of the process.
func startProfiling(addr string, logger *slog.Logger) {
	go func() {
		mux := http.NewServeMux()
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		logger.Warn("profiling endpoints enabled", "addr", addr)
		_ = http.ListenAndServe(addr, mux)
	}()
}

// announceDevelopmentKeys prints development mode's keys and a first request to try on stdout, for a server
// listening on addr, and warns in the log that it did.
func announceDevelopmentKeys(stdout io.Writer, logger *slog.Logger, set serveSettings, addr string) {
	fmt.Fprintf(stdout, `
  ************************************************************************
  DEVELOPMENT MODE: no LEDGER_API_KEYS or LEDGER_AGENCY_KEY configured.
  A development creditor "demo" and an agency key (kept in %s,
  the same at every start; remove the file for new ones):

      creditor demo:  %s
      agency:         %s

  Try:  curl -s -H "Authorization: Bearer %s" http://localhost%s/v1/placements
  Set LEDGER_API_KEYS=creditorID=key,… and LEDGER_AGENCY_KEY for real use.
  ************************************************************************

`, set.cfg.developmentKeysFile(), set.devKey, set.devAgencyKey, set.devKey, portOf(addr))
	logger.Warn("development mode: the keys of creditor demo and the agency were printed on standard output; configure LEDGER_API_KEYS and LEDGER_AGENCY_KEY for real use", "file", set.cfg.developmentKeysFile())
}

// awaitStop waits until the server fails (errc), the projections runner stops (runnerDone) or ctx ends, and returns
// the exit code so far: 1 when the server failed or the runner stopped with an error, else 0.
func awaitStop(ctx context.Context, errc, runnerDone <-chan error, logger *slog.Logger) int {
	select {
	case err := <-errc:
		logger.Error("server stopped", "err", err)
		return 1
	case err := <-runnerDone:
		if err != nil {
			logger.Error("projections stopped; shutting down", "err", err)
			return 1
		}
	case <-ctx.Done():
	}
	return 0
}

// shutDown finishes the requests in flight (for at most 25 seconds), stops the runner and waits for it to return (the
// views, closed after, are its until then), waits for the webhook reactor and closes the store. It returns code, or 1
// when the server's shutdown or the store's close failed.
func shutDown(srv *http.Server, stopRunner context.CancelFunc, runnerStopped <-chan struct{}, hooksDone <-chan error, store eventstore.Store, code int, logger *slog.Logger) int {
	logger.Info("shutting down: finishing requests in flight")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		logger.Error("shutdown", "err", err)
		code = 1
	}
	stopRunner()
	<-runnerStopped
	if err := <-hooksDone; err != nil {
		logger.Error("webhook reactor", "err", err)
	}
	if err := store.Close(); err != nil && !errors.Is(err, eventstore.ErrClosed) {
		logger.Error("closing the event store", "err", err)
		code = 1
	}
	if code == 0 {
		logger.Info("stopped cleanly")
	}
	return code
}

// keysDir is where the key store of debtors' personal data is.
func (c config) keysDir() string {
	switch {
	case c.KeysDir != "":
		return c.KeysDir
	case isSharedStore(c.Store):
		return filepath.Join("data", "keys")
	default:
		return c.Store + ".keys"
	}
}

// masterKey reads the master key from the settings; nil when none is set.
func (c config) masterKey() ([]byte, error) {
	raw := c.MasterKey
	if c.MasterKeyFile != "" {
		b, err := os.ReadFile(c.MasterKeyFile)
		if err != nil {
			return nil, fmt.Errorf("LEDGER_MASTER_KEY_FILE: %w", err)
		}
		raw = string(b)
	}
	if raw == "" {
		return nil, nil
	}
	return pii.ParseMasterKey(raw)
}

// openPersonal opens the key store with the master key. Without one, in
// development mode a master key is made and kept beside the key store (said
// loudly); otherwise the ledger refuses personal data, and refuses to start
// when the key store already holds data keys (it could not read what it
// serves).
func openPersonal(cfg config, development bool, logger *slog.Logger) (pii.Keys, error) {
	dir := cfg.keysDir()
	master, err := cfg.masterKey()
	if err != nil {
		return nil, err
	}
	if master == nil && development {
		devFile := dir + ".development-master-key"
		b, err := os.ReadFile(devFile)
		if errors.Is(err, fs.ErrNotExist) {
			b = []byte(pii.NewMasterKey() + "\n")
			if err := os.MkdirAll(filepath.Dir(devFile), 0o700); err != nil {
				return nil, err
			}
			if err := os.WriteFile(devFile, b, 0o600); err != nil {
				return nil, err
			}
		} else if err != nil {
			return nil, err
		}
		if master, err = pii.ParseMasterKey(string(b)); err != nil {
			return nil, fmt.Errorf("%s: %w", devFile, err)
		}
		logger.Warn("development mode: debtors' personal data is sealed with a master key kept beside the key store; set LEDGER_MASTER_KEY for real use", "file", devFile)
	}
	if master == nil {
		has, err := pii.HasKeys(dir)
		if err != nil {
			return nil, err
		}
		if has {
			return nil, pii.ErrNoMasterKey
		}
		logger.Warn("no master key (LEDGER_MASTER_KEY): claim handovers with personal data are refused")
		return nil, nil
	}
	keys, err := pii.OpenFileKeys(dir, master)
	if err != nil {
		return nil, err
	}
	return keys, nil
}

// viewsDir is where this instance keeps its read models.
func (c config) viewsDir() string { return viewsDirFor(c.Views, c.Store) }

func viewsDirFor(views, store string) string {
	switch {
	case views != "":
		return views
	case isSharedStore(store):
		return filepath.Join("data", "views")
	}
	return store + ".views"
}

// parsePublicURL checks LEDGER_PUBLIC_URL: empty, or an absolute http(s)
// URL with a host and nothing after it but an optional "/".
func parsePublicURL(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("LEDGER_PUBLIC_URL must be like https://ledger.example.com, not %q", raw)
	}
	return u, nil
}

// newHTTPServer bounds what a client can hold: slow headers, slow bodies,
// slow readers of responses, idle connections and header size.
func newHTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
}

func portOf(addr string) string {
	if i := strings.LastIndex(addr, ":"); i >= 0 {
		return addr[i:]
	}
	return addr
}

// redactStore hides a password in a PostgreSQL or KurrentDB connection string
// for logs.
func redactStore(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" {
		if strings.Contains(s, "@") {
			return "(connection string hidden)"
		}
		return s
	}
	return u.Redacted()
}
