package execverified

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/slipway/actions/internal/exitcode"
)

// destination is where the checked bytes go: the copy in the fresh
// directory (--copy), or an in-memory file (memfd) that the command gets,
// sealed (no --copy, --unpack or --in-place).
type destination struct {
	dir  string   // the fresh directory; "" for none
	f    *os.File // the copy, open for writing (and reading)
	path string   // the copy's name in dir; "" for the in-memory copy
}

// destination creates the fresh directory and the file the copy goes to.
func (o *Options) destination() (*destination, error) {
	if o.Copy == "" {
		f, err := memFile(filepath.Base(o.File))
		if err != nil {
			return nil, refuse(exitcode.Internal, CheckJobDir, "creating the in-memory copy: %v", err)
		}
		return &destination{f: f}, nil
	}
	if err := mkdirFresh(o.Copy); err != nil {
		return nil, err
	}
	d := &destination{dir: o.Copy, path: filepath.Join(o.Copy, filepath.Base(o.File))}
	f, err := os.OpenFile(d.path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		d.discard()
		return nil, refuse(exitcode.Internal, CheckJobDir, "creating the copy in the job directory: %v", err)
	}
	d.f = f
	return d, nil
}

// mkdirFresh creates dir, which must not exist, for this job alone.
func mkdirFresh(dir string) error {
	if err := os.Mkdir(dir, 0o700); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return refuse(exitcode.Usage, CheckJobDir, "the job directory %q exists already; exec-verified creates it itself, so that nobody else put anything there: give a path that does not exist", dir)
		}
		return refuse(exitcode.Internal, CheckJobDir, "creating the job directory: %v; its parent must exist and be writable", err)
	}
	return nil
}

// tee is the writer the checks copy into.
func (d *destination) tee() io.Writer { return d.f }

// finish closes the copy read-only (executable when the staged file was)
// and returns its path.
func (d *destination) finish(srcMode fs.FileMode) (string, error) {
	if err := d.f.Close(); err != nil {
		return "", refuse(exitcode.Internal, CheckJobDir, "writing the copy %q: %v", d.path, err)
	}
	d.f = nil
	mode := fs.FileMode(0o400)
	if srcMode&0o111 != 0 {
		mode = 0o500
	}
	if err := os.Chmod(d.path, mode); err != nil {
		return "", refuse(exitcode.Internal, CheckJobDir, "making the copy %q read-only: %v", d.path, err)
	}
	return d.path, nil
}

// close closes the copy's descriptor if still open.
func (d *destination) close() {
	if d.f != nil {
		d.f.Close()
		d.f = nil
	}
}

// discard removes the fresh directory after a refusal: nothing of an
// unverified artifact stays.
func (d *destination) discard() {
	d.close()
	if d.dir != "" {
		removeDir(d.dir)
	}
}
