//go:build unix

package stdio

import (
	"os"
	"syscall"
)

func setNonblock(f *os.File, on bool) error {
	return syscall.SetNonblock(int(f.Fd()), on)
}
