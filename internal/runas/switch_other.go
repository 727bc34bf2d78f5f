//go:build !linux

package runas

import "errors"

func switchTo(uid, gid int) error {
	return errors.New("switching users is only supported on Linux, where Docker actions run")
}
