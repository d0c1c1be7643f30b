// Package pii keeps debtors' personal data out of the log in clear: it is
// sealed with AES-256-GCM under a data key per (creditor, customer number),
// and the data keys live outside the log, in a key store, wrapped by a
// master key. Destroying a debtor's data keys (crypto-shredding) makes
// every copy of that data unreadable, in the log, in exports and in
// backups, while the events, their hashes and every amount stay as they
// were: the hash chain covers the ciphertext.
package pii

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/google/uuid"
)

// Errors of the key store.
var (
	// ErrErased: the data key was destroyed (or never existed here): what it
	// sealed can no longer be read.
	ErrErased = errors.New("pii: the personal data was erased")
	// ErrWrongMasterKey: the master key does not open this key store.
	ErrWrongMasterKey = errors.New("pii: the master key does not open this key store (LEDGER_MASTER_KEY is not the key the store was made with)")
	// ErrNoMasterKey: the key store holds data keys and no master key was given.
	ErrNoMasterKey = errors.New("pii: the key store holds debtors' data keys but no master key was given (set LEDGER_MASTER_KEY or LEDGER_MASTER_KEY_FILE)")
)

// Keys is where data keys live. The embedded store keeps them in a
// directory of its own (FileKeys); another deployment may keep them in an
// external KMS behind the same interface.
type Keys interface {
	// Current returns the data key new data of (creditor, customer) is
	// sealed with, creating one when there is none (first data, or the last
	// was erased).
	Current(creditor, customer string) (id string, key []byte, err error)
	// Key returns a data key by its id; ErrErased when it was destroyed.
	Key(creditor, customer, id string) ([]byte, error)
	// Destroy destroys every data key of (creditor, customer) and says
	// whether there was any.
	Destroy(creditor, customer string) (bool, error)
	// Has says whether (creditor, customer) has a data key now.
	Has(creditor, customer string) (bool, error)
}

// MasterKeyLen is the length of a master key: AES-256.
const MasterKeyLen = 32

// ParseMasterKey reads a master key written as 64 hexadecimal digits or as
// base64 (standard or URL alphabet, padded or not) of 32 bytes.
func ParseMasterKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if b, err := hex.DecodeString(s); err == nil && len(b) == MasterKeyLen {
		return b, nil
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == MasterKeyLen {
			return b, nil
		}
	}
	return nil, errors.New("pii: a master key is 32 random bytes written as 64 hexadecimal digits or in base64 (openssl rand -hex 32)")
}

// NewMasterKey returns a fresh random master key, in hexadecimal.
func NewMasterKey() string {
	b := make([]byte, MasterKeyLen)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// FileKeys keeps data keys in a directory: one file per data key, under a
// directory per (creditor, customer) named by a hash of the two, each key
// wrapped (AES-256-GCM) by the master key with its owner and id as
// associated data. Every write is synced before it is relied on. A file
// check.key proves which master key the store was made with.
type FileKeys struct {
	dir    string
	master cipher.AEAD
	mu     sync.Mutex
	cache  map[string][]byte // owner hash + "/" + key id → data key
}

const checkFile = "check.key"

// checkPlain is what check.key seals: opening it proves the master key.
var checkPlain = []byte("collections-ledger key store")

// OpenFileKeys opens (creating it when absent) the key store in dir with a
// master key. ErrWrongMasterKey when the master key is not the store's.
func OpenFileKeys(dir string, master []byte) (*FileKeys, error) {
	aead, err := newAEAD(master)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(dir, "d"), 0o700); err != nil {
		return nil, fmt.Errorf("pii: the key store %s: %w", dir, err)
	}
	k := &FileKeys{dir: dir, master: aead, cache: map[string][]byte{}}
	check := filepath.Join(dir, checkFile)
	sealed, err := os.ReadFile(check)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if has, herr := HasKeys(dir); herr != nil || has {
			if herr == nil {
				herr = fmt.Errorf("pii: the key store %s holds data keys but no %s", dir, checkFile)
			}
			return nil, herr
		}
		if err := writeSynced(check, k.wrap(checkPlain, []byte(checkFile))); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, err
	default:
		if _, err := k.unwrap(sealed, []byte(checkFile)); err != nil {
			return nil, ErrWrongMasterKey
		}
	}
	return k, nil
}

