package pebbleutil

import (
	"io"
	"os"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// Modes of what the ledger writes on disk: its stores hold debtors' data
// (ciphertext, amounts, names of creditors), so only the ledger's own user
// reads them.
const (
	PrivateDir  os.FileMode = 0o700
	PrivateFile os.FileMode = 0o600
)

// PrivateFS is the operating system's file system as Pebble uses it, but
// every directory it creates is PrivateDir and every file PrivateFile
// (Pebble's own are 0755 and 0666 less the umask).
func PrivateFS() vfs.FS { return privateFS{vfs.Default} }

type privateFS struct{ vfs.FS }

func (p privateFS) Create(name string, category vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := p.FS.Create(name, category)
	return private(name, f, err)
}

func (p privateFS) OpenReadWrite(name string, category vfs.DiskWriteCategory, opts ...vfs.OpenOption) (vfs.File, error) {
	f, err := p.FS.OpenReadWrite(name, category, opts...)
	return private(name, f, err)
}

func (p privateFS) ReuseForWrite(oldname, newname string, category vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := p.FS.ReuseForWrite(oldname, newname, category)
	return private(newname, f, err)
}

func (p privateFS) Lock(name string) (io.Closer, error) {
	l, err := p.FS.Lock(name)
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(name, PrivateFile); err != nil {
		_ = l.Close()
		return nil, err
	}
	return l, nil
}

func (p privateFS) MkdirAll(dir string, _ os.FileMode) error { return p.FS.MkdirAll(dir, PrivateDir) }

// private narrows an opened file's mode to PrivateFile.
func private(name string, f vfs.File, err error) (vfs.File, error) {
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(name, PrivateFile); err != nil {
		_ = f.Close()
		return nil, err
	}
	return f, nil
}
