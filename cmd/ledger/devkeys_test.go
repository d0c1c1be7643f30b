package main

import (
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Development mode's keys are kept in the data directory: a key exported
// after the first start still opens the API after a restart.
func TestDevelopmentKeysSurviveARestart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ledger.db")
	file := config{Store: dir}.developmentKeysFile()
	get := func(base, key string) int {
		req, err := http.NewRequest("GET", base+"/v1/placements", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	base, stop := serveStoppable(t, dir, nil)
	b, err := os.ReadFile(file)
	require.NoError(t, err)
	key := regexp.MustCompile(`dev_[0-9a-f]+`).FindString(string(b))
	require.NotEmpty(t, key, "%s", b)
	info, err := os.Stat(file)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm(), "only its owner reads the keys")
	assert.Equal(t, http.StatusOK, get(base, key))
	stop()

	base, _ = serveStoppable(t, dir, nil)
	assert.Equal(t, http.StatusOK, get(base, key), "the same key after a restart")
	again, err := os.ReadFile(file)
	require.NoError(t, err)
	assert.Equal(t, string(b), string(again), "made once")
}

func TestDevelopmentKeysFile(t *testing.T) {
	for _, tc := range []struct {
		name, content, refusal string
	}{
		{"no file: made", "", ""},
		{"kept keys", "LEDGER_API_KEYS=demo=dev_0123456789abcdef0123\nLEDGER_AGENCY_KEY=devagency_0123456789abcdef\n", ""},
		{"not development keys", "LEDGER_API_KEYS=acme=0123456789abcdef0123\n", "does not hold development mode's keys"},
		{"a key too short", "LEDGER_API_KEYS=demo=dev_1\nLEDGER_AGENCY_KEY=devagency_0123456789abcdef\n", "at least 16 characters"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "data", "ledger.db.keys.development-api-keys")
			if tc.content != "" {
				require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o700))
				require.NoError(t, os.WriteFile(path, []byte(tc.content), 0o600))
			}
			_, creditor, agency, err := developmentKeys(path)
			if tc.refusal != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.refusal)
				return
			}
			require.NoError(t, err)
			_, creditor2, agency2, err := developmentKeys(path)
			require.NoError(t, err)
			assert.Equal(t, creditor, creditor2)
			assert.Equal(t, agency, agency2)
			assert.Regexp(t, `^dev_`, creditor)
			assert.Regexp(t, `^devagency_`, agency)
		})
	}
}
