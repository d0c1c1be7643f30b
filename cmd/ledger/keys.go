package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/collections-ledger/ledger/command"
	"github.com/collections-ledger/ledger/pii"
	"github.com/collections-ledger/ledger/projections"
	"github.com/collections-ledger/ledger/retention"
)

// personalFlags are the key store settings of the command-line tools that
// read debtors' personal data: the same as serve's.
type personalFlags struct {
	masterKey, masterKeyFile, keysDir string
}

func (p *personalFlags) register(fs *flag.FlagSet, getenv func(string) string) {
	envString(fs, &p.masterKey, "LEDGER_MASTER_KEY", getenv, "", "the key store's master key (to open debtors' sealed personal data)")
	envString(fs, &p.masterKeyFile, "LEDGER_MASTER_KEY_FILE", getenv, "", "a file holding the master key")
	envString(fs, &p.keysDir, "LEDGER_KEYS", getenv, "", "the key store's directory (default <store>.keys)")
}

// config returns the settings as serve's config has them.
func (p *personalFlags) config(location string) config {
	return config{Store: location, MasterKey: p.masterKey, MasterKeyFile: p.masterKeyFile, KeysDir: p.keysDir}
}

// open opens the key store when a master key is given; nil otherwise.
func (p *personalFlags) open(location string) (pii.Keys, error) {
	c := p.config(location)
	master, err := c.masterKey()
	if err != nil || master == nil {
		return nil, err
	}
	return pii.OpenFileKeys(c.keysDir(), master)
}

// rotateMasterKey re-wraps every data key of the key store under a new
// master key, without touching the log. Every ledger on the store must be
// stopped (the embedded store's lock proves it for that engine).
func rotateMasterKey(_ context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	var keyFlags personalFlags
	var newFile string
	store, location, code, ok := openForCLIAt("rotate-master-key", args, getenv, stderr, func(fs *flag.FlagSet) {
		keyFlags.register(fs, getenv)
		fs.StringVar(&newFile, "new-key-file", "", "a file holding the new master key (64 hex digits or base64 of 32 bytes)")
	})
	if !ok {
		return code
	}
	defer store.Close() // held open so that no embedded ledger runs meanwhile
	c := keyFlags.config(location)
	old, err := c.masterKey()
	if err == nil && old == nil {
		err = errors.New("give the current master key (LEDGER_MASTER_KEY or LEDGER_MASTER_KEY_FILE)")
	}
	if err != nil {
		fmt.Fprintln(stderr, "ledger rotate-master-key:", err)
		return 2
	}
	raw, err := os.ReadFile(newFile)
	if err != nil {
		fmt.Fprintln(stderr, "ledger rotate-master-key: -new-key-file:", err)
		return 2
	}
	newKey, err := pii.ParseMasterKey(string(raw))
	if err != nil {
		fmt.Fprintln(stderr, "ledger rotate-master-key:", err)
		return 2
	}
	dir := c.keysDir()
	if _, err := os.Stat(filepath.Join(dir, "check.key")); err != nil {
		fmt.Fprintf(stderr, "ledger rotate-master-key: %s is not a key store: %v\n", dir, err)
		return 2
	}
	if isSharedStore(location) {
		fmt.Fprintln(stderr, "ledger rotate-master-key: with a shared store (PostgreSQL or KurrentDB), stop every instance that shares this key store first")
	}
	n, err := pii.Rotate(dir, old, newKey)
	if err != nil {
		fmt.Fprintln(stderr, "ledger rotate-master-key:", err)
		return 1
	}
	fmt.Fprintf(stdout, "re-wrapped %d data keys in %s under the new master key; start the ledger with it from now on\n", n, dir)
	return 0
}

// retentionCmd lists (-dry-run) or erases the personal data whose retention
// after its debtor's last claim closed has passed, on a stopped ledger, as
// the reactor of a running one does every hour.
func retentionCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	var keyFlags personalFlags
	dryRun, asJSON := false, false
	var period string
	store, location, code, ok := openForCLIAt("retention", args, getenv, stderr, func(fs *flag.FlagSet) {
		keyFlags.register(fs, getenv)
		envString(fs, &period, "LEDGER_PERSONAL_DATA_RETENTION", getenv, "", "how long personal data is kept after its debtor's last claim closed (10y, 90d)")
		fs.BoolVar(&dryRun, "dry-run", false, "list what would be erased, erase nothing")
		fs.BoolVar(&asJSON, "json", false, "print the list as JSON")
	})
	if !ok {
		return code
	}
	defer store.Close()
	d, err := retention.ParseRetention(period)
	if err != nil {
		fmt.Fprintln(stderr, "ledger retention: LEDGER_PERSONAL_DATA_RETENTION:", err)
		return 2
	}
	keys, err := keyFlags.open(location)
	if err == nil && keys == nil {
		err = errors.New("give the master key (LEDGER_MASTER_KEY or LEDGER_MASTER_KEY_FILE): retention reads the key store")
	}
	if err != nil {
		fmt.Fprintln(stderr, "ledger retention:", err)
		return 2
	}
	views, err := catchUpViews(ctx, store, location, getenv("LEDGER_VIEWS"), false, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "ledger retention:", err)
		return 1
	}
	defer views.Close()
	var list []retention.Debtor
	verb := "would be erased"
	if dryRun {
		list, err = retention.Due(views, keys, d, time.Now())
	} else {
		verb = "erased"
		commands := command.NewHandler(store, projections.NewWriteIndex(views), nil)
		commands.Personal = keys
		list, err = retention.RunOnce(ctx, commands.Erase, views, keys, d, time.Now())
	}
	if asJSON {
		if list == nil {
			list = []retention.Debtor{}
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(list)
	} else {
		for _, x := range list {
			fmt.Fprintf(stdout, "%s\t%s\t%d claims, the last closed %s\n", x.CreditorID, x.CustomerNumber, x.Placements, x.LastClosedAt.UTC().Format(time.RFC3339))
		}
		fmt.Fprintf(stdout, "%d debtors' personal data %s (retention %s after the last claim closed)\n", len(list), verb, period)
	}
	if err != nil {
		fmt.Fprintln(stderr, "ledger retention:", err)
		return 1
	}
	return 0
}
