package execverified

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/slipway/actions/internal/exitcode"
)

// destination is where the checked bytes go: nothing (neither --copy nor
// --unpack), the copy in the fresh directory, or an unlinked file in it
// that the unpacking reads after the checks.
type destination struct {
	dir  string   // the fresh directory; "" for none
	f    *os.File // the copy, open for writing (and reading, for --unpack)
	path string   // the copy's name; "" once unlinked
}

// destination creates the fresh directory and the file the copy goes to.
func (o *Options) destination(src fs.FileInfo) (*destination, error) {
	dir := o.Copy
	if dir == "" {
		dir = o.Unpack
	}
	if dir == "" {
		return &destination{}, nil
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil, refuse(exitcode.Usage, CheckJobDir, "the job directory %q exists already; exec-verified creates it itself, so that nobody else put anything there: give a path that does not exist", dir)
		}
		return nil, refuse(exitcode.Internal, CheckJobDir, "creating the job directory: %v; its parent must exist and be writable", err)
	}
	d := &destination{dir: dir}
	name := filepath.Base(o.File)
	if o.Unpack != "" {
		name = ".slipway-artifact"
	}
	d.path = filepath.Join(dir, name)
	f, err := os.OpenFile(d.path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		d.discard()
		return nil, refuse(exitcode.Internal, CheckJobDir, "creating the copy in the job directory: %v", err)
	}
	d.f = f
	if o.Unpack != "" {
		// Unlinked at once: the unpacking reads this descriptor, and nobody
		// can open the checked copy by name.
		if err := os.Remove(d.path); err != nil {
			d.discard()
			return nil, refuse(exitcode.Internal, CheckJobDir, "unlinking the checked copy: %v", err)
		}
		d.path = ""
	}
	return d, nil
}

// tee is the writer the checks copy into; nil when there is no copy.
func (d *destination) tee() io.Writer {
	if d.f == nil {
		return nil
	}
	return d.f
}

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
		if err := os.RemoveAll(d.dir); err != nil {
			fmt.Fprintf(os.Stderr, "slipway exec-verified: removing %q: %v\n", d.dir, err)
		}
	}
}
