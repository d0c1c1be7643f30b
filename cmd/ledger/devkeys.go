package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	httpapi "github.com/collections-ledger/ledger/http"
)

// developmentKeysFile is where development mode keeps its keys: beside the
// key store (and its development master key), in the data directory.
func (c config) developmentKeysFile() string { return c.keysDir() + ".development-api-keys" }

// developmentKeys returns development mode's keys for the creditor demo and
// the agency: made at the first start and kept in path (0600), then read
// from it at every later start, so a key a user exported keeps working
// after a restart. The file holds the two settings it stands for, so the
// same keys can be configured outright.
func developmentKeys(path string) (keys httpapi.Keys, creditorKey, agencyKey string, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		keys, creditorKey, agencyKey = httpapi.DevelopmentKeys()
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return keys, "", "", err
		}
		content := fmt.Sprintf("LEDGER_API_KEYS=demo=%s\nLEDGER_AGENCY_KEY=%s\n", creditorKey, agencyKey)
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return keys, "", "", err
		}
		if _, err := f.WriteString(content); err != nil {
			f.Close()
			return keys, "", "", err
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return keys, "", "", err
		}
		return keys, creditorKey, agencyKey, f.Close()
	}
	if err != nil {
		return keys, "", "", err
	}
	for _, line := range strings.Split(string(b), "\n") {
		name, value, _ := strings.Cut(strings.TrimSpace(line), "=")
		switch name {
		case "LEDGER_API_KEYS":
			creditorKey, _ = strings.CutPrefix(value, "demo=")
		case "LEDGER_AGENCY_KEY":
			agencyKey = value
		}
	}
	if !strings.HasPrefix(creditorKey, "dev_") || !strings.HasPrefix(agencyKey, "devagency_") {
		return keys, "", "", fmt.Errorf("%s does not hold development mode's keys (LEDGER_API_KEYS=demo=dev_… and LEDGER_AGENCY_KEY=devagency_…): remove it to have new ones made", path)
	}
	if keys, err = httpapi.ParseKeys("demo="+creditorKey, agencyKey); err != nil {
		return keys, "", "", fmt.Errorf("%s: %w", path, err)
	}
	return keys, creditorKey, agencyKey, nil
}