// HasKeys says whether the key store in dir holds any data key (so that a
// ledger without a master key can refuse to start rather than serve data it
// cannot read).
func HasKeys(dir string) (bool, error) {
	entries, err := os.ReadDir(filepath.Join(dir, "d"))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	for _, e := range entries {
		files, err := os.ReadDir(filepath.Join(dir, "d", e.Name()))
		if err != nil {
			return false, err
		}
		if len(files) > 0 {
			return true, nil
		}
	}
	return false, nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != MasterKeyLen {
		return nil, fmt.Errorf("pii: a key is %d bytes, not %d", MasterKeyLen, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// wrap seals a data key under the master key: nonce, then ciphertext.
func (k *FileKeys) wrap(plain, aad []byte) []byte {
	nonce := make([]byte, k.master.NonceSize())
	_, _ = rand.Read(nonce)
	return k.master.Seal(nonce, nonce, plain, aad)
}

func (k *FileKeys) unwrap(sealed, aad []byte) ([]byte, error) {
	n := k.master.NonceSize()
	if len(sealed) < n {
		return nil, errors.New("pii: a wrapped key is too short")
	}
	return k.master.Open(nil, sealed[:n], sealed[n:], aad)
}

// owner names a debtor's directory: a hash, so no creditor or customer
// number appears in a file name.
func owner(creditor, customer string) string {
	h := sha256.Sum256([]byte(creditor + "\x00" + customer))
	return hex.EncodeToString(h[:16])
}

// keyAAD binds a wrapped data key to its owner (by the owner's hash, which
// names its directory) and its id.
func keyAAD(ownerHash, id string) []byte {
	return []byte("data-key\x00" + ownerHash + "\x00" + id)
}

func (k *FileKeys) ownerDir(creditor, customer string) string {
	return filepath.Join(k.dir, "d", owner(creditor, customer))
}

// Current implements Keys: the newest data key of the debtor, or a new one.
func (k *FileKeys) Current(creditor, customer string) (string, []byte, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	dir := k.ownerDir(creditor, customer)
	files, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", nil, err
	}
	for _, f := range files { // one key per debtor until it is destroyed
		if id, ok := strings.CutSuffix(f.Name(), ".key"); ok {
			key, err := k.load(creditor, customer, id)
			return id, key, err
		}
	}
	id := uuid.NewString()
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return "", nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", nil, err
	}
	if err := syncDir(filepath.Dir(dir)); err != nil {
		return "", nil, err
	}
	if err := writeSynced(filepath.Join(dir, id+".key"), k.wrap(key, keyAAD(owner(creditor, customer), id))); err != nil {
		return "", nil, err
	}
	k.cache[owner(creditor, customer)+"/"+id] = key
	return id, key, nil
}

// Key implements Keys.
func (k *FileKeys) Key(creditor, customer, id string) ([]byte, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.load(creditor, customer, id)
}

// load returns a data key, from the cache when its file is still there.
// Instances sharing the key directory (KurrentDB) cache keys each on their
// own and never see another's Destroy call, nor its erasure event until
// later: so a cached key is served only after a stat shows its file was
// not destroyed (measured in docs/PERFORMANCE.md), and leaves the cache
// when it was.
func (k *FileKeys) load(creditor, customer, id string) ([]byte, error) {
	cached := owner(creditor, customer) + "/" + id
	if _, err := uuid.Parse(id); err != nil {
		return nil, ErrErased
	}
	path := filepath.Join(k.ownerDir(creditor, customer), id+".key")
	if key, ok := k.cache[cached]; ok {
		_, err := os.Stat(path)
		if err == nil {
			return key, nil
		}
		delete(k.cache, cached)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, ErrErased
		}
		return nil, err
	}
	sealed, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrErased
	}
	if err != nil {
		return nil, err
	}
	key, err := k.unwrap(sealed, keyAAD(owner(creditor, customer), id))
	if err != nil {
		return nil, fmt.Errorf("pii: data key %s cannot be unwrapped with this master key (a key rotation left unfinished? run ledger rotate-master-key again): %w", id, err)
	}
	k.cache[cached] = key
	return key, nil
}

// Destroy implements Keys: the debtor's key files are removed and the
// removal synced; the keys leave the cache.
func (k *FileKeys) Destroy(creditor, customer string) (bool, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	dir := k.ownerDir(creditor, customer)
	files, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	for _, f := range files {
		delete(k.cache, owner(creditor, customer)+"/"+strings.TrimSuffix(f.Name(), ".key"))
		if err := os.Remove(filepath.Join(dir, f.Name())); err != nil {
			return false, err
		}
	}
	if err := syncDir(dir); err != nil {
		return false, err
	}
	if err := os.Remove(dir); err != nil {
		return false, err
	}
	return len(files) > 0, syncDir(filepath.Dir(dir))
}

// Has implements Keys.
func (k *FileKeys) Has(creditor, customer string) (bool, error) {
	files, err := os.ReadDir(k.ownerDir(creditor, customer))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return len(files) > 0, err
}

// Rotate re-wraps every data key under a new master key, without touching
// the log, then the check file; the store is then opened with the new key.
// Each file is replaced atomically, so an interrupted rotation is finished
// by running it again with the same two keys (files already under the new
// key are left as they are).
func Rotate(dir string, oldMaster, newMaster []byte) (rewrapped int, err error) {
	oldKeys, err := OpenFileKeys(dir, oldMaster)
	if err != nil {
		return 0, err
	}
	newAEADKey, err := newAEAD(newMaster)
	if err != nil {
		return 0, err
	}
	newKeys := &FileKeys{dir: dir, master: newAEADKey, cache: map[string][]byte{}}
	owners, err := os.ReadDir(filepath.Join(dir, "d"))
	if err != nil {
		return 0, err
	}
	// The check file says which master key opens the store: until the
	// rotation finishes it stays the old one; key files may be either.
	for _, o := range owners {
		files, err := os.ReadDir(filepath.Join(dir, "d", o.Name()))
		if err != nil {
			return rewrapped, err
		}
		for _, f := range files {
			id, isKey := strings.CutSuffix(f.Name(), ".key")
			if !isKey {
				continue
			}
			path := filepath.Join(dir, "d", o.Name(), f.Name())
			sealed, err := os.ReadFile(path)
			if err != nil {
				return rewrapped, err
			}
			aad := keyAAD(o.Name(), id)
			if _, err := newKeys.unwrap(sealed, aad); err == nil {
				continue // under the new key already
			}
			key, err := oldKeys.unwrap(sealed, aad)
			if err != nil {
				return rewrapped, err
			}
			if err := writeSynced(path, newKeys.wrap(key, aad)); err != nil {
				return rewrapped, err
			}
			rewrapped++
		}
	}
	return rewrapped, writeSynced(filepath.Join(dir, checkFile), newKeys.wrap(checkPlain, []byte(checkFile)))
}

// writeSynced writes a file atomically: a temporary file, synced, renamed
// over the name, and the directory synced.
func writeSynced(path string, b []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
