// Command ledger runs the collections ledger.
//
//	ledger serve    run the HTTP server (settings from the environment; flags of the same name override)
//	ledger version  print the version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/collections-ledger/ledger/eventstore"
)

var version = "dev"

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], getenv, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "ledger", version)
		return 0
	case "help", "-h", "--help":
		usage(stdout)
		return 0
	default:
		fmt.Fprintf(stderr, "ledger: unknown command %q\n", args[0])
		usage(stderr)
		return 2
	}
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage: ledger <command> [flags]

commands:
  serve     run the ledger's HTTP server
  version   print the version

Run "ledger serve -h" for its settings.
`)
}

// config is serve's settings: each comes from the environment variable of
// the same name, and a flag may override it.
type config struct {
	Addr  string
	Store string
}

func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	var c config
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.Addr, "LEDGER_ADDR", env("LEDGER_ADDR", ":8080"), "address to listen on")
	fs.StringVar(&c.Store, "LEDGER_STORE", env("LEDGER_STORE", "./data/ledger.db"),
		"embedded store directory, or a KurrentDB connection string (esdb://… or kurrentdb://…)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	return c, nil
}

func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	cfg, err := parseConfig(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		logger.Error("bad settings", "err", err)
		return 2
	}
	store, engine, err := openStore(cfg.Store, logger)
	if err != nil {
		logger.Error("cannot open the event store", "store", cfg.Store, "err", err)
		return 1
	}
	defer store.Close()
	logger.Info("event store open", "engine", engine, "store", redactStore(cfg.Store))

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"status":"ok"}`)
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		head, err := store.Head(r.Context())
		if err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, `{"status":"unavailable"}`)
			return
		}
		fmt.Fprintf(w, `{"status":"ready","head":%d}`, head)
	})
	srv := &http.Server{
		Addr:              cfg.Addr,
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	logger.Info("ledger listening", "addr", cfg.Addr)
	fmt.Fprintf(stdout, "ledger is listening on %s (store: %s, engine: %s)\n", cfg.Addr, redactStore(cfg.Store), engine)
	select {
	case err := <-errc:
		logger.Error("server stopped", "err", err)
		return 1
	case <-ctx.Done():
	}
	logger.Info("shutting down: finishing requests in flight")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		logger.Error("shutdown", "err", err)
		return 1
	}
	if err := store.Close(); err != nil && !errors.Is(err, eventstore.ErrClosed) {
		logger.Error("closing the event store", "err", err)
		return 1
	}
	logger.Info("stopped cleanly")
	return 0
}

// redactStore hides a password in a KurrentDB connection string for logs.
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
